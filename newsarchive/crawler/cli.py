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


def _log_level(ctx: click.Context) -> str:
    root = logging.getLogger().getEffectiveLevel()
    return logging.getLevelName(root) if root < logging.WARNING else "WARNING"


def _print_crawl(result: Any, home: ArchiveHome) -> None:
    click.echo(f"run {result.run_id}: {result.reason}; {result.pages} pages archived, "
               f"{result.articles} articles indexed, {len(result.failures)} fetch failures")
    click.echo(f"archive: {home.root}  index: {home.index_url.split('@')[-1]}")


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("--sites", "sites_file", type=click.Path(dir_okay=False),
              help="sites.toml; TARGETS are then site names (default: all sites).")
@click.option("--spider", type=click.Choice(["news", "feeds", "sitemaps", "sections"]), default="news",
              show_default=True, help="Crawl strategy: news combines feeds, sitemaps and section pages.")
@click.option("--max-pages", type=click.IntRange(min=0), help="Requests per site at most (0: no limit).")
@click.option("--depth", type=click.IntRange(min=0), help="Link depth from the start pages.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy or NEWSARCHIVE_ setting, e.g. -s DOWNLOAD_DELAY=2.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Crawler processes sharing one queue in Redis (see newsarchive worker).")
@click.option("--redis-url", envvar="NEWSARCHIVE_REDIS_URL", default="redis://127.0.0.1:6379/0", show_default=True,
              help="Redis for --workers > 1 (env NEWSARCHIVE_REDIS_URL).")
@archive_options
@click.pass_context
@friendly_errors
def crawl(ctx: click.Context, targets: tuple[str, ...], sites_file: str | None, spider: str,
          max_pages: int | None, depth: int | None, overrides: tuple[str, ...], workers: int, redis_url: str,
          home: str | None, index_url: str | None) -> None:
    """Crawl news sites: feeds, sitemaps and section pages; archive every response to WARC; index articles.

    \b
    Examples:
      newsarchive crawl https://www.example-news.org/
      newsarchive crawl --sites sites.toml demo-courier --max-pages 200
      newsarchive crawl --sites sites.toml --workers 4 --index-url postgresql://archive@db/news
    """
    if workers > 1:
        from newsarchive.crawler.distributed import DistributedConfigError, crawl_with_local_workers

        argv = [*targets, *(["--sites", sites_file] if sites_file else []), "--spider", spider,
                *(["--max-pages", str(max_pages)] if max_pages is not None else []),
                *(["--depth", str(depth)] if depth is not None else []), *(a for o in overrides for a in ("-s", o))]
        try:
            ok = crawl_with_local_workers(argv, resolve_home(home, index_url), workers=workers, redis_url=redis_url)
        except DistributedConfigError as exc:
            raise UserError(str(exc)) from exc
        if not ok:
            raise UserError("nothing could be fetched by any worker", exit_code=EXIT_FAILED)
        return
    from newsarchive.crawler.runner import CrawlOptions, run_crawl

    sites = _select_sites(targets, sites_file, max_pages, depth)
    settings = dict(_parse_overrides(overrides))
    archive = resolve_home(home, index_url)
    result = run_crawl(sites, archive, CrawlOptions(spider=spider, log_level=_log_level(ctx), settings=settings))
    _print_crawl(result, archive)
    if result.pages == 0:
        detail = "; ".join(f"{u}: {r}" for u, r in result.failures[:3]) or result.reason
        raise UserError(f"nothing could be fetched ({detail})", exit_code=EXIT_FAILED)


def _parse_overrides(pairs: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--set {pair!r}: expected NAME=VALUE")
        out.append((name.strip(), value))
    return out


@cli.command()
@click.argument("url")
@click.option("--text/--no-text", default=True, help="Print the article text (default) or metadata only.")
@archive_options
@friendly_errors
def show(url: str, text: bool, home: str | None, index_url: str | None) -> None:
    """Print the newest archived article for URL (exact or canonical URL).

    \b
    Example:
      newsarchive show https://www.example-news.org/politik/story-123.html
    """
    from newsarchive.archive.urls import canonicalize

    index = open_index(resolve_home(home, index_url))
    article = index.latest_article(url) or index.latest_article(canonicalize(url))
    if article is None:
        raise UserError(f"no archived article for {url} (try: newsarchive stats)", exit_code=EXIT_FAILED)
    capture = index.capture(article.capture_id)
    for label, value in (
        ("title", article.title), ("author", article.author), ("published", article.published),
        ("date source", article.date_source), ("language", article.language), ("site", article.site),
        ("url", article.url), ("canonical", article.canonical_url), ("fetched", article.fetched_at),
        ("words", article.word_count), ("warc", f"{capture.warc_file}@{capture.warc_offset}" if capture else None),
        ("record", capture.record_id if capture else None), ("extractor", article.extractor_version),
    ):
        if value not in (None, ""):
            click.echo(f"{label + ':':<13}{value}")
    if text:
        click.echo("")
        click.echo(article.text)


@cli.command()
@click.argument("url")
@click.option("--list", "list_only", is_flag=True, help="List the versions instead of diffing them.")
@click.option("--from", "old", type=int, default=-2, show_default=True, help="Version number (1 = first, -1 = newest).")
@click.option("--to", "new", type=int, default=-1, show_default=True, help="Version number to compare with.")
@archive_options
@friendly_errors
def diff(url: str, list_only: bool, old: int, new: int, home: str | None, index_url: str | None) -> None:
    """Show what changed between archived versions of an article (unified diff of the extracted text).

    \b
    Examples:
      newsarchive diff https://www.example-news.org/politik/story-123.html
      newsarchive diff URL --list
    """
    from newsarchive.archive.versions import text_diff

    versions = open_index(resolve_home(home, index_url)).article_versions(url)
    if not versions:
        raise UserError(f"no archived article for {url}", exit_code=EXIT_FAILED)
    if list_only or len(versions) == 1:
        for number, version in enumerate(versions, 1):
            click.echo(f"{number:3d}  {version.fetched_at:%Y-%m-%d %H:%M:%S}  {version.word_count:6d} words  "
                       f"{(version.text_hash or '')[:12]}  {version.title or ''}")
        if len(versions) == 1 and not list_only:
            click.echo("only one version archived: nothing to compare", err=True)
        return
    try:
        a, b = versions[old - 1 if old > 0 else old], versions[new - 1 if new > 0 else new]
    except IndexError as exc:
        raise UserError(f"there are {len(versions)} versions; --from/--to must be 1..{len(versions)} or "
                        f"-1..-{len(versions)}") from exc
    click.echo(text_diff(a, b), nl=False)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@archive_options
@friendly_errors
def stats(as_json: bool, home: str | None, index_url: str | None) -> None:
    """Summarise the archive: runs, captures, articles per site, WARC files and bytes.

    \b
    Example:
      newsarchive stats --home ./newsarchive-data
    """
    import dataclasses
    import json

    summary = open_index(resolve_home(home, index_url)).stats()
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(summary), default=str, indent=2))
        return
    click.echo(f"crawl runs:     {summary.runs}")
    click.echo(f"captures:       {summary.captures}  ({summary.first_fetch} .. {summary.last_fetch})")
    click.echo(f"articles:       {summary.articles_ok} ok, {summary.articles_failed} without article text")
    click.echo(f"WARC files:     {summary.warc_files}, {summary.warc_bytes / 1e6:.1f} MB")
    click.echo("HTTP status:    " + ", ".join(f"{code}: {n}" for code, n in summary.by_status))
    for site, n in summary.by_site:
        click.echo(f"  {n:6d}  {site}")



@cli.command()
@click.argument("targets", nargs=-1)
@click.option("--sites", "sites_file", required=True, type=click.Path(dir_okay=False),
              help="sites.toml; each site's `schedule` is a cron expression or an interval (45m, 6h, 1d).")
@click.option("--once", is_flag=True, help="Run the sites that are due, then exit (for cron or systemd timers).")
@click.option("--max-concurrent", type=click.IntRange(min=1), default=2, show_default=True,
              help="Crawls running at the same time at most (sites sharing a host never overlap).")
@click.option("--misfire-grace", type=click.IntRange(min=1), default=None, metavar="SECONDS",
              help="Skip a run that could not start within SECONDS of its time (default: run it late, once).")
@click.option("--stop-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True, metavar="SECONDS",
              help="On SIGTERM/Ctrl-C, how long running crawls may take to close before they are killed.")
@click.option("--default-schedule", default="1h", show_default=True,
              help="Schedule of sites without one (and without [defaults] schedule).")
@click.option("--timezone", default=None, help="Time zone of cron expressions (default: the local zone).")
@archive_options
@friendly_errors
def schedule(targets: tuple[str, ...], sites_file: str, once: bool, max_concurrent: int, misfire_grace: int | None,
             stop_timeout: float, default_schedule: str, timezone: str | None, home: str | None,
             index_url: str | None) -> None:
    """Crawl the sites of sites.toml (all, or TARGETS) on their schedules until SIGTERM or Ctrl-C.

    Schedules and next run times are kept in the index database and survive restarts; each crawl
    runs in its own process, its outcome is listed by `newsarchive runs`.

    \b
    Examples:
      newsarchive -v schedule --sites sites.toml
      newsarchive schedule --sites sites.toml --once     # from cron: run what is due, then exit
    """
    from newsarchive.crawler.scheduling import CrawlScheduler, ScheduleError, ScheduleOptions
    from newsarchive.crawler.sites import load_sites, select_sites

    sites = select_sites(load_sites(sites_file), list(targets), sites_file)
    archive = resolve_home(home, index_url)
    open_index(archive).close()
    options = ScheduleOptions(max_concurrent=max_concurrent, misfire_grace=misfire_grace, stop_timeout=stop_timeout,
                              default_schedule=default_schedule, timezone=timezone)
    try:
        scheduler = CrawlScheduler(sites, sites_file, archive, options)
    except ScheduleError as exc:
        raise UserError(str(exc)) from exc
    with scheduler.stop_on_signals():
        if not once:
            click.echo(f"scheduling {len(sites)} site(s); stop with Ctrl-C or SIGTERM", err=True)
            scheduler.run_forever()
            return
        outcomes = scheduler.run_due()
    for outcome in outcomes:
        click.echo(f"{outcome.site}: {outcome.status} (exit {outcome.exit_code}, run {outcome.crawl_run_id})")
    failed = [o.site for o in outcomes if o.failed]
    if failed:
        raise UserError(f"{len(failed)} of {len(outcomes)} crawls did not succeed: {', '.join(failed)} "
                        f"(see newsarchive runs)", exit_code=EXIT_FAILED)


@cli.command("runs")
@click.option("--site", help="Only the runs of this site.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest runs to list.")
@click.option("--health-window", type=click.IntRange(min=1), default=3, show_default=True, metavar="N",
              help="Flag a site as stale when its last N runs found no new articles.")
@archive_options
@friendly_errors
def runs_command(site: str | None, limit: int, health_window: int, home: str | None, index_url: str | None) -> None:
    """List crawl runs, newest first: start, duration, status, pages, articles (new), errors; flag stale sites.

    \b
    Example:
      newsarchive runs --site demo-courier --limit 10
    """
    from newsarchive.archive.runs import history_table, run_history, site_health

    index = open_index(resolve_home(home, index_url))
    records = run_history(index, site=site, limit=limit)
    if not records:
        click.echo("no runs yet" + (f" for {site}" if site else ""), err=True)
        return
    health = site_health(index, sorted({r.site for r in records}), window=health_window)
    for line in history_table(records, health):
        click.echo(line)


@cli.command()
@click.argument("sites", nargs=-1)
@click.option("--learn", is_flag=True, help="Learn the templates again from the articles the index holds.")
@click.option("--fresh", is_flag=True, help="With --learn: forget the lines learned before.")
@click.option("--show-lines", is_flag=True, help="Print each template line.")
@archive_options
@friendly_errors
def templates(sites: tuple[str, ...], learn: bool, fresh: bool, show_lines: bool, home: str | None,
              index_url: str | None) -> None:
    """Site templates: text lines that recur on many pages of a site are its chrome, not article text.

    Crawls learn them when they close and apply them to later pages; `newsarchive reextract` applies
    them to archived pages. Without SITES: every site with articles.

    \b
    Examples:
      newsarchive templates --show-lines
      newsarchive templates --learn nx24 && newsarchive reextract --site nx24
    """
    from sqlalchemy import select

    from newsarchive.archive.index import Article
    from newsarchive.archive.templates import TemplateModel, load

    index = open_index(resolve_home(home, index_url))
    if not sites:
        with index.sessions() as s:
            sites = tuple(s.scalars(select(Article.site).distinct().order_by(Article.site)))
    for site in sites:
        model = TemplateModel.learn(index, site, fresh=fresh) if learn else load(index, site)
        if learn:
            model.save(index)
        click.echo(f"{site}: {len(model.entries)} template lines from {model.pages} pages")
        for entry in model.entries if show_lines else ():
            click.echo(f"  {entry.pages:5d} pages  {entry.text[:100]}")


DEMO_MARKER = ".newsarchive-demo"


@cli.command()
@click.option("--home", default="newsarchive-demo", show_default=True, type=click.Path(file_okay=False),
              help="Where the demo archive goes; a previous demo archive there is replaced.")
@click.option("--serve-only", is_flag=True, help="Only serve the demo sites (until Ctrl-C) and print their URLs.")
@click.pass_context
@friendly_errors
def demo(ctx: click.Context, home: str, serve_only: bool) -> None:
    """Serve the bundled demo news sites on 127.0.0.1, crawl them, archive, index and export them.

    Five outlets publish stories of one news event, with the chrome real sites carry (cookie banner,
    teasers, comments, newsletter box, audio player notice), feeds, sitemaps and robots.txt.

    \b
    Example:
      newsarchive demo --home /tmp/newsarchive-demo
    """
    import shutil
    from pathlib import Path

    from newsarchive.crawler.runner import CrawlOptions, run_crawl
    from newsarchive.crawler.sites import load_sites
    from newsarchive.demo.server import serve_demo

    root = Path(home).resolve()
    if root.exists() and any(root.iterdir()):
        if not (root / DEMO_MARKER).exists():
            raise UserError(f"{root} exists and is not a demo archive; choose another --home")
        shutil.rmtree(root)
    with serve_demo() as server:
        if serve_only:
            _serve_forever(server)
            return
        root.mkdir(parents=True, exist_ok=True)
        (root / DEMO_MARKER).write_text("created by `newsarchive demo`; replaced by the next demo run\n")
        sites_file = root / "demo-sites.toml"
        sites_file.write_text(server.sites_toml(), encoding="utf-8")
        click.echo(f"serving {len(server.sites)} demo sites on 127.0.0.1; crawling them into {root}", err=True)
        archive = resolve_home(str(root), f"sqlite:///{root / 'index.sqlite'}")
        options = CrawlOptions(log_level=_log_level(ctx), settings={
            "DOWNLOAD_DELAY": 0.05, "AUTOTHROTTLE_START_DELAY": 0.05, "NEWSARCHIVE_PROGRESS_INTERVAL": 5.0})
        result = run_crawl(list(load_sites(sites_file).values()), archive, options)
    _print_crawl(result, archive)
    _print_articles(archive)
    _demo_export(archive)


def _serve_forever(server: Any) -> None:
    import time

    for name, url in server.sites.items():
        click.echo(f"{name:<20} {url}")
    click.echo("serving until Ctrl-C", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def _print_articles(archive: ArchiveHome) -> None:
    index = open_index(archive)
    click.echo("")
    click.echo(f"{'site':<18}{'published':<12}{'words':>6}  title")
    for article in index.articles():
        date = f"{article.published:%Y-%m-%d}" if article.published else "-"
        click.echo(f"{article.site[:17]:<18}{date:<12}{article.word_count:>6}  {(article.title or '')[:70]}")
    index.close()


def _demo_export(archive: ArchiveHome) -> None:
    try:
        from newsarchive.archive.export import ExportOptions, export_dataset
    except ImportError:
        return
    out = archive.root / "export"
    result = export_dataset(open_index(archive), out, ExportOptions(progress=False), warc_dir=archive.warc_dir)
    click.echo(f"\nexported {result.rows} articles to {out}: {', '.join(result.files)} "
               f"(JSONL with provenance) and the dataset card {result.card.name}")


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("--sites", "sites_file", type=click.Path(dir_okay=False),
              help="sites.toml; TARGETS are then site names (default: all sites).")
@click.option("--spider", type=click.Choice(["news", "feeds", "sitemaps", "sections"]), default="news",
              show_default=True, help="Crawl strategy (the same on every worker of a crawl).")
@click.option("--max-pages", type=click.IntRange(min=0), help="Requests per site at most, per worker.")
@click.option("--depth", type=click.IntRange(min=0), help="Link depth from the start pages.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Override a setting.")
@click.option("--redis-url", envvar="NEWSARCHIVE_REDIS_URL", required=True,
              help="Redis holding the crawl's queue and duplicate filter (env NEWSARCHIVE_REDIS_URL).")
@click.option("--crawl", "crawl_name", envvar="NEWSARCHIVE_REDIS_CRAWL", default="main", show_default=True,
              help="Name of the shared crawl to join (env NEWSARCHIVE_REDIS_CRAWL).")
@click.option("--worker-id", envvar="NEWSARCHIVE_WORKER_ID", default=None,
              help="Unique per running worker; in WARC file names (env NEWSARCHIVE_WORKER_ID; default: host name).")
@click.option("--result-json", type=click.Path(dir_okay=False), hidden=True)
@archive_options
@click.pass_context
@friendly_errors
def worker(ctx: click.Context, targets: tuple[str, ...], sites_file: str | None, spider: str, max_pages: int | None,
           depth: int | None, overrides: tuple[str, ...], redis_url: str, crawl_name: str, worker_id: str | None,
           result_json: str | None, home: str | None, index_url: str | None) -> None:
    """Join a crawl shared through Redis; run on as many machines as you like, with one PostgreSQL index.

    Every worker of a crawl gets the same sites; one of them seeds the queue, all fetch from it, each
    writes WARC files of its own. The worker exits when the whole crawl is done.

    \b
    Example:
      newsarchive worker --sites sites.toml --redis-url redis://queue:6379/0 \\
          --index-url postgresql://archive@db/news --home /srv/archive --worker-id node2
    """
    from newsarchive.crawler.distributed import DistributedConfigError, run_worker

    sites = _select_sites(targets, sites_file, max_pages, depth)
    try:
        result = run_worker(sites, resolve_home(home, index_url), spider=spider, log_level=_log_level(ctx),
                            overrides=dict(_parse_overrides(overrides)), redis_url=redis_url, crawl=crawl_name,
                            worker_id=worker_id, result_json=result_json)
    except DistributedConfigError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"worker {result['worker']}: {result['reason']}; {result['pages']} pages archived, "
               f"{result['articles']} articles indexed (run {result['run_id']})")


def _select_sites(targets: tuple[str, ...], sites_file: str | None, max_pages: int | None, depth: int | None) -> Any:
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


@cli.group()
def db() -> None:
    """Index database schema (Alembic migrations; SQLite and PostgreSQL)."""


@db.command("upgrade")
@archive_options
@friendly_errors
def db_upgrade(home: str | None, index_url: str | None) -> None:
    """Migrate the index database to the newest schema (a database from before migrations is adopted).

    \b
    Example:
      newsarchive db upgrade --index-url postgresql://archive@db/news
    """
    from newsarchive.archive.index import make_engine
    from newsarchive.archive.schema import current_revision, ensure_schema

    engine = make_engine(resolve_home(home, index_url).ensure().index_url)
    before = current_revision(engine)
    after = ensure_schema(engine)
    click.echo(f"schema {before or 'none'} -> {after}" if before != after else f"schema {after} (up to date)")
    engine.dispose()


@db.command("current")
@archive_options
@friendly_errors
def db_current(home: str | None, index_url: str | None) -> None:
    """Print the schema revision of the index database and the newest one this version knows.

    \b
    Example:
      newsarchive db current
    """
    from newsarchive.archive.index import make_engine
    from newsarchive.archive.schema import current_revision, head_revision

    engine = make_engine(resolve_home(home, index_url).ensure().index_url)
    current, head = current_revision(engine), head_revision()
    click.echo(f"current: {current or 'none (run: newsarchive db upgrade)'}\nhead:    {head}")
    engine.dispose()


# -- archive: replay, search, cdxj, reindex, reextract, verify (issue 6) ------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep it loopback).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8080, show_default=True,
              help="Port (0: any free port).")
@archive_options
@friendly_errors
def replay(host: str, port: int, home: str | None, index_url: str | None) -> None:
    """Serve the archive over HTTP: wayback-style replay (/web/TIMESTAMP/URL) and article search.

    Archived pages come back with their original status, headers and bytes, links rewritten into the
    archive and sandboxed by CSP; /web/*/URL lists the captures of a URL; / searches the articles.

    \b
    Example:
      newsarchive replay --home ./newsarchive-data --port 8080
    """
    from newsarchive.archive.replay import ReplayOptions, ReplayServer

    archive = resolve_home(home, index_url)
    server = ReplayServer(open_index(archive), archive.warc_dir, ReplayOptions(host=host, port=port))
    click.echo(f"replaying {archive.root} on {server.url}/ (search) and {server.url}/web/URL; Ctrl-C stops",
               err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@cli.command()
@click.argument("words", nargs=-1)
@click.option("--site", help="Only articles of this site (its name in sites.toml).")
@click.option("--lang", "language", help="Only articles in this language (ISO 639-1, e.g. de).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after (YYYY-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@archive_options
@friendly_errors
def search(words: tuple[str, ...], site: str | None, language: str | None, date_from: Any, date_to: Any, limit: int,
           home: str | None, index_url: str | None) -> None:
    """Full-text search over the archived articles (every word must occur; word* matches prefixes).

    \b
    Example:
      newsarchive search hafen brücke --lang de --from 2024-03-01
    """
    from datetime import UTC, timedelta

    from newsarchive.archive.search import (
        MARK_END,
        MARK_START,
        SearchQuery,
        ensure_search_index,
        search_articles,
    )

    index = open_index(resolve_home(home, index_url))
    ensure_search_index(index.engine)
    query = SearchQuery(q=" ".join(words), site=site, language=language,
                        date_from=date_from.replace(tzinfo=UTC) if date_from else None,
                        date_to=(date_to.replace(tzinfo=UTC) + timedelta(days=1, microseconds=-1)) if date_to else None,
                        limit=limit)
    results = search_articles(index, query)
    click.echo(f"{results.total} article(s)", err=True)
    for hit in results.hits:
        date = f"{hit.published:%Y-%m-%d}" if hit.published else "-"
        snippet = " ".join(hit.snippet.replace(MARK_START, "[").replace(MARK_END, "]").split())
        click.echo(f"{date}  {hit.site}  {hit.title}\n    {hit.url}\n    {snippet}")


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="CDXJ file (default: stdout).")
@archive_options
@friendly_errors
def cdxj(output: str | None, home: str | None, index_url: str | None) -> None:
    """Write a sorted CDXJ index of the closed WARC files, for pywb and other replay tools.

    \b
    Example (pywb):
      wb-manager init news && cp newsarchive-data/warcs/*.warc.gz collections/news/archive/
      newsarchive cdxj -o collections/news/indexes/index.cdxj && wayback -b 127.0.0.1 -p 8080
    """
    from newsarchive.archive.cdxj import write_cdxj

    archive = resolve_home(home, index_url)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            summary = write_cdxj(archive.warc_dir, fh)
    else:
        summary = write_cdxj(archive.warc_dir, sys.stdout)
    click.echo(f"{summary.lines} records of {summary.files} WARC files indexed", err=True)


@cli.command()
@archive_options
@friendly_errors
def reindex(home: str | None, index_url: str | None) -> None:
    """Rebuild the index (which must be empty) from the WARC files of the archive home alone.

    \b
    Example:
      newsarchive reindex --home ./newsarchive-data --index-url sqlite:///rebuilt.sqlite
    """
    from newsarchive.archive.reindex import ReindexError
    from newsarchive.archive.reindex import reindex as rebuild

    archive = resolve_home(home, index_url)
    try:
        report = rebuild(open_index(archive), archive.warc_dir,
                         progress=lambda path: click.echo(f"reading {path.name}", err=True))
    except ReindexError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"{report.files} files, {report.records} records: {report.captures} captures, "
               f"{report.articles} articles indexed")
    for problem in report.problems:
        click.echo(f"unreadable: {problem.path} at offset {problem.offset}: {problem.reason}", err=True)
    if report.problems:
        raise UserError(f"{len(report.problems)} file(s) could not be read to the end", exit_code=EXIT_FAILED)


@cli.command()
@click.option("--site", "sites", multiple=True, help="Only articles of this site (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many articles.")
@click.option("--no-warc", is_flag=True, help="Update the index only; do not append metadata records to the WARCs.")
@archive_options
@friendly_errors
def reextract(sites: tuple[str, ...], limit: int | None, no_warc: bool, home: str | None,
              index_url: str | None) -> None:
    """Re-run article extraction over the archived responses (no network) and record the extractor version.

    \b
    Example:
      newsarchive reextract --site demo-courier
    """
    from newsarchive.crawler.reextract import ReextractOptions
    from newsarchive.crawler.reextract import reextract as run

    archive = resolve_home(home, index_url)
    report = run(open_index(archive), archive.warc_dir,
                 ReextractOptions(sites=sites, write_warc=not no_warc, limit=limit))
    click.echo(f"{report.articles} articles re-extracted with {report.extractor_version}: {report.changed} changed, "
               f"{report.ok} ok, {report.failed} without article text, {report.unreadable} unreadable")


@cli.command()
@archive_options
@friendly_errors
def verify(home: str | None, index_url: str | None) -> None:
    """Check every WARC record: whole gzip members, digests, and that the index and the files agree.

    Problems are printed one per line with file and offset; the exit status is 1 when there are any.

    \b
    Example:
      newsarchive verify --home ./newsarchive-data
    """
    from newsarchive.archive.verify import verify_archive

    archive = resolve_home(home, index_url)
    report = verify_archive(open_index(archive), archive.warc_dir)
    for problem in report.problems:
        click.echo(str(problem))
    click.echo(f"{report.files} files, {report.records} records, {report.captures} index rows checked: "
               f"{len(report.problems)} problem(s)", err=True)
    if report.problems:
        raise UserError(f"the archive has {len(report.problems)} problem(s)", exit_code=EXIT_FAILED)


@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--gzip", "compress", is_flag=True, help="Gzip JSONL/CSV files (Parquet is compressed inside).")
@click.option("--site", "sites", multiple=True, help="Only articles of this site (repeatable).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="From this day on (YYYY-MM-DD, UTC).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Up to and including this day (YYYY-MM-DD, UTC).")
@click.option("--date-field", type=click.Choice(["published", "fetched"]), default="published", show_default=True,
              help="Which date --since/--until and the card's months use.")
@click.option("--language", "languages", multiple=True, help="Only this language, e.g. de (repeatable).")
@click.option("--min-words", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--status", type=click.Choice(["ok", "failed", "any"]), default="ok", show_default=True,
              help="Extraction status of the rows.")
@click.option("--dedup", type=click.Choice(["none", "exact", "near"]), default="none", show_default=True,
              help="exact: one row per text; near: one row per story (wire copies at several sites).")
@click.option("--max-rows", type=click.IntRange(min=1), help="Rows per file at most (more files otherwise).")
@click.option("--max-bytes", type=click.IntRange(min=1), help="Start a new file once one reaches this size.")
@click.option("--with-warc", is_flag=True, help="Also copy the WARC records of the exported captures.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@archive_options
@friendly_errors
def export(out_dir: str, fmt: str, compress: bool, sites: tuple[str, ...], since: Any, until: Any, date_field: str,
           languages: tuple[str, ...], min_words: int, status: str, dedup: str, max_rows: int | None,
           max_bytes: int | None, with_warc: bool, quiet: bool, home: str | None, index_url: str | None) -> None:
    """Export articles as a dataset (JSONL, CSV or Parquet) with provenance and a README.md dataset card.

    \b
    Example:
      newsarchive export ./dataset --format parquet --site demo-courier --since 2024-01-01 --dedup near
    """
    from datetime import UTC, timedelta

    from newsarchive.archive.export import ExportError, ExportFilters, ExportOptions, export_dataset

    archive = resolve_home(home, index_url)
    filters = ExportFilters(
        sites=sites, since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) + timedelta(days=1) if until else None, date_field=date_field,
        languages=languages, min_words=min_words, status=None if status == "any" else status)
    options = ExportOptions(format=fmt, gzip=compress, dedup=dedup, max_rows=max_rows, max_bytes=max_bytes,
                            with_warc=with_warc, progress=not quiet)
    try:
        result = export_dataset(open_index(archive), out_dir, filters=filters, options=options,
                                warc_dir=archive.warc_dir)
    except ExportError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"exported {result.rows} rows to {len(result.files)} data files in {result.out_dir} "
               f"({result.duplicates_skipped} duplicates skipped, {result.warc_records} WARC records)")


@cli.command()
@click.option("--min-size", type=click.IntRange(min=1), default=2, show_default=True,
              help="Only stories with at least this many articles.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=0.15, show_default=True,
              help="Similarity (shingle overlap) for an article to join a story.")
@click.option("--rebuild", is_flag=True, help="Forget all stories and cluster every article again.")
@archive_options
@friendly_errors
def stories(min_size: int, limit: int, threshold: float, rebuild: bool, home: str | None,
            index_url: str | None) -> None:
    """Group near-duplicate articles (wire copies at several sites) into stories and list them.

    New articles are clustered first (incremental); one story per block, its articles one per line.

    \b
    Example:
      newsarchive stories --min-size 2 --limit 20
    """
    from newsarchive.archive.dedup import ClusterOptions, cluster_articles
    from newsarchive.archive.dedup import stories as list_stories

    index = open_index(resolve_home(home, index_url))
    try:
        report = cluster_articles(index, options=ClusterOptions(threshold=threshold), rebuild=rebuild)
    except ValueError as exc:  # stored signatures made with other settings
        raise UserError(str(exc)) from exc
    for story in list_stories(index, min_size=min_size, limit=limit):
        click.echo(f"story {story.story_id}: {story.size} articles at {', '.join(story.sites)}")
        for m in story.members:
            click.echo(f"  {m.article_id}\t{m.method}\t{m.similarity:.2f}\t{m.site}\t{m.url}\t{m.title or ''}")
    click.echo(f"{report.articles} new articles clustered ({report.exact} exact, {report.near} near duplicates); "
               f"{report.total_articles} articles in {report.total_stories} stories", err=True)


def main() -> None:
    cli(prog_name="newsarchive")
