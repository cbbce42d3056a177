"""Helpers shared by the command modules: archive options, one-line errors, site selection."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from newsarchive.archive.home import ArchiveHome

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2
EXIT_FAILED = 1


class UserError(click.ClickException):
    """One line for the user; exit status 2 (the user must act) unless told otherwise."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def archive_options(func: F) -> F:
    """``--home`` and ``--index-url`` (env NEWSARCHIVE_HOME / NEWSARCHIVE_INDEX_URL)."""
    func = click.option("--index-url", envvar="NEWSARCHIVE_INDEX_URL", default=None,
                        help="SQLAlchemy URL of the index (default: sqlite file in the home).")(func)
    func = click.option("--home", envvar="NEWSARCHIVE_HOME", default=None, type=click.Path(file_okay=False),
                        help="Archive home: WARCs and the default index (default: ./newsarchive-data).")(func)
    return func


def resolve_home(home: str | None, index_url: str | None) -> ArchiveHome:
    return ArchiveHome.resolve(home, index_url)


def existing_home(home: str | None, index_url: str | None, *, index: bool = True,
                  warcs: bool = False) -> ArchiveHome:
    """The home of a read command, refused (one line, exit 2) when it holds no archive.

    So a mistyped ``--home`` never creates an empty archive and answers "0 articles". ``index``: the
    index must exist (checked for an SQLite file; a server database is the operator's to name);
    ``warcs``: the home must have its ``warcs/`` directory.
    """
    archive = resolve_home(home, index_url)
    database = sqlite_file(archive.index_url)
    if index and database is not None and not database.is_file():
        raise UserError(f"no archive at {archive.root}: the index {database} does not exist "
                        "(mistyped --home or --index-url? a crawl creates it)")
    if warcs and not archive.warc_dir.is_dir():
        raise UserError(f"no archive at {archive.root}: it has no warcs/ directory (mistyped --home?)")
    return archive


def sqlite_file(index_url: str) -> Path | None:
    """The database file of an SQLite index URL; None for an in-memory or a server database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(index_url)
    except ArgumentError:
        return None  # open_index reports the bad URL
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def open_index(home: ArchiveHome) -> Any:
    """The index of ``home``, or one clear error line when the database cannot be used."""
    from newsarchive.archive.index import ArchiveIndex, IndexUnavailable

    try:
        return ArchiveIndex(home.index_url)
    except IndexUnavailable as exc:
        raise UserError(str(exc)) from exc


def friendly_errors(func: F) -> F:
    """Turn expected library errors into one line and exit status; keep tracebacks for --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from newsarchive.archive.index import IndexUnavailable
        from newsarchive.archive.warc import WarcReadError
        from newsarchive.crawler.sites import SitesConfigError

        try:
            return func(*args, **kwargs)
        except (IndexUnavailable, SitesConfigError, WarcReadError, OSError) as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            raise UserError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def log_level(ctx: click.Context) -> str:
    root = logging.getLogger().getEffectiveLevel()
    return logging.getLevelName(root) if root < logging.WARNING else "WARNING"


def parse_overrides(pairs: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--set {pair!r}: expected NAME=VALUE")
        out.append((name.strip(), value))
    return out


def select_sites(targets: tuple[str, ...], sites_file: str | None, max_pages: int | None, depth: int | None) -> Any:
    from newsarchive.crawler.sites import SiteConfig, SitesConfigError, load_sites, select_sites, with_limits

    if sites_file:
        sites = select_sites(load_sites(sites_file), list(targets), sites_file)
    elif targets:
        try:
            sites = [SiteConfig.from_urls([t]) for t in targets]
        except SitesConfigError as exc:
            raise UserError(str(exc).replace("url: ", "")) from exc
    else:
        raise UserError("give one or more URLs, or --sites sites.toml (see --help)")
    return [with_limits(s, max_pages=max_pages, depth=depth) for s in sites]


def print_crawl(result: Any, home: ArchiveHome) -> None:
    click.echo(f"run {result.run_id}: {result.reason}; {result.pages} pages archived, "
               f"{result.articles} articles indexed, {len(result.failures)} fetch failures")
    click.echo(f"archive: {home.root}  index: {home.index_url.split('@')[-1]}")
