"""Page requisites: what an archived page needs to render (stylesheets, images, fonts, scripts, icons).

A spider middleware (enabled at 800 in settings.py, see there): for each response of a kind listed in
``NEWSARCHIVE_REQUISITES_KINDS`` (default: article pages) it parses the HTML and schedules, through Scrapy's
scheduler, requests for

* stylesheets (``<link rel=stylesheet>``, ``<style>`` blocks, ``style=""``) and, once they arrive, what they
  ``@import`` and ``url()`` (fonts, background images, further stylesheets);
* images: ``src``, ``srcset``, ``<picture><source srcset>``, lazy-load attributes (``data-src``,
  ``data-srcset``, ``data-lazy-src``, ``data-original``), ``poster``, ``og:image`` / ``twitter:image``;
* scripts, favicons (``<link rel=icon>``, else ``/favicon.ico`` as browsers ask for it), preloads.

Requisite requests have kind ``requisite`` (``Capture.kind``, the ``Newsarchive-Kind`` WARC field): the
capture middleware archives them as it archives everything, no pipeline turns them into articles. They pass
the same robots.txt, delay and per-host concurrency as pages; hosts are the page's site (its host and
``allowed_domains``) plus the site's ``requisite_hosts``. Each URL is requested once per crawl (this
middleware's set, and the scheduler's duplicate filter, which Redis shares between workers) and shared by
every page that uses it. On later crawls they are conditional GETs from their last capture, as articles
are (``newsarchive_prior``): a 304 or an unchanged payload is stored as a revisit by the capture middleware.

Budgets: ``NEWSARCHIVE_REQUISITES_PER_PAGE`` new requisites per page (a stylesheet's own ``url()`` count
against the stylesheet), ``NEWSARCHIVE_REQUISITES_MAX`` per crawl; ``requisites = false`` per site in
sites.toml, or ``NEWSARCHIVE_REQUISITES_ENABLED = False`` for the whole crawl, switches it off.
Stats: ``newsarchive/requisites/{requested,fetched,skipped/<reason>,failed/<reason>}``.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import html as lxml_html
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from newsarchive.archive.lookup import ArchiveLookup, NotArchived
from newsarchive.archive.urls import url_key
from newsarchive.crawler.middlewares import META_KIND, META_PRIOR
from newsarchive.crawler.session import ArchiveSession
from newsarchive.crawler.sites import META_SITE, SiteConfig, site_named

logger = logging.getLogger(__name__)

KIND = "requisite"
META_REQUISITE_OF = "newsarchive_requisite_of"  # URL of the page (or stylesheet) that referenced it
META_RENDERED = "newsarchive_rendered"  # set by crawler/browser.py on pages a browser rendered
CALLBACK = "parse_requisite"  # installed on the spider: requests must name a spider method (Redis queues)
ERRBACK = "requisite_failed"

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<val>[^"')]*?)(?P=q)\s*\)""", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?P<q>["'])(?P<val>[^"']+)(?P=q)""", re.I)
_SKIP_SCHEMES = ("data:", "blob:", "javascript:", "about:", "mailto:", "tel:", "#")
_ICON_RELS = {"icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon"}
_PRELOAD_AS = {"style", "font", "image", "script"}
_LAZY_ATTRS = ("data-src", "data-lazy-src", "data-original")
_SRCSET_ATTRS = ("srcset", "data-srcset", "imagesrcset")
_CSS_TYPES = ("text/css",)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset`` value (``a.png 1x, b.png 2x``), parsed as the HTML standard says: a URL runs
    to the next white space (a trailing comma ends the candidate), descriptors run to the next comma."""
    out, pos, n = [], 0, len(value)
    while pos < n:
        while pos < n and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < n and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            while pos < n and value[pos] != ",":
                pos += 1
        if url:
            out.append(url)
    return out


def css_urls(css: str) -> list[str]:
    """``@import`` and ``url()`` targets of a stylesheet, in order, comments ignored."""
    text = _CSS_COMMENT.sub("", css)
    found = [m["val"] for m in _CSS_IMPORT.finditer(text)]
    found += [m["val"] for m in _CSS_URL.finditer(text)]
    return [u.strip() for u in found if u.strip()]


def html_requisites(html: str) -> tuple[list[str], bool]:
    """Requisite references in an HTML page (relative as written), and whether it names a favicon.

    Order: stylesheets first (they lead to fonts), then scripts, icons, images.
    """
    try:
        root = lxml_html.fromstring(html)
    except (ValueError, lxml_html.etree.ParserError):
        return [], False
    found: list[str] = []
    has_icon = False
    for link in root.iter("link"):
        rel = set((link.get("rel") or "").lower().split())
        href = link.get("href") or ""
        if "stylesheet" in rel or ("preload" in rel and (link.get("as") or "").lower() in _PRELOAD_AS):
            found.append(href)
        elif rel & _ICON_RELS:
            found.append(href)
            has_icon = True
        if link.get("imagesrcset"):
            found += srcset_urls(link.get("imagesrcset") or "")
    found += [s.get("src") or "" for s in root.iter("script") if s.get("src")]
    found += _image_refs(root)
    for style in root.iter("style"):
        found += css_urls(style.text_content())
    found += [u for el in root.xpath("//*[@style]") for u in css_urls(el.get("style") or "")]
    return found, has_icon


def _image_refs(root: Any) -> list[str]:
    found: list[str] = []
    for el in root.xpath("//img|//source|//video|//input[@type='image']"):
        for attr in ("src", *_LAZY_ATTRS):
            if el.get(attr) and not (el.tag == "source" and el.getparent() is not None
                                     and el.getparent().tag in ("video", "audio") and attr == "src"):
                found.append(el.get(attr))
        for attr in _SRCSET_ATTRS:
            if el.get(attr):
                found += srcset_urls(el.get(attr))
        if el.get("poster"):
            found.append(el.get("poster"))
    for meta in root.iter("meta"):
        name = (meta.get("property") or meta.get("name") or "").lower()
        if name in ("og:image", "og:image:url", "og:image:secure_url", "twitter:image") and meta.get("content"):
            found.append(meta.get("content"))
    return found


def absolute(ref: str, base: str) -> str | None:
    """``ref`` resolved against ``base`` without its fragment; None for data:, javascript: and the like."""
    ref = ref.strip()
    if not ref or ref.lower().startswith(_SKIP_SCHEMES):
        return None
    parts = urlsplit(urljoin(base, ref))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


@dataclass(frozen=True)
class RequisiteOptions:
    per_page: int = 100
    per_crawl: int = 10_000
    kinds: frozenset[str] = frozenset({"article"})
    max_size: int = 16 * 1024 * 1024


class RequisitesMiddleware:
    """Schedules each page's requisites (and a stylesheet's ``url()``/``@import``) once per crawl."""

    def __init__(self, crawler: Crawler, options: RequisiteOptions):
        self.crawler = crawler
        self.stats = crawler.stats
        self.options = options
        self.requested: set[str] = set()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequisitesMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_REQUISITES_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_REQUISITES_ENABLED is off")
        kinds = frozenset(k.strip() for k in settings.getlist("NEWSARCHIVE_REQUISITES_KINDS", ["article"]) if k)
        options = RequisiteOptions(per_page=settings.getint("NEWSARCHIVE_REQUISITES_PER_PAGE", 100),
                                   per_crawl=settings.getint("NEWSARCHIVE_REQUISITES_MAX", 10_000),
                                   kinds=kinds, max_size=settings.getint("NEWSARCHIVE_REQUISITES_MAXSIZE",
                                                                         16 * 1024 * 1024))
        if options.per_page < 0 or options.per_crawl < 0:
            raise ValueError("NEWSARCHIVE_REQUISITES_PER_PAGE and NEWSARCHIVE_REQUISITES_MAX must be >= 0")
        return cls(crawler, options)

    def spider_opened(self, spider: Spider) -> None:
        self.install(spider)

    def install(self, spider: Spider) -> None:
        """Give the spider the requisite callback and errback: requests in disk or Redis queues can only name
        spider methods, and the spiders need not know about requisites."""
        if getattr(spider, CALLBACK, None) is None:
            setattr(spider, CALLBACK, self.parse_requisite)
            setattr(spider, ERRBACK, self.requisite_failed)

    # -- spider middleware --------------------------------------------------------------------------------------
    def process_spider_output(self, response: Response, result: Iterable[Any],
                              spider: Spider | None = None) -> Iterator[Any]:
        yield from result
        yield from self.page_requisites(response)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any],
                                          spider: Spider | None = None) -> AsyncIterator[Any]:
        async for item in result:
            yield item
        for request in self.page_requisites(response):
            yield request

    def page_requisites(self, response: Response) -> Iterator[Request]:
        """A page's requisites; for a 304 (unchanged page), those of its archived original."""
        spider = self.crawler.spider
        if spider is None or response.meta.get(META_KIND) not in self.options.kinds \
                or response.status not in (200, 304):
            return
        if response.meta.get(META_RENDERED):  # the browser archived what the page loaded (crawler/browser.py)
            return
        site = self.site_of(response, spider)
        if site is None or not site.requisites:
            return
        if response.status == 304:
            html = self.archived_text(response.url, _HTML_TYPES)
        elif isinstance(response, TextResponse) and _has_type(response.headers.get(b"Content-Type"), _HTML_TYPES,
                                                               empty_ok=True):
            html = response.text
        else:
            return
        refs, has_icon = html_requisites(html) if html else ([], True)
        if not has_icon:
            refs.append("/favicon.ico")  # browsers ask for it when the page names no icon
        self.install(spider)
        yield from self.schedule(response, refs, site)

    def site_of(self, response: Response, spider: Spider) -> SiteConfig | None:
        return site_named(getattr(spider, "sites", ()), response.meta.get(META_SITE))

    # -- scheduling ----------------------------------------------------------------------------------------------
    def schedule(self, response: Response, refs: Iterable[str], site: SiteConfig) -> Iterator[Request]:
        base = response.urljoin("") if isinstance(response, TextResponse) else response.url
        budget = self.options.per_page
        for ref in refs:
            url = absolute(ref, base)
            if url is None or url in self.requested:
                continue
            if not self.host_allowed(url, response.url, site):
                self.stats.inc_value("newsarchive/requisites/skipped/host")
                continue
            if budget <= 0:
                self.stats.inc_value("newsarchive/requisites/skipped/page_budget")
                continue
            if len(self.requested) >= self.options.per_crawl:
                self.stats.inc_value("newsarchive/requisites/skipped/crawl_budget")
                continue
            budget -= 1
            self.requested.add(url)
            yield self.request(url, response.url, site)

    @staticmethod
    def host_allowed(url: str, page_url: str, site: SiteConfig) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        page_host = (urlsplit(page_url).hostname or "").lower()
        allowed = {page_host, *(d.lower() for d in site.domains), *(h.lower() for h in site.requisite_hosts)}
        return any(host == h or host.endswith("." + h) for h in allowed if h)

    def request(self, url: str, referrer: str, site: SiteConfig) -> Request:
        meta: dict[str, Any] = {META_KIND: KIND, META_SITE: site.name, META_REQUISITE_OF: referrer,
                                "allow_offsite": True, "handle_httpstatus_all": True,
                                "download_maxsize": self.options.max_size}
        headers: dict[str, str] = {"Referer": referrer}
        prior = ArchiveSession.of(self.crawler).index.prior_capture(url_key(url))
        if prior is not None:  # a conditional GET: 304 or the same payload become revisits (capture middleware)
            meta[META_PRIOR] = prior
            if prior.etag:
                headers["If-None-Match"] = prior.etag
            if prior.last_modified:
                headers["If-Modified-Since"] = prior.last_modified
            self.stats.inc_value("newsarchive/requisites/conditional")
        self.stats.inc_value("newsarchive/requisites/requested")
        spider = self.crawler.spider
        return Request(url, callback=getattr(spider, CALLBACK), errback=getattr(spider, ERRBACK), meta=meta,
                       headers=headers, priority=10)

    # -- callbacks (installed on the spider) ---------------------------------------------------------------------
    def parse_requisite(self, response: Response) -> Iterator[Request]:
        """A requisite arrived (and is archived): a stylesheet's own references are requisites too."""
        self.stats.inc_value("newsarchive/requisites/fetched")
        self.stats.inc_value(f"newsarchive/requisites/status/{response.status}")
        site = self.site_of(response, self.crawler.spider) if self.crawler.spider is not None else None
        if site is None or not (response.status == 304 or (response.status == 200 and _is_css(response))):
            return
        if response.status == 304:  # unchanged: what it references is due for a conditional GET too
            css = self.archived_text(response.url, _CSS_TYPES)
        elif isinstance(response, TextResponse):
            css = response.text
        else:
            css = response.body.decode("utf-8", "replace")
        yield from self.schedule(response, css_urls(css), site)

    def archived_text(self, url: str, types: tuple[str, ...]) -> str:
        """The newest archived full capture of ``url``, decoded, if its Content-Type is one of ``types``."""
        session = ArchiveSession.of(self.crawler)
        lookup = ArchiveLookup(session.index, session.home.warc_dir)
        try:
            original = lookup.original(lookup.nearest(url))
            if not _has_type((original.content_type or "").encode("latin-1"), types, empty_ok=False):
                return ""  # an image or a font: nothing to look into (and no record to read)
            record = lookup.read(original)
        except NotArchived as exc:
            logger.info("%s answered 304 but its original is not readable: %s", url, exc)
            return ""
        body = record.payload
        if (record.http_header("Content-Encoding") or "").lower() in ("gzip", "x-gzip"):
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError):
                return ""
        return body.decode("utf-8", "replace")

    def requisite_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(IgnoreRequest) and "robots.txt" in (failure.getErrorMessage() or ""):
            self.stats.inc_value("newsarchive/requisites/skipped/robots_txt")
            return
        reason = failure.type.__name__ if failure.type is not None else "Error"
        self.stats.inc_value(f"newsarchive/requisites/failed/{reason}")
        logger.info("requisite not fetched: %s (%s)", request.url, failure.getErrorMessage() or reason)


def _is_css(response: Response) -> bool:
    if _has_type(response.headers.get(b"Content-Type"), _CSS_TYPES, empty_ok=False):
        return True
    return not response.headers.get(b"Content-Type") and urlsplit(response.url).path.endswith(".css")


def _has_type(header: bytes | None, types: tuple[str, ...], *, empty_ok: bool) -> bool:
    ctype = (header or b"").decode("latin-1").lower()
    return any(t in ctype for t in types) if ctype else empty_ok
