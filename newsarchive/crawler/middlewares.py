"""Capture: every response the downloader gets goes to WARC, then to the index, before anything rewrites it.

Enabled at 650 in settings.py, above HttpCompression (590) and Redirect (600): ``process_response`` sees
the body still Content-Encoded and every 3xx, 4xx and 5xx, including robots.txt, feeds and sitemaps.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from newsarchive.archive.index import PriorCapture
from newsarchive.archive.models import Capture
from newsarchive.archive.urls import canonicalize, host_of, url_key
from newsarchive.archive.warc import (
    REVISIT_IDENTICAL,
    REVISIT_NOT_MODIFIED,
    HttpExchange,
    Revisit,
    sha1_digest,
)
from newsarchive.crawler.session import ArchiveSession, CaptureInfo
from newsarchive.crawler.truncation import truncation

logger = logging.getLogger(__name__)

META_CAPTURE = "newsarchive_capture"
META_KIND = "newsarchive_kind"
META_SKIP = "newsarchive_no_capture"  # responses replayed from the archive are not archived again
META_PRIOR = "newsarchive_prior"  # PriorCapture of a conditional refetch (set by the spider)
META_UNCHANGED = "newsarchive_unchanged"  # set here: the payload equals an archived one (revisit written)


class AlreadyArchived(IgnoreRequest):
    """The request leads to an archived article that its recrawl policy does not want again yet."""


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    """Scrapy Headers (bytes, multi-valued) as (name, value) pairs in received order."""
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            pairs.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return pairs


def exchange_of(request: Request, response: Response, fetched_at: datetime) -> HttpExchange:
    req_headers = header_pairs(request.headers)
    if not any(k.lower() == "host" for k, _ in req_headers):
        from urllib.parse import urlsplit

        req_headers.insert(0, ("Host", urlsplit(request.url).netloc))
    ip = response.ip_address
    return HttpExchange(
        url=response.url,
        status=response.status,
        response_headers=header_pairs(response.headers),
        body=response.body,
        method=request.method,
        request_headers=req_headers,
        request_body=request.body or b"",
        protocol=(response.protocol or "HTTP/1.1").upper(),
        ip_address=str(ip) if ip is not None else None,
        fetched_at=fetched_at,
        warc_headers=_extension_fields(request, response),
    )


def _extension_fields(request: Request, response: Response) -> tuple[tuple[str, str], ...]:
    """What the crawl knew about the page, kept in the WARC so that reindex can restore it."""
    fields = [("Newsarchive-Kind", _kind(request, response))]
    if request.meta.get("newsarchive_site"):
        fields.append(("Newsarchive-Site", str(request.meta["newsarchive_site"])))
    if reason := truncation(request, response):  # what arrived of a body cut short (truncation.py)
        fields.append(("WARC-Truncated", reason))
    return tuple(fields)


def _kind(request: Request, response: Response) -> str:
    return str(request.meta.get(META_KIND, "robots" if response.url.endswith("/robots.txt") else "page"))


class CaptureMiddleware:
    def __init__(self, crawler: Crawler):
        if not crawler.settings.getbool("NEWSARCHIVE_CAPTURE_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_CAPTURE_ENABLED is off")
        self.crawler = crawler
        self.session = ArchiveSession.of(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        """A redirect to an article that is archived (and not due again) is not followed."""
        if not request.meta.get("redirect_urls") or request.meta.get(META_KIND) != "article":
            return
        due = getattr(self.crawler.spider, "recrawl_due", None)
        if due is not None and not due(request.url, request.meta.get("newsarchive_site")):
            self.stats.inc_value("newsarchive/skipped/archived")
            raise AlreadyArchived(f"redirect target already archived: {request.url}")

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if request.meta.get(META_SKIP) or "cached" in response.flags:
            return response
        try:
            info = self.capture(request, response)
        except OSError as exc:  # disk full, permissions: archiving is the point, so stop the crawl
            logger.error("cannot write WARC for %s: %s; stopping the crawl", response.url, exc)
            self.stats.inc_value("newsarchive/warc/write_failed")
            if self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="warc-write-failed"))
            return response
        request.meta[META_CAPTURE] = info
        return response

    def revisit_for(self, request: Request, response: Response) -> Revisit | None:
        """A revisit when the server says 304 to our conditional GET, or sends a payload we already have."""
        prior = request.meta.get(META_PRIOR)
        if response.status == 304 and isinstance(prior, PriorCapture):
            return Revisit(prior.url, prior.fetched_at, prior.record_id, prior.payload_digest, REVISIT_NOT_MODIFIED)
        if response.status != 200 or not response.body:
            return None
        key = url_key(response.url)
        if key in self.session.fetched_now:  # fetched before in this crawl: its row may still be queued
            self.session.flush_index()
        elif key not in self.session.archived.responses:  # never archived: nothing to compare with
            return None
        original = self.session.index.payload_original(key, sha1_digest(response.body))
        if original is None:
            return None
        return Revisit(original.url, original.fetched_at, original.record_id, original.payload_digest,
                       REVISIT_IDENTICAL)

    def capture(self, request: Request, response: Response) -> CaptureInfo:
        session = self.session
        fetched_at = datetime.now(UTC)
        exchange = exchange_of(request, response, fetched_at)
        revisit = self.revisit_for(request, response)
        with session.lock:
            written = session.writer.write_exchange(exchange, revisit=revisit)
        session.crash_point("captured")
        if revisit is not None:
            request.meta[META_UNCHANGED] = True
            self.stats.inc_value(f"newsarchive/revisits/{'not_modified' if response.status == 304 else 'identical'}")
        # the record is flushed: only now may the index point at it
        row = Capture(
            run_id=session.run_id,
            url=response.url,
            canonical_url=canonicalize(response.url),
            url_key=url_key(response.url),
            refers_to_record_id=revisit.refers_to_record_id if revisit else None,
            host=host_of(response.url),
            method=request.method,
            status=response.status,
            fetched_at=fetched_at,
            content_type=_header(response, b"Content-Type"),
            content_length=len(response.body),
            payload_digest=written.payload_digest,
            record_type=written.record_type,
            record_id=written.record_id,
            warc_file=written.ref.path,
            warc_offset=written.ref.offset,
            warc_length=written.ref.length,
            request_record_id=written.request_record_id,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            location=_header(response, b"Location"),
            kind=_kind(request, response),
            truncated=truncation(request, response),
        )
        session.add_row(row)  # committed in the next batch, by the index writer thread
        if response.status == 200 and revisit is None:
            session.fetched_now.add(row.url_key)
        self.stats.inc_value("newsarchive/captures")
        self.stats.inc_value(f"newsarchive/captures/status/{response.status}")
        self.stats.inc_value("newsarchive/warc/bytes", written.ref.length + written.request_ref.length)
        return CaptureInfo(row, written.record_id, written.payload_digest, fetched_at, response.status)


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:255] if value else None
