"""Browser capture for sites whose articles need JavaScript (``render = true`` in sites.toml).

Two components, both in settings.py:

* :class:`~newsarchive.crawler.browser_handler.BrowserDownloadHandler` (``DOWNLOAD_HANDLERS`` for http and
  https): scrapy-playwright's handler,
  except that Playwright and the browser start with the first page to render, not with every crawl;
  requests not marked for rendering go through Scrapy's HTTP/1.1 handler as always. The browser is
  Debian's chromium (``NEWSARCHIVE_BROWSER_EXECUTABLE``, default ``/usr/bin/chromium``, passed to Playwright
  as ``executable_path``): nothing is downloaded at install time.
* :class:`BrowserMiddleware` (downloader middleware at 700, so its ``process_response`` runs before the
  capture middleware's at 650): marks article requests of ``render`` sites for rendering (load, scroll once
  for lazy content, wait for the images), then archives every network response the page made as
  request + response records, the document included, as Browsertrix does (kind ``article`` for the
  document, ``requisite`` for the rest, each requisite URL once per crawl), and stores the rendered DOM as
  a ``conversion`` record that refers to the document's response record. The spider and the extraction
  pipeline get the rendered DOM, so the article is extracted from what a reader sees; the capture
  middleware does not archive the DOM as if it were the wire response.

Bodies come from the browser decoded: their ``Content-Encoding`` header is dropped and ``Content-Length``
set to the stored body, so replay tools serve them correctly. Without chromium (or with
``NEWSARCHIVE_BROWSER_ENABLED = False``) ``render`` sites are fetched without rendering, with one warning
and the stat ``newsarchive/render/unavailable``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response

from newsarchive.archive.urls import url_key
from newsarchive.crawler.middlewares import (
    META_CAPTURE,
    META_KIND,
    META_PRIOR,
    META_SKIP,
    META_UNCHANGED,
    AlreadyArchived,
    CaptureMiddleware,
)
from newsarchive.crawler.session import ArchiveSession, CaptureInfo
from newsarchive.crawler.sites import META_SITE, SiteConfig, site_named

logger = logging.getLogger(__name__)

DEFAULT_EXECUTABLE = "/usr/bin/chromium"
META_LOG = "newsarchive_browser_log"  # the Playwright responses of the page, in order
META_RENDERED = "newsarchive_rendered"  # set on rendered responses (the requisites middleware skips them)
REQUISITE = "requisite"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run")
# scroll to the end once (lazy images, infinite teasers), back to the top, then wait until the images that
# started loading are done, at most ``settle`` milliseconds
SETTLE_JS = """async (settle) => {
  window.scrollTo(0, document.body ? document.body.scrollHeight : 0);
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  window.scrollTo(0, 0);
  const pending = [...document.images].filter(i => !i.complete)
    .map(i => new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }));
  await Promise.race([Promise.all(pending), new Promise(r => setTimeout(r, settle))]);
  return pending.length;
}"""
_DROPPED = {"content-encoding", "transfer-encoding", "content-length"}
_CONDITIONAL = (b"If-None-Match", b"If-Modified-Since")


def _settle(settle_ms: int) -> Any:
    """The page method that scrolls once and waits for lazy images (Playwright loads only when rendering)."""
    from scrapy_playwright.page import PageMethod

    return PageMethod("evaluate", SETTLE_JS, settle_ms)


def browser_executable(configured: str) -> str | None:
    """The chromium binary to use: the configured path, else ``chromium`` on PATH; None if there is none."""
    if configured and os.path.isfile(configured) and os.access(configured, os.X_OK):
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserMiddleware:
    """Renders ``render = true`` sites' pages and archives what the browser loaded (see the module docs)."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_BROWSER_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_BROWSER_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.kinds = frozenset(k.strip() for k in settings.getlist("NEWSARCHIVE_BROWSER_KINDS", ["article"]) if k)
        self.settle_ms = int(settings.getfloat("NEWSARCHIVE_BROWSER_SETTLE", 5.0) * 1000)
        self.unavailable = self._unavailable_reason(crawler)
        self.warned = False
        self.capture = CaptureMiddleware(crawler)  # the same archive session and index rows
        self.archived: set[str] = set()  # requisite URLs archived from the browser in this crawl
        self.documents: set[str] = set()  # URL keys of the rendered documents archived in this crawl

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserMiddleware:
        return cls(crawler)

    @staticmethod
    def _unavailable_reason(crawler: Crawler) -> str | None:
        configured = crawler.settings.get("NEWSARCHIVE_BROWSER_EXECUTABLE", DEFAULT_EXECUTABLE)
        if browser_executable(configured) is None:
            return f"chromium not found ({configured}; apt-get install chromium)"
        handlers = crawler.settings.getdict("DOWNLOAD_HANDLERS")
        if not all("playwright" in str(handlers.get(s, "")).lower() or "Browser" in str(handlers.get(s, ""))
                   for s in ("http", "https")):
            return "DOWNLOAD_HANDLERS do not use newsarchive.crawler.browser_handler.BrowserDownloadHandler"
        return None

    def site_of(self, request: Request) -> SiteConfig | None:
        return site_named(getattr(self.crawler.spider, "sites", ()), request.meta.get(META_SITE))

    # -- requests ---------------------------------------------------------------------------------------------
    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if "playwright" in request.meta or request.meta.get(META_KIND) not in self.kinds:
            return
        site = self.site_of(request)
        if site is None or not site.render:
            return
        if self.unavailable:
            self.stats.inc_value("newsarchive/render/unavailable")
            if not self.warned:
                logger.warning("site %s has render = true, but pages are fetched without a browser: %s",
                               site.name, self.unavailable)
                self.warned = True
            return
        for name in _CONDITIONAL:  # a browser shown a 304 renders an empty page; unchanged DOMs become revisits
            request.headers.pop(name, None)
        request.meta.update({
            "playwright": True,
            "playwright_include_page": True,  # kept open until its responses' bodies are read
            "playwright_page_event_handlers": {"response": _appender(request)},
            "playwright_page_goto_kwargs": {"wait_until": "load"},
            "playwright_page_methods": [_settle(self.settle_ms)],
            META_LOG: [],
        })
        self.stats.inc_value("newsarchive/render/requested")

    async def process_response(self, request: Request, response: Response,
                               spider: Spider | None = None) -> Response:
        page = request.meta.pop("playwright_page", None)
        log = request.meta.pop(META_LOG, None)
        if page is None or log is None:
            return response
        try:
            document = await self.archive_network(request, log, page)
        finally:
            await _close(page)
        request.meta[META_SKIP] = True  # the DOM is not what the server sent: not archived as the response
        request.meta[META_RENDERED] = True
        if document is not None:
            request.meta[META_CAPTURE] = document
            self.write_dom(response, document)
        else:  # the browser reported no response for the page itself: nothing to extract from
            self.stats.inc_value("newsarchive/render/no_document")
            logger.warning("rendered %s, but the browser reported no response for the page itself", request.url)
        self.stats.inc_value("newsarchive/render/pages")
        return response

    async def process_exception(self, request: Request, exception: BaseException,
                                spider: Spider | None = None) -> None:
        page = request.meta.pop("playwright_page", None)
        if page is not None:
            await _close(page)
        if request.meta.pop(META_LOG, None) is not None:
            self.stats.inc_value(f"newsarchive/render/failed/{type(exception).__name__}")

    # -- archiving ----------------------------------------------------------------------------------------------
    async def archive_network(self, request: Request, log: list[Any], page: Any) -> CaptureInfo | None:
        """Archive each response the page received; the document's capture (the last main-frame navigation),
        None when it was not seen. AlreadyArchived when that document was archived earlier in this crawl."""
        document: CaptureInfo | None = None
        for pw_response in log:
            url = pw_response.url
            if not url.startswith(("http://", "https://")):
                continue
            is_document = pw_response.request.is_navigation_request() and pw_response.frame == page.main_frame
            if is_document and not 300 <= pw_response.status < 400:
                if url_key(url) in self.documents:  # redirected (in the browser) to a page archived already
                    self.stats.inc_value("newsarchive/render/duplicate")
                    raise AlreadyArchived(f"rendered page already archived in this crawl: {url}")
                self.documents.add(url_key(url))  # before the first await, as for requisites
            if not is_document:
                if url in self.archived:
                    continue
                self.archived.add(url)  # before the first await: pages rendered at once share requisites
            exchange = await _exchange(pw_response)
            if exchange is None:
                self.stats.inc_value("newsarchive/render/body_unavailable")
                continue
            kind = str(request.meta.get(META_KIND)) if is_document else REQUISITE
            info = self._capture(exchange, kind, request)
            self.stats.inc_value("newsarchive/render/responses")
            if is_document and not 300 <= info.status < 400:
                document = info
        return document

    def _capture(self, exchange: tuple[Request, Response], kind: str, page_request: Request) -> CaptureInfo:
        scrapy_request, scrapy_response = exchange
        scrapy_request.meta[META_KIND] = kind
        scrapy_request.meta[META_SITE] = page_request.meta.get(META_SITE)
        if kind != REQUISITE and META_PRIOR in page_request.meta:
            scrapy_request.meta[META_PRIOR] = page_request.meta[META_PRIOR]
        info = self.capture.capture(scrapy_request, scrapy_response)
        if kind != REQUISITE and scrapy_request.meta.get(META_UNCHANGED):
            page_request.meta[META_UNCHANGED] = True
        return info

    def write_dom(self, response: Response, document: CaptureInfo) -> None:
        session = ArchiveSession.of(self.crawler)
        ctype = (response.headers.get(b"Content-Type") or b"text/html").decode("latin-1")
        with session.lock:
            session.writer.write_conversion(response.url, document.record_id, response.body, ctype,
                                            moment=datetime.now(UTC))
        self.stats.inc_value("newsarchive/render/dom_records")


async def _close(page: Any) -> None:
    from playwright.async_api import Error as PlaywrightError

    try:
        await page.close()
    except PlaywrightError as exc:  # the browser went away: nothing left to close
        logger.debug("closing a page failed: %s", exc)


def _appender(request: Request) -> Any:
    def append(pw_response: Any) -> None:
        log = request.meta.get(META_LOG)
        if log is not None:
            log.append(pw_response)

    return append


async def _exchange(pw_response: Any) -> tuple[Request, Response] | None:
    """A Playwright response as the Scrapy request and response the capture middleware archives."""
    from playwright.async_api import Error as PlaywrightError

    pw_request = pw_response.request
    try:
        body = b"" if 300 <= pw_response.status < 400 else await pw_response.body()
        response_headers = await pw_response.headers_array()
        request_headers = await pw_request.headers_array()
        server = await pw_response.server_addr()
    except PlaywrightError:
        return None
    headers = Headers()
    for pair in _kept(response_headers):
        headers.appendlist(pair[0], pair[1])
    if body or pw_response.status not in (204, 304):
        headers[b"Content-Length"] = str(len(body)).encode()
    request = Request(pw_response.url, method=pw_request.method, body=pw_request.post_data_buffer or b"")
    for item in request_headers:
        if not item["name"].startswith(":"):
            request.headers.appendlist(item["name"], item["value"])
    ip = None
    if server and server.get("ipAddress"):
        try:
            ip = ipaddress.ip_address(server["ipAddress"])
        except ValueError:
            ip = None
    response = Response(pw_response.url, status=pw_response.status, headers=headers, body=body, request=request,
                        ip_address=ip, protocol="HTTP/1.1")
    return request, response


def _kept(pairs: Iterable[dict[str, str]]) -> list[tuple[str, str]]:
    return [(p["name"], p["value"]) for p in pairs if p["name"].lower() not in _DROPPED
            and not p["name"].startswith(":")]
