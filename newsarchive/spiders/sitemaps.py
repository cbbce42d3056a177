"""Sitemap strategy: robots.txt ``Sitemap:`` lines and declared sitemaps, sitemap indexes, Google News sitemaps."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from newsarchive.crawler.sites import SiteConfig
from newsarchive.spiders.base import BaseNewsSpider

logger = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit
# URLs whose recrawl candidates are looked up at once: the cache of those lookups (one URL key per URL) then
# holds a batch, not a whole sitemap of up to 50,000 URLs, while the requests of the batch are queued
PRIOR_BATCH = 1000


class SitemapStrategy(BaseNewsSpider):
    def start_sitemaps(self, site: SiteConfig) -> Iterator[Request | None]:
        for url in site.sitemaps:
            yield self.make_request(url, site, "sitemap", self.parse_sitemap)

    async def late_start_sitemaps(self, site: SiteConfig) -> list[Request | None]:
        """Sitemaps named in robots.txt, read from the robots.txt Scrapy fetches anyway (no second fetch)."""
        requests: list[Request | None] = []
        robots = self._robots_middleware()
        roots = {urlunsplit((p.scheme, p.netloc, "/robots.txt", "", "")) for p in map(urlsplit, site.start_urls)}
        for root in sorted(roots):
            if robots is None:  # ROBOTSTXT_OBEY is off: fetch robots.txt ourselves
                requests.append(self.make_request(root, site, "robots", self.parse_robots))
                continue
            parser = await robots.robot_parser(Request(root))
            listed = getattr(getattr(parser, "rp", None), "sitemaps", None) or ()
            for url in listed:
                absolute = urljoin(root, url)
                if self.site_of(absolute) is site:
                    requests.append(self.make_request(absolute, site, "sitemap", self.parse_sitemap))
        return requests

    def _robots_middleware(self) -> RobotsTxtMiddleware | None:
        engine = self.crawler.engine
        middlewares = engine.downloader.middleware.middlewares if engine is not None else ()
        return next((m for m in middlewares if isinstance(m, RobotsTxtMiddleware)), None)

    def parse_robots(self, response: Response) -> Iterator[Any]:
        site = self.site_of(response.url)
        if site is None:
            return
        for url in sitemap_urls_from_robots(response.text, base_url=response.url):
            if self.site_of(url) is site:
                yield self.make_request(url, site, "sitemap", self.parse_sitemap)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        site = self.site_of(response.url)
        if site is None:
            return
        body = self._sitemap_body(response)
        try:
            sitemap = Sitemap(body)
        except Exception as exc:  # lxml raises on non-XML
            self.crawler.stats.inc_value("newsarchive/sitemaps/unparseable")
            logger.warning("not a sitemap: %s (%s)", response.url, exc)
            return
        self.crawler.stats.inc_value("newsarchive/sitemaps/parsed")
        locs = [loc for loc in (entry.get("loc") for entry in sitemap) if loc and self.site_of(loc) is site]
        for start in range(0, len(locs), PRIOR_BATCH):
            batch = locs[start:start + PRIOR_BATCH]
            if sitemap.type == "urlset":
                self.prefetch_priors(batch, site)  # one query per batch, not one per URL
            for loc in batch:
                if self.budget_spent(site):
                    self.crawler.stats.inc_value("newsarchive/skipped/links_budget_spent")
                    return
                if sitemap.type == "sitemapindex":
                    yield self.make_request(loc, site, "sitemap", self.parse_sitemap)
                elif sitemap.type == "urlset":
                    yield self.listed_article_request(loc, site)

    def _sitemap_body(self, response: Response) -> bytes:
        body = response.body
        if body[:2] == b"\x1f\x8b":  # a .xml.gz file (not Content-Encoding, which is already undone)
            try:
                return gunzip(body, max_size=MAX_SITEMAP_BYTES)
            except Exception as exc:
                logger.warning("bad gzip sitemap %s: %s", response.url, exc)
                return b""
        return body
