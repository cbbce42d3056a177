"""Progress on stderr while crawling, and the newsarchive/* stats when it ends.

A progress line counts pages as they are archived and articles as they are indexed (extraction runs in a
process pool, so article pages fetched wait there a moment: the line says how many), and one more line
when the crawl closes, with the final counts, so the last line agrees with the crawl's summary::

    progress: 40 pages archived, 5 article pages fetched, 2 articles indexed (13.1 pages/s)
    progress: 65 pages archived, 5 article pages fetched, 5 articles indexed (crawl finished after 5.0 s)
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from newsarchive.crawler.middlewares import META_KIND

logger = logging.getLogger(__name__)


class ProgressExtension:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_PROGRESS_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_PROGRESS_ENABLED is off")
        self.interval = settings.getfloat("NEWSARCHIVE_PROGRESS_INTERVAL", 10.0)
        self.stats = crawler.stats
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def response_received(self, response: Any, request: Any, spider: Any = None) -> None:
        if request.meta.get(META_KIND) == "article" and response.status == 200:
            self.stats.inc_value("newsarchive/article_pages")

    def line(self, tail: str) -> str:
        pages = self.stats.get_value("newsarchive/captures", 0)
        fetched = self.stats.get_value("newsarchive/article_pages", 0)
        articles = self.stats.get_value("newsarchive/articles", 0)
        failed = self.stats.get_value("newsarchive/articles/failed", 0)
        without = f" (+{failed} without article text)" if failed else ""
        return (f"progress: {pages} pages archived, {fetched} article pages fetched, {articles} articles indexed"
                f"{without} ({tail})")

    def report(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        pages = self.stats.get_value("newsarchive/captures", 0)
        print(self.line(f"{pages / elapsed:.1f} pages/s"), file=sys.stderr, flush=True)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        elapsed = time.monotonic() - self.started
        self.stats.set_value("newsarchive/elapsed_seconds", round(elapsed, 3))
        print(self.line(f"crawl {reason} after {elapsed:.1f} s"), file=sys.stderr, flush=True)
        ours = {k: v for k, v in (self.stats.get_stats() or {}).items() if k.startswith("newsarchive/")}
        logger.info("crawl %s after %.1fs: %s", reason, elapsed, ours)
