"""Crawling commands: ``crawl`` (one process or N local workers), ``worker`` and ``schedule``."""

from __future__ import annotations

import click

from newsarchive.cli.common import (
    EXIT_FAILED,
    UserError,
    archive_options,
    friendly_errors,
    log_level,
    open_index,
    parse_overrides,
    print_crawl,
    resolve_home,
    select_sites,
)


@click.command()
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
        from newsarchive.crawler.frontier import DistributedConfigError
        from newsarchive.service.workers import crawl_with_local_workers

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
    from newsarchive.service.crawl import CrawlOptions, run_crawl

    sites = select_sites(targets, sites_file, max_pages, depth)
    settings = dict(parse_overrides(overrides))
    archive = resolve_home(home, index_url)
    result = run_crawl(sites, archive, CrawlOptions(spider=spider, log_level=log_level(ctx), settings=settings))
    print_crawl(result, archive)
    if result.pages == 0:
        detail = "; ".join(f"{u}: {r}" for u, r in result.failures[:3]) or result.reason
        raise UserError(f"nothing could be fetched ({detail})", exit_code=EXIT_FAILED)


@click.command()
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
    from newsarchive.crawler.frontier import DistributedConfigError
    from newsarchive.service.workers import run_worker

    sites = select_sites(targets, sites_file, max_pages, depth)
    try:
        result = run_worker(sites, resolve_home(home, index_url), spider=spider, log_level=log_level(ctx),
                            overrides=dict(parse_overrides(overrides)), redis_url=redis_url, crawl=crawl_name,
                            worker_id=worker_id, result_json=result_json)
    except DistributedConfigError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"worker {result['worker']}: {result['reason']}; {result['pages']} pages archived, "
               f"{result['articles']} articles indexed (run {result['run_id']})")



@click.command()
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
    from newsarchive.crawler.sites import load_sites, select_sites
    from newsarchive.service.scheduler import CrawlScheduler, ScheduleError, ScheduleOptions

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
