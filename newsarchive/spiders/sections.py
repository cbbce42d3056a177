"""Section strategy: home and section pages, following article-like links of the site to a depth."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Request, Response, TextResponse

from newsarchive.crawler.sites import SiteConfig
from newsarchive.spiders.base import META_DEPTH, BaseNewsSpider, _is_html


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

    def follow_links(self, response: Response, site: SiteConfig) -> Iterator[Any]:
        depth = int(response.meta.get(META_DEPTH, 0))
        if depth >= site.depth or "sections" not in self.strategies or not isinstance(response, TextResponse):
            return
        for href in response.css("a[href]::attr(href)").getall():
            url = response.urljoin(href.strip())
            if self.site_of(url) is not site or not self.allowed(url, site):
                continue
            if self.is_article_url(url, site):
                yield self.article_request(url, site, depth=depth + 1)
            elif self.is_section_url(url, site):
                yield self.make_request(url, site, "section", self.parse_section, depth=depth + 1)

    def is_section_url(self, url: str, site: SiteConfig) -> bool:
        from urllib.parse import urlsplit

        from newsarchive.spiders.base import NAV_PATH

        path = urlsplit(url).path
        return path.count("/") <= 3 and not NAV_PATH.search(path) and "?" not in url
