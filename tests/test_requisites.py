"""Page requisites: found in HTML and CSS, scheduled once per crawl within budgets, archived as their own
kind, revisited on later crawls (conditional GETs), never articles."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.crawler.requisites import (
    KIND,
    RequisitesMiddleware,
    absolute,
    css_urls,
    html_requisites,
    srcset_urls,
)
from newsarchive.crawler.sites import SiteConfig

PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="/css/site.css"><link rel="preload" as="font" href="/f/a.woff2" crossorigin>
<link rel="alternate" type="application/rss+xml" href="/rss.xml"><link rel="canonical" href="/a.html">
<link rel="shortcut icon" href="/fav.png"><meta property="og:image" content="https://cdn.example/og.jpg">
<style>@import "/css/print.css"; .x{background:url('/img/bg.png')} /* url(/img/commented.png) */</style>
<script src="/js/app.js"></script><script>var notAUrl = "url(/nope.png)";</script></head><body>
<img src="/img/a.png" srcset="/img/a-2x.png 2x, /img/a-3x.png 3x">
<img src="data:image/gif;base64,R0lGOD" data-src="/img/lazy.png" data-srcset="/img/lazy-1.png 1x, /img/lazy-2.png 2x">
<picture><source srcset="/img/p-wide.webp 1200w, /img/p.webp 600w" type="image/webp"><img src="/img/p.jpg"></picture>
<video poster="/img/poster.jpg"><source src="/v/movie.mp4"></video>
<div style="background-image:url(&quot;/img/inline.png&quot;)">x</div>
<a href="/other-article.html">not a requisite</a></body></html>"""


def test_html_requisites_finds_every_kind_of_reference() -> None:
    refs, has_icon = html_requisites(PAGE)
    assert has_icon
    expected = {"/css/site.css", "/f/a.woff2", "/fav.png", "https://cdn.example/og.jpg", "/css/print.css",
                "/img/bg.png", "/js/app.js", "/img/a.png", "/img/a-2x.png", "/img/a-3x.png", "/img/lazy.png",
                "/img/lazy-1.png", "/img/lazy-2.png", "/img/p-wide.webp", "/img/p.webp", "/img/p.jpg",
                "/img/poster.jpg", "/img/inline.png"}
    assert expected <= set(refs)
    assert not {"/rss.xml", "/a.html", "/other-article.html", "/img/commented.png", "/nope.png",
                "/v/movie.mp4"} & set(refs)
    assert refs[0] == "/css/site.css", "stylesheets first: they lead to fonts"


def test_css_and_srcset_parsing() -> None:
    css = """@import url("fonts.css"); @import 'print.css' print;
    /* @import "ignored.css"; url(ignored.png) */
    @font-face{src:url(fonts/a.woff2) format("woff2"), url('fonts/a.ttf')}
    .hero{background:url( "img/hero.jpg" )} .logo{background:url(data:image/png;base64,AAAA)}"""
    assert css_urls(css) == ["print.css", "fonts.css", "fonts/a.woff2", "fonts/a.ttf", "img/hero.jpg",
                             "data:image/png;base64,AAAA"]
    assert srcset_urls("a.png 1x,b.png 2x, c.png 640w") == ["a.png", "b.png", "c.png"]
    assert srcset_urls("/img/x,y.png 1x, /img/z.png 2x") == ["/img/x,y.png", "/img/z.png"]
    assert absolute("data:image/png;base64,AAAA", "http://a.test/x") is None
    assert absolute("javascript:void(0)", "http://a.test/x") is None
    assert absolute("img/a.png#frag", "http://a.test/css/site.css") == "http://a.test/css/img/a.png"
    assert absolute("//cdn.test/a.png", "https://a.test/") == "https://cdn.test/a.png"


def test_html_requisites_survives_garbage() -> None:
    assert html_requisites("") == ([], False)
    refs, _ = html_requisites("<html><img src='/a.png'><<<>>\x00<img srcset='/b.png 1x")
    assert "/a.png" in refs


class _Spider:
    def __init__(self, sites: list[SiteConfig]):
        self.sites = sites
        self.name = "test"


def _middleware(tmp_path: Path, sites: list[SiteConfig], **settings: Any) -> tuple[RequisitesMiddleware, Any]:
    crawler = get_crawler(settings_dict={"NEWSARCHIVE_HOME": str(tmp_path), **settings})
    spider = _Spider(sites)
    crawler.spider = spider
    middleware = RequisitesMiddleware.from_crawler(crawler)
    middleware.install(spider)  # type: ignore[arg-type]
    return middleware, crawler


def _page(url: str, html: str, site: str, kind: str = "article") -> HtmlResponse:
    request = Request(url, meta={"newsarchive_kind": kind, "newsarchive_site": site})
    return HtmlResponse(url, body=html.encode(), encoding="utf-8", request=request,
                        headers={"Content-Type": "text/html; charset=utf-8"})


def _urls(requests: Any) -> list[str]:
    return [r.url for r in requests if isinstance(r, Request)]


def test_middleware_schedules_once_per_crawl_same_site_and_allowed_hosts(tmp_path: Path) -> None:
    site = SiteConfig("news", start_urls=("http://news.test/",), requisite_hosts=("cdn.example",))
    middleware, crawler = _middleware(tmp_path, [site])
    html = PAGE + '<img src="http://tracker.test/pixel.gif"><img src="http://img.news.test/sub.png">'
    first = _urls(middleware.process_spider_output(_page("http://news.test/a.html", html, "news"), []))
    assert "http://news.test/css/site.css" in first and "https://cdn.example/og.jpg" in first
    assert "http://img.news.test/sub.png" in first, "subdomains of the site are the site"
    assert not any("tracker.test" in u for u in first), "third-party hosts need requisite_hosts"
    assert "http://news.test/favicon.ico" not in first, "the page names its icon"
    assert len(first) == len(set(first))
    second = _urls(middleware.process_spider_output(_page("http://news.test/b.html", html, "news"), []))
    assert second == [], "shared requisites are requested once per crawl"
    stats = crawler.stats.get_stats()
    assert stats["newsarchive/requisites/skipped/host"] >= 1
    request = next(r for r in middleware.process_spider_output(
        _page("http://news.test/c.html", "<img src='/new.png'>", "news"), []) if isinstance(r, Request))
    assert request.meta["newsarchive_kind"] == KIND and request.meta["allow_offsite"]
    assert request.callback == crawler.spider.parse_requisite
    assert b"If-None-Match" not in request.headers, "never archived: a plain GET"
    assert any(u.endswith("/favicon.ico") for u in _urls(middleware.process_spider_output(
        _page("http://news.test/d.html", "<p>no icon named</p>", "news"), [])))


def test_middleware_budgets_kinds_and_site_switch(tmp_path: Path) -> None:
    on = SiteConfig("on", start_urls=("http://on.test/",))
    off = SiteConfig("off", start_urls=("http://off.test/",), requisites=False)
    middleware, crawler = _middleware(tmp_path, [on, off], NEWSARCHIVE_REQUISITES_PER_PAGE=3,
                                      NEWSARCHIVE_REQUISITES_MAX=5)
    many = "".join(f'<img src="/i{n}.png">' for n in range(10))
    assert len(_urls(middleware.process_spider_output(_page("http://on.test/a.html", many, "on"), []))) == 3
    assert _urls(middleware.process_spider_output(_page("http://on.test/s/", many, "on", kind="section"), [])) == []
    assert _urls(middleware.process_spider_output(_page("http://off.test/a.html", many, "off"), [])) == []
    other = "".join(f'<img src="/j{n}.png">' for n in range(10))
    assert len(_urls(middleware.process_spider_output(_page("http://on.test/b.html", other, "on"), []))) == 2
    stats = crawler.stats.get_stats()
    assert stats["newsarchive/requisites/skipped/page_budget"] >= 7
    assert stats["newsarchive/requisites/skipped/crawl_budget"] >= 1
    assert stats["newsarchive/requisites/requested"] == 5


def test_stylesheet_references_are_requisites_too(tmp_path: Path) -> None:
    site = SiteConfig("news", start_urls=("http://news.test/",))
    middleware, crawler = _middleware(tmp_path, [site])
    css = b'@import "fonts.css"; body{background:url(../img/bg.png)} .x{background:url(http://evil.test/a.png)}'
    request = Request("http://news.test/css/site.css", meta={"newsarchive_kind": KIND, "newsarchive_site": "news"})
    response = TextResponse(request.url, body=css, encoding="utf-8", request=request,
                            headers={"Content-Type": "text/css"})
    assert _urls(crawler.spider.parse_requisite(response)) == ["http://news.test/css/fonts.css",
                                                                "http://news.test/img/bg.png"]
    image = Request("http://news.test/img/bg.png", meta={"newsarchive_kind": KIND, "newsarchive_site": "news"})
    assert _urls(crawler.spider.parse_requisite(TextResponse(image.url, body=b"url(x.png)", request=image,
                                                              headers={"Content-Type": "image/png"}))) == []


def test_switched_off_by_setting() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        RequisitesMiddleware.from_crawler(get_crawler(settings_dict={"NEWSARCHIVE_REQUISITES_ENABLED": False}))


# -- whole crawls -------------------------------------------------------------------------------------------

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=0"]


def crawl_demo(toml: str, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "sites.toml").write_text(toml, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "newsarchive", "crawl", "--sites", str(home / "sites.toml"),
                           "--home", str(home), *FAST], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _captures(home: Path) -> list[Capture]:
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        rows = list(s.scalars(select(Capture).order_by(Capture.id)))
    index.close()
    return rows


def _served(server: Any, outlet: str) -> Counter[str]:
    return Counter(entry.path for entry in server.requests[outlet])


@pytest.mark.slow
def test_requisites_once_per_crawl_then_revisits_and_clean_warcs(tmp_path: Path, demo_server_factory: Any) -> None:
    server = demo_server_factory(stories_per_outlet="all", outlets=["nx24"])
    toml = server.sites_toml().replace("[defaults]\n", '[defaults]\nrecrawl = "always"\n', 1)
    crawl_demo(toml, tmp_path)
    first = [c for c in _captures(tmp_path) if c.kind == KIND]
    urls = Counter(c.url for c in first)
    base = server.sites["nx24"]
    assert {f"{base}/static/nx24.css", f"{base}/static/fonts.css", f"{base}/static/fonts/demo-icons.ttf",
            f"{base}/static/paper.png", f"{base}/favicon.ico", f"{base}/static/site.js",
            f"{base}/media/logo-nx24.png"} <= set(urls), "stylesheet, its @import and url()s, icon, script, data-src"
    assert sum(1 for u in urls if u.endswith("-960.png")) == 5, "og:image / srcset / <picture> of 5 stories"
    assert max(urls.values()) == 1, "each requisite once per crawl, shared by the five article pages"
    served = _served(server, "nx24")
    assert served["/static/nx24.css"] == 1 and served["/static/fonts/demo-icons.ttf"] == 1
    assert all(c.status == 200 and c.record_type == "response" for c in first)

    crawl_demo(toml, tmp_path)
    second = [c for c in _captures(tmp_path) if c.kind == KIND and c.id > max(x.id for x in first)]
    assert Counter(c.url for c in second) == urls, "the same requisites again, once each"
    assert all(c.record_type == "revisit" and c.status == 304 for c in second), \
        "unchanged requisites: conditional GETs answered 304, stored as revisits"
    assert _served(server, "nx24")["/static/fonts/demo-icons.ttf"] == 2, "the font (via the 304 stylesheet) too"
    assert any(e.headers.get("If-None-Match") for e in server.requests["nx24"] if e.path == "/static/nx24.css")

    index = ArchiveIndex(ArchiveHome.resolve(tmp_path).index_url)
    with index.sessions() as s:
        kinds = {c.kind for c in s.scalars(select(Capture).join(Article, Article.capture_id == Capture.id))}
    index.close()
    assert kinds == {"article"}, "requisites never become articles"
    warcio = str(Path(sys.executable).with_name("warcio"))
    for path in ArchiveHome.resolve(tmp_path).warc_dir.iterdir():
        check = subprocess.run([warcio, "check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    verify = subprocess.run([sys.executable, "-m", "newsarchive", "verify", "--home", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.slow
def test_requisites_false_per_site(tmp_path: Path, demo_server_factory: Any) -> None:
    server = demo_server_factory(outlets=["kronenpost"])
    toml = server.sites_toml().replace("[sites.kronenpost]\n", "[sites.kronenpost]\nrequisites = false\n", 1)
    crawl_demo(toml, tmp_path)
    captures = _captures(tmp_path)
    assert any(c.kind == "article" for c in captures)
    assert not [c.url for c in captures if c.kind == KIND]
    assert not [p for p in _served(server, "kronenpost") if p.startswith(("/static/", "/media/"))]


def test_requisite_requests_survive_disk_and_redis_queues(tmp_path: Path) -> None:
    """Queued requests are stored as dicts naming spider methods: the middleware's callbacks are the spider's."""
    from scrapy.utils.request import request_from_dict

    site = SiteConfig("news", start_urls=("http://news.test/",))
    middleware, crawler = _middleware(tmp_path, [site])
    request = next(r for r in middleware.process_spider_output(
        _page("http://news.test/a.html", "<img src='/a.png'>", "news"), []) if isinstance(r, Request))
    data = request.to_dict(spider=crawler.spider)
    assert data["callback"] == "parse_requisite" and data["errback"] == "requisite_failed"
    again = request_from_dict(data, spider=crawler.spider)
    assert again.url == request.url and again.callback == crawler.spider.parse_requisite


def test_section_pages_too_when_configured(tmp_path: Path) -> None:
    site = SiteConfig("news", start_urls=("http://news.test/",))
    middleware, _ = _middleware(tmp_path, [site], NEWSARCHIVE_REQUISITES_KINDS="article,section")
    urls = _urls(middleware.process_spider_output(_page("http://news.test/s/", "<img src='/s.png'>", "news",
                                                        kind="section"), []))
    assert urls == ["http://news.test/s.png", "http://news.test/favicon.ico"]
    assert _urls(middleware.process_spider_output(_page("http://news.test/feed", "<img src='/f.png'>", "news",
                                                        kind="feed"), [])) == []
