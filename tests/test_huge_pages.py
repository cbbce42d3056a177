"""A page with 100,000 links: bounded, batched link handling, no index query per link (issue 16, item 1)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from sqlalchemy import event

from newsarchive.archive.models import Article, Capture
from newsarchive.archive.urls import canonicalize, host_of, url_key
from newsarchive.crawler.session import ArchiveSession
from newsarchive.crawler.sites import SiteConfig
from newsarchive.spiders.base import META_DEPTH
from newsarchive.spiders.news import NewsSpider

BASE = "http://127.0.0.1:8000"
LINKS = 100_000


def huge_page(links: int) -> HtmlResponse:
    body = "".join(f'<li><a href="/politik/meldung-{i:06d}-aus-der-welt.html">Meldung {i}</a></li>'
                   for i in range(links))
    html = f"<html><body><ul>{body}</ul></body></html>".encode()
    request = Request(BASE + "/", meta={META_DEPTH: 0})
    return HtmlResponse(BASE + "/", body=html, request=request, headers={"Content-Type": "text/html; charset=utf-8"})


def archive(session: ArchiveSession, paths: list[str], *, recrawl_due: bool = False) -> None:
    """Captures (with their articles) for ``paths``, committed before the crawl's spider opens."""
    fetched = datetime(2024, 1, 1, tzinfo=UTC) if recrawl_due else datetime.now(UTC)
    with session.index.session() as s:
        for n, path in enumerate(paths):
            url = BASE + path
            capture = Capture(url=url, canonical_url=canonicalize(url), url_key=url_key(url), host=host_of(url),
                              status=200, fetched_at=fetched, content_type="text/html", payload_digest="sha1:X",
                              record_type="response", record_id=f"<urn:uuid:{n}>", warc_file="x.warc.gz",
                              warc_offset=0, warc_length=1, kind="article")
            s.add(capture)
            s.flush()
            s.add(Article(capture_id=capture.id, url=url, canonical_url=url, site="s", status="ok", text="t"))


@pytest.fixture
def spider_of(tmp_path: Path) -> Iterator[Any]:
    opened: list[NewsSpider] = []

    def make(site: SiteConfig, archived: list[str], *, recrawl_due: bool = False, **settings: Any) -> NewsSpider:
        crawler = get_crawler(NewsSpider, {"NEWSARCHIVE_HOME": str(tmp_path), **settings})
        spider = NewsSpider.from_crawler(crawler, sites=[site])
        crawler.spider = spider
        session = ArchiveSession.of(crawler)
        archive(session, archived, recrawl_due=recrawl_due)
        session.spider_opened(spider)
        opened.append(spider)
        return spider  # type: ignore[no-any-return]

    yield make
    for spider in opened:
        ArchiveSession.of(spider.crawler).spider_closed(spider, "finished")


class QueryCounter:
    def __init__(self, engine: Any):
        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self.seen)

    def seen(self, *args: Any) -> None:
        self.count += 1

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self.seen)


def follow(spider: NewsSpider, response: HtmlResponse) -> tuple[list[Any], int, float]:
    counter = QueryCounter(spider.archive.index.engine)
    started = time.process_time()
    try:
        requests = [r for r in spider.parse_section(response) if r is not None]
    finally:
        counter.stop()
    return requests, counter.count, time.process_time() - started


def test_a_page_of_100000_links_is_followed_with_a_few_queries(spider_of: Any) -> None:
    site = SiteConfig.from_urls([BASE + "/"], recrawl="1h", depth=2)
    archived = [f"/politik/meldung-{i:06d}-aus-der-welt.html" for i in range(0, 2000, 2)]
    spider = spider_of(site, archived, recrawl_due=False, NEWSARCHIVE_MAX_LINKS_PER_PAGE=0)
    requests, queries, cpu = follow(spider, huge_page(LINKS))
    assert len(requests) == LINKS - len(archived), "archived and not due: skipped; every other link followed"
    # the 1,000 recrawl candidates in two chunks of three queries; nothing per link
    assert queries <= 6, f"{queries} queries for {LINKS} links: the archive must be asked in batches"
    assert cpu < 60, f"{cpu:.1f}s CPU for one page"  # a few seconds on a loaded 2-core machine; minutes before
    print(f"100,000 links: {cpu:.1f}s CPU, {queries} queries")


def test_links_stop_at_the_page_budget_and_the_per_page_limit(spider_of: Any) -> None:
    site = SiteConfig.from_urls([BASE + "/"], max_pages=50, depth=2)
    spider = spider_of(site, [])
    requests, queries, _cpu = follow(spider, huge_page(LINKS))
    assert len(requests) == 50 and queries == 0
    spider.requested[site.name] = 0
    limited = spider_of(SiteConfig.from_urls([BASE + "/"], depth=2), [], NEWSARCHIVE_MAX_LINKS_PER_PAGE=1000)
    requests, _queries, _cpu = follow(limited, huge_page(5000))
    assert len(requests) == 1000
    assert limited.crawler.stats.get_value("newsarchive/skipped/links_over_limit") == 4000


def test_recrawl_candidates_are_looked_up_in_one_batch(spider_of: Any) -> None:
    site = SiteConfig.from_urls([BASE + "/"], recrawl="1h", depth=2)
    archived = [f"/politik/meldung-{i:06d}-aus-der-welt.html" for i in range(100)]
    spider = spider_of(site, archived, recrawl_due=True)
    requests, queries, _cpu = follow(spider, huge_page(300))
    assert len(requests) == 300, "archived long ago: due again under 1h"
    conditional = [r for r in requests if b"If-None-Match" in r.headers or r.meta.get("newsarchive_prior")]
    assert len(conditional) == 100
    assert queries <= 3, f"{queries} queries: the recrawl candidates of a page are looked up in one batch"
    assert spider.crawler.stats.get_value("newsarchive/index/prior_lookups") is None
