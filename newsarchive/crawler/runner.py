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


def run_crawl(sites: list[SiteConfig], home: ArchiveHome, options: CrawlOptions | None = None) -> CrawlResult:
    """Crawl ``sites`` into ``home``; blocks until the crawl ends. Raises IndexUnavailable before starting."""
    from newsarchive.archive.index import ArchiveIndex, FetchFailure
    from newsarchive.spiders.news import SPIDERS

    options = options or CrawlOptions()
    home.ensure()
    ArchiveIndex(home.index_url).close()  # fail fast, with one clear line, before the reactor starts
    for handler in logging.root.handlers[:]:  # Scrapy installs its own root handler at LOG_LEVEL
        logging.root.removeHandler(handler)
    process = CrawlerProcess(crawl_settings(home, options))
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
