"""Section strategy: home and section pages, following article-like links of the site to a depth."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.http import Request, Response, TextResponse
from scrapy.utils.response import get_base_url

from newsarchive.crawler.sites import SiteConfig
from newsarchive.spiders.base import META_DEPTH, BaseNewsSpider, _is_html

logger = logging.getLogger(__name__)

_ANCHOR_HREF = re.compile(r"""<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def link_targets(html: str) -> list[str]:
    """The ``href`` of every ``<a>`` of a page, entities decoded, in page order.

    A scan, not a parse: an lxml tree of a 300 KB news page costs ~10 ms and several MB, and Scrapy keeps
    the tree cached on the response until the page's article is extracted, which multiplies the crawl's
    memory by the pages waiting for extraction.
    """
    found: list[str] = []
    for match in _ANCHOR_HREF.finditer(html):
        value = match.group(1) if match.group(1) is not None else match.group(2) if match.group(2) is not None \
            else match.group(3)
        if value and "&" in value:
            value = unescape(value)
        if value:
            found.append(value)
    return found


class PageLinks:
    """``urljoin`` of one page's links against its base URL, short-cut for the forms most links take.

    Link following was the largest per-page cost of the crawl's main process (``bench/profile_crawl.py
    --pages 200``: 18% of its CPU), most of it ``urljoin`` and then parsing the joined URL again to find its
    site. A plain link (ASCII, printable, no ``?``, ``#``, ``;`` or ``[]``, no dot segment) that is
    root-relative joins to the page's origin plus the link, on the page's own host, and one that is absolute
    (``http:``, ``https:``, ``//``) is itself: exactly what ``urljoin`` returns for them, without parsing
    anything. Every other link goes through ``urljoin``.
    """

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.base = base
        self.scheme = parts.scheme
        self.origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""

    def join(self, href: str) -> tuple[str, bool] | None:
        """(absolute URL, whether it is on the page's own host for certain); None for a link ``urljoin``
        rejects (``http://[ccpa-preferences]``: not an IPv6 address)."""
        if self.origin and _PLAIN_LINK.match(href) and "/." not in href and href.isascii() and href.isprintable():
            if href[:1] == "/" and href[1:2] != "/":
                return self.origin + href, True
            if href[:2] == "//":
                return f"{self.scheme}:{href}", False
            return href, False
        try:
            return urljoin(self.base, href), False
        except ValueError:
            return None


# root-relative, or absolute with a host; no query, fragment, parameters or brackets (see PageLinks)
_PLAIN_LINK = re.compile(r"(?:(?:https?:)?//[^/?#;\[\]]+(?:/[^?#;\[\]]*)?|/(?!/)[^?#;\[\]]*)\Z")


class SectionStrategy(BaseNewsSpider):
    def start_sections(self, site: SiteConfig) -> Iterator[Request | None]:
        for url in site.start_urls:
            yield self.make_request(url, site, "section", self.parse_section, depth=0)

    def parse_section(self, response: Response) -> Iterator[Any]:
        site = self.site_of(response.url)
        if site is None or not isinstance(response, TextResponse) or not _is_html(response):
            return
        discover = getattr(self, "discover_feeds", None)
        if discover is not None:
            yield from discover(response, site)
        yield from self.follow_links(response, site)

    def follow_links(self, response: Response, site: SiteConfig, html: str | None = None) -> Iterator[Any]:
        """Requests for the page's article and section links: each distinct link once, at most
        ``NEWSARCHIVE_MAX_LINKS_PER_PAGE`` of them, none once the site's page budget is spent, and the
        archive consulted for all of them at once (a page with 100,000 links costs seconds, not minutes)."""
        depth = int(response.meta.get(META_DEPTH, 0))
        if depth >= site.depth or "sections" not in self.strategies or not isinstance(response, TextResponse):
            return
        if self.budget_spent(site):
            self.crawler.stats.inc_value("newsarchive/skipped/links_budget_spent")
            return
        limit = self.settings.getint("NEWSARCHIVE_MAX_LINKS_PER_PAGE", 5000)
        articles: list[str] = []
        sections: list[str] = []
        seen: set[str] = set()
        hrefs = link_targets(html if html is not None else response.text)  # one decoded copy of the page
        links = PageLinks(get_base_url(response))
        own = self.site_of(links.base)
        for href in hrefs:
            if href in seen:
                continue
            seen.add(href)
            joined = links.join(href.strip())
            if joined is None:
                self.crawler.stats.inc_value("newsarchive/skipped/bad_link")
                continue
            url, same_host = joined
            if (own if same_host else self.site_of(url)) is not site or not self.allowed(url, site):
                continue
            if self.is_article_url(url, site):
                articles.append(url)
            elif self.is_section_url(url, site):
                sections.append(url)
            if limit and len(articles) + len(sections) >= limit:
                self.crawler.stats.inc_value("newsarchive/skipped/links_over_limit", len(hrefs) - len(seen))
                logger.warning("%s: more than %d links; the first %d followed", response.url, limit, limit)
                break
        self.prefetch_priors(articles, site)
        for url in articles:
            if self.budget_spent(site):
                return
            if (request := self.article_request(url, site, depth=depth + 1)) is not None:
                yield request
        for url in sections:
            if self.budget_spent(site):
                return
            if (request := self.make_request(url, site, "section", self.parse_section, depth=depth + 1)) is not None:
                yield request

    def is_section_url(self, url: str, site: SiteConfig) -> bool:
        from urllib.parse import urlsplit

        from newsarchive.spiders.base import NAV_PATH

        path = urlsplit(url).path
        return path.count("/") <= 3 and not NAV_PATH.search(path) and "?" not in url
