"""Keep what arrived of responses that are cut short, and say why (``WARC-Truncated``, as Heritrix does).

Scrapy cancels a download past ``DOWNLOAD_MAXSIZE`` and drops a response whose connection broke before its
``Content-Length`` (``DOWNLOAD_FAIL_ON_DATALOSS``): nothing reaches the capture middleware, so the archive
has no record and the log an opaque error. This middleware takes the size limit over:

* ``process_request`` moves the limit (``DOWNLOAD_MAXSIZE``, or the request's ``download_maxsize`` meta) to
  ``newsarchive_maxsize`` and lifts Scrapy's own (``download_maxsize`` = 0);
* a ``bytes_received`` handler stops the download once more than the limit has arrived
  (``StopDownload(fail=False)``): the response keeps the bytes received and goes on to the capture
  middleware, which writes it with ``WARC-Truncated: length`` and sets ``Capture.truncated``;
* a response cut by the peer (flag ``dataloss``, with ``DOWNLOAD_FAIL_ON_DATALOSS = False``) is archived
  with ``WARC-Truncated: disconnect``, then retried (``get_retry_request``) since the whole page may come next
  time; when retries are spent the truncated response goes on to the spider.

Enabled at 640 (settings.py): its ``process_response`` runs after Capture's (650) has archived the response.

Huge headers: Twisted's HTTP parser drops the connection at a header line over 16 KiB, and the crawl logged
"Connection was closed cleanly" with nothing archived. Scrapy's parser class is given a line limit of
``NEWSARCHIVE_MAX_HEADER_LINE`` (default 1 MiB), so such responses are archived whole; a line over that fails
with a ``ParseError`` that names the URL and the limit (in the log and the index's ``fetch_failures``).
Nothing can be archived of such a response: the parser never produced one.
"""

from __future__ import annotations

import logging
from typing import Any
from weakref import WeakKeyDictionary

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import StopDownload
from scrapy.http import Response

logger = logging.getLogger(__name__)

DEFAULT_MAX_HEADER_LINE = 1 << 20

META_MAXSIZE = "newsarchive_maxsize"
META_TRUNCATED = "newsarchive_truncated"  # set when this middleware stopped the download
LENGTH = "length"  # WARC-Truncated reasons (WARC/1.1 section 5.13)
DISCONNECT = "disconnect"


def truncation(request: Request, response: Response) -> str | None:
    """The ``WARC-Truncated`` reason of a response that did not arrive whole, or None."""
    if "dataloss" in response.flags:
        return DISCONNECT
    if "download_stopped" in response.flags:
        return str(request.meta.get(META_TRUNCATED) or "unspecified")
    return None


class TruncationMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.received: WeakKeyDictionary[Request, int] = WeakKeyDictionary()
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)
        allow_long_header_lines(crawler.settings.getint("NEWSARCHIVE_MAX_HEADER_LINE", DEFAULT_MAX_HEADER_LINE))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TruncationMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if META_MAXSIZE not in request.meta:
            request.meta[META_MAXSIZE] = int(request.meta.get("download_maxsize", self.maxsize) or 0)
        request.meta["download_maxsize"] = 0  # ours to enforce, keeping what arrived

    def bytes_received(self, data: bytes, request: Request, spider: Spider | None = None) -> None:
        limit = int(request.meta.get(META_MAXSIZE) or 0)
        if not limit:
            return
        total = self.received.get(request, 0) + len(data)
        self.received[request] = total
        if total > limit:
            request.meta[META_TRUNCATED] = LENGTH
            logger.warning("%s: body over the size limit (%d bytes, DOWNLOAD_MAXSIZE); archiving the first %d "
                           "bytes, marked WARC-Truncated: length", request.url, limit, total)
            raise StopDownload(fail=False)

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        self.received.pop(request, None)
        reason = truncation(request, response)
        if reason is None:
            return response
        self.stats.inc_value(f"newsarchive/truncated/{reason}")
        if reason != DISCONNECT:
            return response
        owner = spider or self.crawler.spider
        retry = get_retry_request(request, spider=owner, reason="dataloss") if owner is not None else None
        logger.warning("%s: connection closed after %d bytes of the body; archived as WARC-Truncated: disconnect%s",
                       request.url, len(response.body), ", retrying" if retry is not None else "")
        return retry if retry is not None else response



def allow_long_header_lines(limit: int) -> None:
    """Raise the header line limit of Scrapy's HTTP/1.1 response parser, and name it when a line is longer."""
    try:
        from scrapy.core.downloader.handlers.http11 import _LenientHTTPClientParser as parser
        from twisted.web._newclient import ParseError
    except ImportError:  # another Scrapy: keep Twisted's 16 KiB and its opaque error
        logger.debug("Scrapy's HTTP/1.1 parser not found; header lines stay limited to 16 KiB")
        return

    def line_length_exceeded(self: Any, line: bytes) -> None:
        uri = getattr(getattr(self, "request", None), "uri", b"")
        raise ParseError(f"response header line over {self.MAX_LENGTH} bytes (NEWSARCHIVE_MAX_HEADER_LINE) "
                         f"from {uri.decode('latin-1', 'replace')}", line[:80])

    parser.MAX_LENGTH = limit
    parser.lineLengthExceeded = line_length_exceeded  # type: ignore[method-assign]
