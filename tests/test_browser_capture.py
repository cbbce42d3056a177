"""Browser capture (``render = true``): pages rendered in headless Chromium through scrapy-playwright, every
network response archived, the article extracted from the rendered DOM, the DOM kept as a conversion record.

The crawls need Debian's chromium (``apt-get install chromium``) and skip with that reason without it.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.warc import iter_records
from newsarchive.crawler import browser
from newsarchive.crawler.browser import BrowserMiddleware, browser_executable
from newsarchive.crawler.sites import SiteConfig
from tests.test_requisites import crawl_demo

OUTLET = "nx24"


class _Spider:
    name = "test"

    def __init__(self, sites: list[SiteConfig]):
        self.sites = sites


def _middleware(tmp_path: Path, **settings: Any) -> BrowserMiddleware:
    from newsarchive import settings as defaults

    crawler = get_crawler(settings_dict={"NEWSARCHIVE_HOME": str(tmp_path),
                                         "DOWNLOAD_HANDLERS": defaults.DOWNLOAD_HANDLERS, **settings})
    crawler.spider = _Spider([SiteConfig("js", start_urls=("http://js.test/",), render=True),
                              SiteConfig("plain", start_urls=("http://plain.test/",))])
    return BrowserMiddleware.from_crawler(crawler)


def _request(site: str, kind: str = "article") -> Request:
    return Request(f"http://{site}.test/a-123.html", meta={"newsarchive_site": site, "newsarchive_kind": kind},
                   headers={"If-None-Match": '"abc"'})


def test_render_sites_articles_are_marked_for_the_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "browser_executable", lambda configured: "/usr/bin/chromium")
    middleware = _middleware(tmp_path)
    rendered, plain, section = _request("js"), _request("plain"), _request("js", kind="section")
    for request in (rendered, plain, section):
        middleware.process_request(request)
    assert rendered.meta["playwright"] and rendered.meta["playwright_include_page"]
    assert b"If-None-Match" not in rendered.headers, "a browser shown a 304 would render an empty page"
    assert "playwright" not in plain.meta and "playwright" not in section.meta


def test_without_chromium_render_sites_are_fetched_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    middleware = _middleware(tmp_path, NEWSARCHIVE_BROWSER_EXECUTABLE=str(tmp_path / "no-chromium"))
    assert middleware.unavailable and "apt-get install chromium" in middleware.unavailable
    for _ in range(2):
        request = _request("js")
        middleware.process_request(request)
        assert "playwright" not in request.meta
    assert middleware.stats.get_value("newsarchive/render/unavailable") == 2
    assert sum("render = true" in r.getMessage() for r in caplog.records) == 1, "one warning, not one per page"


def test_browser_executable_prefers_the_configured_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert browser_executable(str(fake)) == str(fake)
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert browser_executable(str(tmp_path / "missing")) is None


# -- whole crawls -------------------------------------------------------------------------------------------

def _require_chromium() -> None:
    if browser_executable("/usr/bin/chromium") is None:
        pytest.skip("chromium is not installed (apt-get install chromium); render = true crawls need it")


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo outlet with its script-built live-blog page, crawled with and without ``render = true``."""
    _require_chromium()
    from newsarchive.demo.server import serve_demo

    with serve_demo(outlets=[OUTLET], scripted=True) as server:
        toml = server.sites_toml()
        plain, rendered = tmp_path_factory.mktemp("plain"), tmp_path_factory.mktemp("rendered")
        crawl_demo(toml, plain)
        server.clear_requests()
        crawl_demo(toml.replace(f"[sites.{OUTLET}]\n", f"[sites.{OUTLET}]\nrender = true\n", 1), rendered)
        yield server, plain, rendered


def _articles(home: Path) -> dict[str, Article]:
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        rows = {a.url: a for a in s.scalars(select(Article))}
    index.close()
    return rows


def _captures(home: Path) -> list[Capture]:
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        rows = list(s.scalars(select(Capture).order_by(Capture.id)))
    index.close()
    return rows


@pytest.mark.slow
def test_script_built_article_is_extracted_only_when_rendered(crawls: Any) -> None:
    server, plain, rendered = crawls
    url = server.urls(OUTLET).scripted
    story = server.stories(OUTLET)[0]
    sentence = story.paragraph_texts()[1][:60]
    without = _articles(plain)[url]
    assert without.status == "failed" and sentence not in (without.text or ""), \
        "without a browser the article text is not in the page"
    article = _articles(rendered)[url]
    assert article.status == "ok" and sentence in article.text and article.word_count > 100
    others = {u: a for u, a in _articles(rendered).items() if u != url}
    assert others and all(a.status == "ok" for a in others.values()), "ordinary articles still extract"
    assert len(_articles(rendered)) == len(set(_articles(rendered))), "one article row per page"


@pytest.mark.slow
def test_every_network_response_and_the_dom_are_archived(crawls: Any) -> None:
    server, _, rendered = crawls
    url = server.urls(OUTLET).scripted
    base = server.sites[OUTLET]
    captures = _captures(rendered)
    requisites = Counter(c.url for c in captures if c.kind == "requisite")
    assert {f"{base}/static/{OUTLET}.css", f"{base}/static/fonts.css", f"{base}/static/fonts/demo-icons.ttf",
            f"{base}/static/site.js", f"{base}/static/paper.png",
            f"{base}/media/logo-{OUTLET}.png"} <= set(requisites), "what the browser loaded, lazy logo included"
    assert max(requisites.values()) == 1, "each requisite once per crawl"
    lazy = f"{base}/media/{server.stories(OUTLET)[0].slug}-960.png"
    assert lazy in requisites, "the loading=lazy image 6000 px down the live blog: loaded by scrolling once"
    document = next(c for c in captures if c.url == url and c.kind == "article")
    assert document.record_type == "response" and document.status == 200
    warc_dir = ArchiveHome.resolve(rendered).warc_dir
    records = [r for path in sorted(warc_dir.glob("*.warc.gz")) for _, r in iter_records(path)]
    response = next(r for r in records if r.warc_header("WARC-Record-ID") == document.record_id)
    assert b"live-data" in response.payload and b"<p>" + story_text(server)[:30].encode() not in response.payload
    assert response.http_header("Content-Encoding") is None, "bodies from the browser are stored decoded"
    dom = [r for r in records if r.rec_type == "conversion" and r.warc_header("WARC-Refers-To") == document.record_id]
    assert len(dom) == 1 and story_text(server)[:30].encode() in dom[0].payload, "the rendered DOM, linked"
    requests = {r.warc_header("WARC-Concurrent-To") for r in records if r.rec_type == "request"}
    assert document.record_id in requests, "request + response records for browser traffic too"
    warcio = str(Path(sys.executable).with_name("warcio"))
    for path in warc_dir.iterdir():
        check = subprocess.run([warcio, "check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    verify = subprocess.run([sys.executable, "-m", "newsarchive", "verify", "--home", str(rendered)],
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def story_text(server: Any) -> str:
    return str(server.stories(OUTLET)[0].paragraph_texts()[0])


@pytest.mark.slow
def test_reextract_uses_the_rendered_dom(crawls: Any) -> None:
    """Re-extraction (no network) reads a rendered page's DOM record, not the script-only document."""
    from newsarchive.archive.lookup import ArchiveLookup
    from newsarchive.extract.reextract import archived_html

    server, _, rendered = crawls
    url = server.urls(OUTLET).scripted
    sentence = server.stories(OUTLET)[0].paragraph_texts()[1][:60]
    home = ArchiveHome.resolve(rendered)
    index = ArchiveIndex(home.index_url)
    lookup = ArchiveLookup(index, home.warc_dir)
    page = next(c for c in _captures(rendered) if c.url == url and c.kind == "article")
    plain = next(c for c in _captures(rendered) if c.kind == "article" and c.status == 200 and c.url != url)
    dom = archived_html(lookup, page)
    assert "live-body" in dom and "Der Liveblog wird geladen" not in dom, "the DOM after the script ran"
    assert "Der Liveblog wird geladen" in lookup.read(page).payload.decode("utf-8", "replace") or \
        page.record_type == "revisit", "while the document itself only has the placeholder"
    assert "live-data" not in archived_html(lookup, plain) and "<html" in archived_html(lookup, plain).lower()
    index.close()
    proc = subprocess.run([sys.executable, "-m", "newsarchive", "reextract", "--home", str(rendered)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    article = _articles(rendered)[url]
    assert article.status == "ok" and sentence in article.text


@pytest.mark.slow
def test_rendered_page_replays_with_its_script(crawls: Any) -> None:
    """The live blog archived by the browser replays in `newsarchive replay`: its script runs (sandboxed) and
    builds the text again, and nothing is asked of the live site."""
    from playwright.sync_api import sync_playwright

    from newsarchive.web.replay import ReplayOptions, ReplayServer, timestamp

    server, _, rendered = crawls
    url = server.urls(OUTLET).scripted
    sentence = server.stories(OUTLET)[0].paragraph_texts()[1][:60]
    home = ArchiveHome.resolve(rendered)
    index = ArchiveIndex(home.index_url)
    capture = next(c for c in index.captures_of(url) if c.kind == "article")
    server.clear_requests()
    with ReplayServer(index, home.warc_dir, ReplayOptions(port=0)) as replay, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser_executable("/usr/bin/chromium"), args=["--no-sandbox"])
        page = chromium.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{replay.url}/web/{timestamp(capture.fetched_at)}mp_/{url}", wait_until="networkidle")
        text = page.inner_text("#live-body")
        chromium.close()
    index.close()
    assert sentence in text.replace("\n", " ")
    assert all(u.startswith(replay.url + "/web/") for u in requested), requested
    assert not any(server.requests.values())


def test_a_crawl_without_render_sites_uses_scrapys_handlers() -> None:
    """Only crawls that render load Playwright and route requests through the browser handler."""
    from newsarchive.archive.home import ArchiveHome
    from newsarchive.crawler.sites import SiteConfig
    from newsarchive.service.crawl import CrawlOptions, crawl_settings, without_unused_browser

    home = ArchiveHome.resolve("/nonexistent-home", "sqlite:///:memory:")
    plain = SiteConfig("plain", start_urls=("http://127.0.0.1:1/",))
    rendered = SiteConfig("rendered", start_urls=("http://127.0.0.1:1/",), render=True)
    handler = "newsarchive.crawler.browser_handler.BrowserDownloadHandler"
    for sites, expected in (([plain], False), ([plain, rendered], True)):
        settings = without_unused_browser(crawl_settings(home, CrawlOptions()), sites, CrawlOptions())
        assert (settings.getwithbase("DOWNLOAD_HANDLERS")["https"] == handler) is expected
