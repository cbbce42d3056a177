"""One archive session per crawl: the WARC writer, the index and the crawl-run row, shared by components.

The capture middleware and the pipelines get the same session with :func:`ArchiveSession.of`. Resources
are opened when the spider opens and closed when it closes (WARC renamed from ``.open``, run finished).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.warc import WarcWriter, WarcWriterOptions, recover_open_files

logger = logging.getLogger(__name__)

_ATTR = "_newsarchive_session"


@dataclass(frozen=True)
class CaptureInfo:
    """What the capture middleware leaves in ``request.meta['newsarchive_capture']`` for the pipelines."""

    capture_id: int
    record_id: str
    payload_digest: str
    fetched_at: datetime
    status: int


class ArchiveSession:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.home = ArchiveHome.resolve(settings.get("NEWSARCHIVE_HOME") or None,
                                        settings.get("NEWSARCHIVE_INDEX_URL") or None).ensure()
        self.index = ArchiveIndex(self.home.index_url)  # fails at startup with a clear reason
        worker = settings.get("NEWSARCHIVE_WORKER_ID") or None
        options = WarcWriterOptions(
            prefix=settings.get("NEWSARCHIVE_WARC_PREFIX", "newsarchive"),
            max_size=settings.getint("NEWSARCHIVE_WARC_MAX_SIZE", 1_000_000_000),
            fsync=settings.getbool("NEWSARCHIVE_WARC_FSYNC"),
            operator=settings.get("NEWSARCHIVE_WARC_OPERATOR", ""),
        )
        if worker:
            options.host = worker
        self._host = options.host
        self.writer = WarcWriter(self.home.warc_dir, options)
        self.lock = threading.Lock()  # the writer and its file offsets are shared by reactor and pipelines
        self.run_id: int | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def of(cls, crawler: Crawler) -> ArchiveSession:
        session = getattr(crawler, _ATTR, None)
        if session is None:
            if not crawler.settings.getbool("NEWSARCHIVE_CAPTURE_ENABLED", True):
                raise NotConfigured("NEWSARCHIVE_CAPTURE_ENABLED is off")
            session = cls(crawler)
            setattr(crawler, _ATTR, session)
        return session

    def spider_opened(self, spider: Spider) -> None:
        for done in recover_open_files(self.home.warc_dir, host=self._host):
            logger.warning("recovered unclosed WARC %s (%d records)", done.path, done.records)
            self.crawler.stats.inc_value("newsarchive/warc/recovered")
        args: dict[str, Any] = {k: v for k, v in getattr(spider, "run_args", {}).items()}
        self.run_id = self.index.start_run(spider.name, args, site=getattr(spider, "run_site", None))
        logger.info("archive home %s, index %s, run %s", self.home.root, self.index.url.split("@")[-1], self.run_id)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        with self.lock:
            self.writer.close()
        stats = {k: v for k, v in (self.crawler.stats.get_stats() or {}).items()}
        status = "finished" if reason == "finished" else reason
        if self.run_id is not None:
            self.index.finish_run(self.run_id, status=status, stats=_jsonable(stats))
        self.index.close()


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out
