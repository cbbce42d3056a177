"""Feed strategy: RSS/Atom feeds declared in the site config or autodiscovered via <link rel=alternate>."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import feedparser
from scrapy.http import Request, Response, TextResponse

from newsarchive.crawler.sites import SiteConfig
from newsarchive.spiders.base import BaseNewsSpider

logger = logging.getLogger(__name__)

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml")


class FeedStrategy(BaseNewsSpider):
    def start_feeds(self, site: SiteConfig) -> Iterator[Request | None]:
        for url in site.feeds:
            yield self.make_request(url, site, "feed", self.parse_feed)
        if "sections" not in self.strategies:  # the section strategy discovers feeds on the pages it fetches
            for url in site.start_urls:
                yield self.make_request(url, site, "section", self.parse_discovery)

    def parse_discovery(self, response: Response) -> Iterator[Any]:
        site = self.site_of(response.url)
        if site is not None:
            yield from self.discover_feeds(response, site)

    def discover_feeds(self, response: Response, site: SiteConfig) -> Iterator[Request | None]:
        if not isinstance(response, TextResponse):
            return
        for link in response.css("link[rel~=alternate][href]"):
            kind = (link.attrib.get("type") or "").lower()
            if kind in FEED_TYPES:
                url = response.urljoin(link.attrib["href"])
                if self.site_of(url) is site:
                    yield self.make_request(url, site, "feed", self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        site = self.site_of(response.url)
        if site is None:
            return
        parsed = feedparser.parse(response.body)
        if not parsed.entries:
            self.crawler.stats.inc_value("newsarchive/feeds/empty_or_unparseable")
            logger.warning("feed %s has no entries (%s)", response.url, parsed.get("bozo_exception", "empty"))
            return
        self.crawler.stats.inc_value("newsarchive/feeds/parsed")
        links = [response.urljoin(link) for link in (entry.get("link") for entry in parsed.entries) if link]
        links = [link for link in links if self.site_of(link) is site]
        self.prefetch_priors(links, site)  # recrawl candidates of the whole feed in one query
        for link in links:
            yield self.listed_article_request(link, site)
