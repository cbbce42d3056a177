"""The ``newsarchive`` command: one group, each subcommand a thin wrapper over one library call.

Errors are one clear line on stderr and a non-zero exit, never a traceback (``--debug`` shows it).
Progress goes to stderr, data to stdout.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from newsarchive import __version__
from newsarchive.archive.home import ArchiveHome

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USAGE = 2
EXIT_FAILED = 1


class UserError(click.ClickException):
    """One line for the user; exit status 2 (the user must act) unless told otherwise."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code

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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="newsarchive")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def cli(verbose: int, debug: bool) -> None:
    """Crawl news sites politely, archive every fetch to WARC, extract and index the articles.

    \b
    Example:
      newsarchive demo
    """
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main() -> None:
    cli(prog_name="newsarchive")
