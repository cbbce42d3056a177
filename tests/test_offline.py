"""Offline replay middleware: requests answered from the archive, through the usual response middlewares."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from newsarchive.crawler.middlewares import META_SKIP
from newsarchive.crawler.offline import OfflineReplayMiddleware
from tests.archive_builder import (
    OLD_URL,
    PHOTO,
    PHOTO_URL,
    STORY_HTML,
    STORY_URL,
    BuiltArchive,
    build_archive,
)

PRIORITY = 950


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("offline") / "home")


def middleware(archive: BuiltArchive, **settings: object) -> OfflineReplayMiddleware:
    crawler = get_crawler(Spider, {"NEWSARCHIVE_HOME": str(archive.root), "NEWSARCHIVE_OFFLINE_ENABLED": True,
                                   **settings})
    crawler.spider = Spider("t")
    return OfflineReplayMiddleware.from_crawler(crawler)


def test_off_by_default(archive: BuiltArchive) -> None:
    with pytest.raises(NotConfigured):
        OfflineReplayMiddleware.from_crawler(get_crawler(Spider, {"NEWSARCHIVE_HOME": str(archive.root)}))


def test_bad_settings_fail_at_startup(archive: BuiltArchive) -> None:
    with pytest.raises(ValueError, match="NEWSARCHIVE_OFFLINE_MISS"):
        middleware(archive, NEWSARCHIVE_OFFLINE_MISS="maybe")
    with pytest.raises(ValueError, match="NEWSARCHIVE_OFFLINE_TIMESTAMP"):
        middleware(archive, NEWSARCHIVE_OFFLINE_TIMESTAMP="yesterday")


def test_answers_with_the_archived_response(archive: BuiltArchive) -> None:
    mw = middleware(archive)
    request = Request(STORY_URL)
    response = mw.process_request(request)
    assert isinstance(response, HtmlResponse) and response.status == 200 and "offline" in response.flags
    assert response.headers[b"Content-Encoding"] == b"gzip" and gzip.decompress(response.body).decode() == STORY_HTML
    assert b"Transfer-Encoding" not in response.headers
    assert request.meta[META_SKIP]  # the capture middleware will not archive it again
    decoded = HttpCompressionMiddleware.from_crawler(get_crawler(Spider)).process_response(request, response)
    assert decoded.body.decode() == STORY_HTML
    photo = mw.process_request(Request(PHOTO_URL))
    assert photo.body == PHOTO and photo.headers[b"Content-Type"] == b"image/png"
    assert mw.stats is not None and mw.stats.get_value("newsarchive/offline/hit") == 2


def test_timestamp_picks_the_capture_and_revisits_resolve(archive: BuiltArchive) -> None:
    response = middleware(archive, NEWSARCHIVE_OFFLINE_TIMESTAMP="20240309").process_request(Request(STORY_URL))
    assert response.status == 200 and gzip.decompress(response.body).decode() == STORY_HTML  # the 304 revisit


def test_misses(archive: BuiltArchive) -> None:
    with pytest.raises(IgnoreRequest, match="not in the archive"):
        middleware(archive).process_request(Request("https://elsewhere.example/"))
    with pytest.raises(IgnoreRequest, match="only GET"):
        middleware(archive).process_request(Request(STORY_URL, method="POST"))
    miss = middleware(archive, NEWSARCHIVE_OFFLINE_MISS="404").process_request(Request("https://elsewhere.example/"))
    assert miss.status == 404 and "miss" in miss.flags


SCRIPT = textwrap.dedent("""
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    class Probe(scrapy.Spider):
        name = "probe"
        async def start(self):
            yield scrapy.Request(sys.argv[2])

        def parse(self, response):
            yield {"url": response.url, "status": response.status, "title": response.css("title::text").get(),
                   "redirects": response.meta.get("redirect_urls", []), "flags": response.flags}

    settings = get_project_settings()
    settings.set("NEWSARCHIVE_HOME", sys.argv[1])
    settings.set("NEWSARCHIVE_OFFLINE_ENABLED", True)
    settings.set("DOWNLOADER_MIDDLEWARES", {**settings.getdict("DOWNLOADER_MIDDLEWARES"),
                                            "newsarchive.crawler.offline.OfflineReplayMiddleware": PRIORITY})
    settings.set("DOWNLOAD_DELAY", 0)
    settings.set("AUTOTHROTTLE_ENABLED", False)
    settings.set("FEEDS", {sys.argv[3]: {"format": "json"}})
    process = CrawlerProcess(settings)
    process.crawl(Probe)
    process.start()
""").replace("PRIORITY", str(PRIORITY))


@pytest.mark.slow
def test_whole_crawl_offline(archive: BuiltArchive, tmp_path: Path) -> None:
    """A real crawl (subprocess) of hosts that do not exist: robots.txt, redirect and gzip all come from the archive."""
    script, out = tmp_path / "probe.py", tmp_path / "items.json"
    script.write_text(SCRIPT, encoding="utf-8")
    captures_before = len(archive.index.captures_of(STORY_URL))
    proc = subprocess.run([sys.executable, str(script), str(archive.root), OLD_URL, str(out)], capture_output=True,
                          text=True, timeout=120, env={"SCRAPY_SETTINGS_MODULE": "newsarchive.settings",
                                                       "PATH": "/usr/bin:/bin", "NEWSARCHIVE_HOME": ""})
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = json.loads(out.read_text())
    assert len(items) == 1, proc.stderr[-3000:]
    item = items[0]
    assert item["title"] == "Harbour bridge reopens after repairs" and item["status"] == 200
    assert item["redirects"] == [OLD_URL] and "offline" in item["flags"]
    assert "newsarchive/offline/hit" in proc.stderr
    assert len(archive.index.captures_of(STORY_URL)) == captures_before  # nothing archived twice
