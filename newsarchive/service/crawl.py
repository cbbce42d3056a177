"""Run one crawl in this process (the Twisted reactor runs once per process: call it once)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from newsarchive.archive.home import ArchiveHome
from newsarchive.crawler.sites import SiteConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlOptions:
    spider: str = "news"
    log_level: str = "WARNING"
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CrawlResult:
    run_id: int | None
    reason: str
    stats: dict[str, Any]
    failures: list[tuple[str, str]]

    @property
    def pages(self) -> int:
        return int(self.stats.get("newsarchive/captures", 0))

    @property
    def articles(self) -> int:
        return int(self.stats.get("newsarchive/articles", 0))

    @property
    def ok(self) -> bool:
        return self.reason in ("finished", "closespider_pagecount") and self.pages > 0


TRACEBACK_LOGGERS = (
    "scrapy.downloadermiddlewares.robotstxt", "scrapy.downloadermiddlewares.retry", "scrapy.core.scraper",
    "scrapy.core.engine", "scrapy.core.downloader.handlers.http11",
)


def _one_line(record: logging.LogRecord) -> bool:
    """Outside debug logging, failures are one line: the reason, not Twisted's traceback."""
    if record.exc_info and record.exc_info[1] is not None:
        record.msg = f"{record.msg} ({type(record.exc_info[1]).__name__})"
        record.exc_info = None
        record.exc_text = None
    return True


def crawl_settings(home: ArchiveHome, options: CrawlOptions) -> Settings:
    settings = Settings()
    settings.setmodule("newsarchive.settings", priority="project")
    settings.set("NEWSARCHIVE_HOME", str(home.root), priority="cmdline")
    settings.set("NEWSARCHIVE_INDEX_URL", home.index_url, priority="cmdline")
    settings.set("LOG_LEVEL", options.log_level, priority="cmdline")
    for key, value in options.settings.items():
        settings.set(key, value, priority="cmdline")
    return settings


def without_unused_browser(settings: Settings, sites: list[SiteConfig], options: CrawlOptions) -> Settings:
    """Scrapy's own HTTP handlers when no site renders: a crawl without ``render = true`` sites neither
    imports Playwright nor routes every request through the browser handler (settings.DOWNLOAD_HANDLERS)."""
    if not any(site.render for site in sites) and "DOWNLOAD_HANDLERS" not in options.settings:
        settings.set("DOWNLOAD_HANDLERS", {}, priority="cmdline")  # DOWNLOAD_HANDLERS_BASE applies
    return settings


REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"
COOKIES = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
# (component setting, the switch that turns the component off, the component): the component's module loads
# more than the crawl needs, and with the switch off it would only raise NotConfigured
SWITCHED_COMPONENTS = (
    ("EXTENSIONS", "REMOTE_CONTROL_ENABLED", REMOTE_CONTROL),  # aiohttp and its web server
    ("DOWNLOADER_MIDDLEWARES", "COOKIES_ENABLED", COOKIES),  # tldextract and requests
)


def without_disabled_components(settings: Settings) -> Settings:
    """Scrapy imports every listed component before asking whether it is enabled, so a component whose
    switch is off is taken out of the ``*_BASE`` list: its module is never imported. Listing it as ``None``
    in ``EXTENSIONS`` would not do, as Scrapy (2.19) imports the keys of that dict to normalise them. Measured
    (a fresh process beside Scrapy, SQLAlchemy and warcio): the remote control's module +10 MB RSS and
    ~0.27 s CPU (aiohttp), the cookies middleware's +6 MB (tldextract, requests). A component the crawl's
    own settings list (``EXTENSIONS``, ``DOWNLOADER_MIDDLEWARES``) stays as they say."""
    for name, switch, path in SWITCHED_COMPONENTS:
        if settings.getbool(switch, True) or path in (settings.getdict(name) or {}):
            continue
        base = settings.getdict(f"{name}_BASE")
        base.pop(path, None)
        settings.set(f"{name}_BASE", base, priority="project")
    return settings


def run_crawl(sites: list[SiteConfig], home: ArchiveHome, options: CrawlOptions | None = None) -> CrawlResult:
    """Crawl ``sites`` into ``home``; blocks until the crawl ends. Raises IndexUnavailable before starting."""
    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.models import FetchFailure
    from newsarchive.archive.runs import mark_interrupted
    from newsarchive.extract.pool import tune_allocator
    from newsarchive.spiders.news import SPIDERS

    options = options or CrawlOptions()
    tune_allocator()  # before the reactor's, the index writer's and the pool's threads
    home.ensure()
    index = ArchiveIndex(home.index_url)  # fail fast, with one clear line, before the reactor starts
    mark_interrupted(index)  # runs left "running" by crawls killed before they could finish them
    index.close()
    for handler in logging.root.handlers[:]:  # Scrapy installs its own root handler at LOG_LEVEL
        logging.root.removeHandler(handler)
    settings = without_disabled_components(without_unused_browser(crawl_settings(home, options), sites, options))
    process = CrawlerProcess(settings)
    if logging.getLevelName(options.log_level) != logging.DEBUG:
        for name in TRACEBACK_LOGGERS:  # logger filters survive Scrapy re-installing its root handler
            logging.getLogger(name).addFilter(_one_line)
    crawler = process.create_crawler(SPIDERS[options.spider])
    process.crawl(crawler, sites=sites)
    process.start()
    stats = dict(crawler.stats.get_stats() or {})
    session = getattr(crawler, "_newsarchive_session", None)
    run_id = session.run_id if session is not None else None
    failures: list[tuple[str, str]] = []
    if run_id is not None:
        from sqlalchemy import select

        index = ArchiveIndex(home.index_url)
        with index.sessions() as s:
            failures = [(f.url, f.reason) for f in s.scalars(select(FetchFailure).where(FetchFailure.run_id == run_id))]
        index.close()
    return CrawlResult(run_id, str(stats.get("finish_reason", "unknown")), stats, failures)


# -- several local worker processes on one Redis crawl (see newsarchive.crawler.frontier) --------------
@dataclass(frozen=True)
class WorkerExit:
    """How one worker process ended and what it reported (``--result-json``)."""

    worker: str
    exit_code: int
    result: dict[str, Any]

    @property
    def pages(self) -> int:
        return int(self.result.get("pages", 0))

    @property
    def articles(self) -> int:
        return int(self.result.get("articles", 0))


def run_local_workers(worker_argv: list[str], workers: list[str], home: ArchiveHome, *,
                      redis_url: str, crawl: str, prefix: str = "newsarchive", quiet: bool = False) -> list[WorkerExit]:
    """Run one ``newsarchive worker`` process per id in ``workers`` on crawl ``crawl``; wait for all.

    ``worker_argv`` are the site arguments shared by all workers (targets, --sites, limits, -s). The index
    schema is migrated once here, before the workers start. When they are done (or on Ctrl-C) the crawl's
    Redis keys are removed and WARC files a crashed worker left open are closed.
    """
    import json
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.runs import mark_interrupted
    from newsarchive.archive.warc import recover_open_files
    from newsarchive.crawler.frontier import connect, reset_crawl

    home.ensure()
    ArchiveIndex(home.index_url).close()
    client = connect(redis_url)
    reset_crawl(client, prefix, crawl)
    with tempfile.TemporaryDirectory(prefix="newsarchive-workers-") as tmp:
        results = [Path(tmp) / f"{w}.json" for w in workers]
        procs = [subprocess.Popen([sys.executable, "-m", "newsarchive", "worker", *worker_argv, "--home", str(home.root),
                                   "--index-url", home.index_url, "--redis-url", redis_url, "--crawl", crawl,
                                   "--worker-id", w, "--result-json", str(r)],
                                  stdout=subprocess.DEVNULL if quiet else None) for w, r in zip(workers, results, strict=True)]
        try:
            codes = [p.wait() for p in procs]
        except KeyboardInterrupt:  # the workers got Ctrl-C too and close cleanly; give them a minute
            codes = [_wait_or_kill(p, 60.0) for p in procs]
        finally:
            reset_crawl(client, prefix, crawl)
        exits = [WorkerExit(w, c, json.loads(r.read_text()) if r.exists() else {})
                 for w, c, r in zip(workers, codes, results, strict=True)]
    for done in exits:
        if done.exit_code != 0:
            for rec in recover_open_files(home.warc_dir, host=done.worker):
                logger.warning("closed WARC %s left open by worker %s (%d records)", rec.path, done.worker, rec.records)
    if any(done.exit_code != 0 for done in exits):  # a killed worker's run stays "running" otherwise
        index = ArchiveIndex(home.index_url)
        mark_interrupted(index)
        index.close()
    return exits


def _wait_or_kill(proc: Any, timeout: float) -> int:
    import subprocess

    try:
        return int(proc.wait(timeout=timeout))
    except subprocess.TimeoutExpired:
        proc.kill()
        return int(proc.wait())
