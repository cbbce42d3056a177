"""Offline replay mode: a downloader middleware that answers requests from the archive, not the network.

For developing spiders against what was archived: ``-s NEWSARCHIVE_OFFLINE_ENABLED=1``. Enable it in
``DOWNLOADER_MIDDLEWARES`` at 950: its ``process_request`` runs after every other middleware's (user agent,
retry, capture...), right where the download would start, and the response it returns then goes through all
``process_response`` methods as a downloaded one would: HttpCompression (590) undoes the archived
``Content-Encoding``, Redirect (600) follows archived 3xx, the capture middleware (650) leaves it alone
(``newsarchive_no_capture``), so replayed pages are never archived twice.

Settings: ``NEWSARCHIVE_OFFLINE_ENABLED`` (off), ``NEWSARCHIVE_OFFLINE_TIMESTAMP`` (``YYYYMMDDhhmmss``,
nearest capture to it; empty: the newest), ``NEWSARCHIVE_OFFLINE_MISS`` (``ignore``: IgnoreRequest, or
``404``: an empty 404 response) for URLs the archive does not have. Stats: ``newsarchive/offline/hit|miss``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex, IndexUnavailable
from newsarchive.archive.lookup import ArchiveLookup, NotArchived, parse_timestamp
from newsarchive.archive.warc import StoredRecord
from newsarchive.crawler.middlewares import META_SKIP

logger = logging.getLogger(__name__)

MISS_POLICIES = ("ignore", "404")
FLAG = "offline"
_DROPPED = {"transfer-encoding", "content-length", "connection", "keep-alive"}


class NotInArchive(IgnoreRequest):
    """Offline mode: the archive has no capture of this URL."""


class OfflineReplayMiddleware:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_OFFLINE_ENABLED", False):
            raise NotConfigured()  # off by default: no message, so Scrapy does not warn about it on every crawl
        self.miss = str(settings.get("NEWSARCHIVE_OFFLINE_MISS", "ignore")).strip().lower()
        if self.miss not in MISS_POLICIES:
            raise ValueError(f"NEWSARCHIVE_OFFLINE_MISS={self.miss!r}: expected one of {', '.join(MISS_POLICIES)}")
        stamp = str(settings.get("NEWSARCHIVE_OFFLINE_TIMESTAMP", "") or "").strip()
        if stamp and not (stamp.isdigit() and 4 <= len(stamp) <= 14):
            raise ValueError(f"NEWSARCHIVE_OFFLINE_TIMESTAMP={stamp!r}: expected YYYY[MMDDhhmmss] digits")
        self.at: datetime | None = parse_timestamp(stamp) if stamp else None
        home = ArchiveHome.resolve(settings.get("NEWSARCHIVE_HOME") or None,
                                   settings.get("NEWSARCHIVE_INDEX_URL") or None)
        try:
            self.index = ArchiveIndex(home.index_url)
        except IndexUnavailable as exc:
            raise ValueError(f"NEWSARCHIVE_OFFLINE_ENABLED: {exc}") from exc
        self.lookup = ArchiveLookup(self.index, home.warc_dir)
        self.stats = crawler.stats
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OfflineReplayMiddleware:
        return cls(crawler)

    def spider_closed(self, spider: Spider | None = None) -> None:
        self.index.close()

    def process_request(self, request: Request, spider: Spider | None = None) -> Response:
        request.meta[META_SKIP] = True  # never archive a replayed response again
        try:
            if request.method not in ("GET", "HEAD"):
                raise NotArchived(f"{request.method} {request.url}: only GET is archived")
            capture = self.lookup.nearest(request.url, self.at)
            record = self.lookup.read(self.lookup.original(capture))
        except NotArchived as exc:
            return self._miss(request, str(exc))
        if self.stats:
            self.stats.inc_value("newsarchive/offline/hit")
        logger.debug("offline: %s from %s @ %s", request.url, capture.record_id, capture.fetched_at)
        return response_of(request, record)

    def _miss(self, request: Request, reason: str) -> Response:
        if self.stats:
            self.stats.inc_value("newsarchive/offline/miss")
        if self.miss == "404":
            return Response(request.url, status=404, body=b"", request=request, flags=[FLAG, "miss"])
        logger.info("offline: %s", reason)
        raise NotInArchive(reason)


def response_of(request: Request, record: StoredRecord) -> Response:
    """The archived exchange as a Scrapy response, body as stored (still Content-Encoded)."""
    headers = Headers([(k, v) for k, v in record.http_headers if k.lower() not in _DROPPED])
    body = b"" if request.method == "HEAD" else record.payload
    cls: Any = responsetypes.from_args(headers=headers, url=request.url, body=body)
    return cls(request.url, status=record.status or 200, headers=headers, body=body, request=request,
               flags=[FLAG], protocol=record.protocol or None)
