"""The spiders: one per crawl strategy, and ``news`` combining all three.

    scrapy crawl news -a url=https://example.org/
    scrapy crawl feeds -a sites=sites.toml -a site=example
"""

from __future__ import annotations

from newsarchive.spiders.feeds import FeedStrategy
from newsarchive.spiders.sections import SectionStrategy
from newsarchive.spiders.sitemaps import SitemapStrategy


class NewsSpider(SitemapStrategy, FeedStrategy, SectionStrategy):
    """Sitemaps (robots.txt, indexes, news sitemaps), feeds (declared, autodiscovered) and section pages."""

    name = "news"
    strategies = ("sitemaps", "feeds", "sections")


class FeedSpider(FeedStrategy):
    name = "feeds"
    strategies = ("feeds",)


class SitemapSpider(SitemapStrategy):
    name = "sitemaps"
    strategies = ("sitemaps",)


class SectionSpider(SectionStrategy):
    name = "sections"
    strategies = ("sections",)


SPIDERS = {cls.name: cls for cls in (NewsSpider, FeedSpider, SitemapSpider, SectionSpider)}
