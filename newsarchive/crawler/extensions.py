"""Progress on stderr while crawling, and the newsarchive/* stats when it ends."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

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

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def report(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        pages = self.stats.get_value("newsarchive/captures", 0)
        articles = self.stats.get_value("newsarchive/articles", 0)
        print(f"progress: {pages} pages archived, {articles} articles ({pages / elapsed:.1f} pages/s)",
              file=sys.stderr, flush=True)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        elapsed = time.monotonic() - self.started
        self.stats.set_value("newsarchive/elapsed_seconds", round(elapsed, 3))
        ours = {k: v for k, v in (self.stats.get_stats() or {}).items() if k.startswith("newsarchive/")}
        logger.info("crawl %s after %.1fs: %s", reason, elapsed, ours)
