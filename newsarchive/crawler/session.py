"""One archive session per crawl: the WARC writer, the index and the crawl-run row, shared by components.

The capture middleware and the pipelines get the same session with :func:`ArchiveSession.of`. Resources
are opened when the spider opens and closed when it closes (WARC renamed from ``.open``, run finished).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchivedKeys, ArchiveIndex, IndexWriter, KeySet, PendingArticle
from newsarchive.archive.models import Article, Capture, FetchFailure
from newsarchive.archive.warc import WarcWriter, WarcWriterOptions, recover_open_files

logger = logging.getLogger(__name__)

_ATTR = "_newsarchive_session"


@dataclass(frozen=True)
class CaptureInfo:
    """What the capture middleware leaves in ``request.meta['newsarchive_capture']`` for the pipelines.

    ``row`` is the capture's index row; it is committed by the session's :class:`IndexWriter` in a later
    batch, so its ``id`` may still be None while the page is extracted (the article row is queued with it).
    """

    row: Capture
    record_id: str
    payload_digest: str
    fetched_at: datetime
    status: int

    @property
    def capture_id(self) -> int | None:
        return self.row.id


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
        # index rows go through one background thread in batches (never a transaction on the reactor thread)
        self.rows = IndexWriter(self.index, batch_size=settings.getint("NEWSARCHIVE_INDEX_BATCH_SIZE", 500),
                                interval=settings.getfloat("NEWSARCHIVE_INDEX_FLUSH_INTERVAL", 0.5),
                                on_error=self._row_failed)
        self.archived = ArchivedKeys()  # loaded when the spider opens
        self._kill_at = _kill_point(settings.get("NEWSARCHIVE_TEST_KILL_AT") or "")
        self._kill_count = 0
        self.fetched_now = KeySet()  # URL keys of full 200 responses archived in this crawl
        self.orphans: list[Capture] = []  # archived article pages whose extraction a killed crawl left undone
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

    def crash_point(self, name: str) -> None:
        """Fault injection for the crash tests (``NEWSARCHIVE_TEST_KILL_AT=point:N``): SIGKILL this process the
        N-th time the crawl passes ``point`` (``captured``: a response is in the WARC, its index row not yet
        queued; ``extracting``: a page's capture row is committed and its extraction started; ``extracted``:
        the metadata record is in the WARC, the article row not yet queued). A no-op otherwise."""
        if self._kill_at is None or self._kill_at[0] != name:
            return
        self._kill_count += 1
        if self._kill_count >= self._kill_at[1]:
            if name == "extracting":
                self.flush_index()
            logger.warning("NEWSARCHIVE_TEST_KILL_AT=%s:%d reached: SIGKILL", name, self._kill_at[1])
            os.kill(os.getpid(), signal.SIGKILL)

    def _row_failed(self, reason: str) -> None:
        self.crawler.stats.inc_value("newsarchive/index/failed_rows")

    def spider_opened(self, spider: Spider) -> None:
        from newsarchive.crawler.recovery import index_unindexed

        args: dict[str, Any] = {k: v for k, v in getattr(spider, "run_args", {}).items()}
        self.run_id = self.index.start_run(spider.name, args, site=getattr(spider, "run_site", None))
        for done in recover_open_files(self.home.warc_dir, host=self._host):
            logger.warning("recovered unclosed WARC %s (%d records)", done.path, done.records)
            self.crawler.stats.inc_value("newsarchive/warc/recovered")
            if done.records:
                tail = index_unindexed(self.index, done.path)
                self.crawler.stats.inc_value("newsarchive/recovered/captures", tail.captures)
                self.crawler.stats.inc_value("newsarchive/recovered/articles", tail.articles)
        domains = _domains(spider)
        self.orphans = self.index.orphan_captures(domains) if self.crawler.settings.getbool(
            "NEWSARCHIVE_RECOVER_EXTRACTIONS", True) else []
        self.archived = self.index.archived_keys(domains)
        self.archived.with_article.update(c.url_key for c in self.orphans)  # being extracted now: not due
        if self.orphans:
            logger.warning("%d archived page(s) of a killed crawl were never extracted; extracting them from the "
                           "WARC first", len(self.orphans))
        logger.info("archive home %s, index %s, run %s (%d URL keys archived)", self.home.root,
                    self.index.url.split("@")[-1], self.run_id, len(self.archived.responses))

    def add_row(self, row: Capture | Article | FetchFailure | PendingArticle) -> None:
        """Queue an index row (committed in the next batch, after the WARC bytes it points at)."""
        self.rows.add(row)

    def flush_index(self) -> None:
        """Commit every queued index row now (before reading the index back, e.g. at close)."""
        if not self.rows.flush(timeout=600):
            logger.error("index rows still not committed after 600 s")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        with self.lock:
            self.writer.close()
        self.rows.close()
        stats = {k: v for k, v in (self.crawler.stats.get_stats() or {}).items()}
        status = "finished" if reason == "finished" else reason
        if self.run_id is not None:
            self.index.finish_run(self.run_id, status=status, stats=_jsonable(stats))
        self.index.close()


def _kill_point(spec: str) -> tuple[str, int] | None:
    if not spec:
        return None
    name, _, count = spec.partition(":")
    if name not in ("captured", "extracting", "extracted") or not count.isdigit():
        raise NotConfigured(f"NEWSARCHIVE_TEST_KILL_AT={spec!r}: expected captured|extracting|extracted:N")
    return name, int(count)


def _domains(spider: Spider) -> list[str] | None:
    sites = getattr(spider, "sites", None)
    if not sites:
        return None
    return sorted({d for site in sites for d in site.domains})


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stats.items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out
