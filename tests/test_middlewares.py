"""The capture middleware and pipelines as components (no reactor): built with get_crawler."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.warc import read_record
from newsarchive.crawler.middlewares import META_CAPTURE, META_KIND, META_UNCHANGED, CaptureMiddleware
from newsarchive.crawler.pipelines import ExtractionPipeline, IndexPipeline
from newsarchive.crawler.session import ArchiveSession

BODY = ("<html lang=de><head><title>Putin will Nordkorea besuchen</title></head><body><article>"
        "<h1>Putin will Nordkorea besuchen</h1>" + "<p>Russlands Präsident Wladimir Putin will nach Angaben aus "
        "dem Kreml in das international isolierte Nordkorea reisen, sagte Kremlsprecher Dmitri Peskow.</p>" * 4
        + "</article></body></html>").encode()


@pytest.fixture
def crawler(tmp_path: Path):  # type: ignore[no-untyped-def]
    crawler = get_crawler(Spider, {"NEWSARCHIVE_HOME": str(tmp_path), "NEWSARCHIVE_EXTRACTION_WORKERS": 0})
    crawler.spider = Spider("t")
    session = ArchiveSession.of(crawler)
    session.spider_opened(crawler.spider)
    yield crawler
    session.spider_closed(crawler.spider, "finished")


def test_gzip_body_and_redirect_are_archived_before_rewriting(crawler, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mw = CaptureMiddleware.from_crawler(crawler)
    raw = gzip.compress(BODY)
    req = Request("http://127.0.0.1:9/a.html", meta={META_KIND: "article"})
    resp = Response(req.url, status=200, body=raw, request=req,
                    headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    assert mw.process_response(req, resp) is resp
    info = req.meta[META_CAPTURE]
    redirect = Request("http://127.0.0.1:9/old")
    mw.process_response(redirect, Response(redirect.url, status=301, headers={"Location": "/a.html"}, request=redirect))
    ArchiveSession.of(crawler).flush_index()  # rows are committed in batches by the index writer thread
    index = ArchiveIndex(ArchiveHome.resolve(tmp_path).index_url)
    with index.sessions() as s:
        rows = {c.url: c for c in s.query(Capture)}
    assert rows["http://127.0.0.1:9/old"].status == 301 and rows["http://127.0.0.1:9/old"].location == "/a.html"
    row = rows["http://127.0.0.1:9/a.html"]
    assert row.id == info.capture_id and row.kind == "article" and row.url_key == "127.0.0.1:9/a.html"
    stored = read_record(ArchiveHome.resolve(tmp_path).warc_dir, row.warc_ref)
    assert stored.payload == raw and stored.http_header("Content-Encoding") == "gzip"
    assert stored.warc_header("WARC-Record-ID") == row.record_id
    # the same payload again is an identical-payload revisit pointing at the first capture
    again = Request("http://127.0.0.1:9/a.html")
    mw.process_response(again, Response(again.url, status=200, body=raw, request=again,
                                        headers={"Content-Encoding": "gzip"}))
    assert again.meta[META_UNCHANGED]
    ArchiveSession.of(crawler).flush_index()
    with index.sessions() as s:
        revisit = s.query(Capture).filter(Capture.record_type == "revisit").one()
    assert revisit.refers_to_record_id == row.record_id


def test_pipelines_extract_then_write_metadata_and_article(crawler, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from newsarchive.crawler.items import ArticleItem

    mw = CaptureMiddleware.from_crawler(crawler)
    req = Request("http://127.0.0.1:9/story.html")
    resp = HtmlResponse(req.url, body=BODY, request=req, headers={"Content-Type": "text/html; charset=utf-8"})
    mw.process_response(req, resp)
    item = ArticleItem(url=req.url, capture=req.meta[META_CAPTURE], html=resp.text, site="demo")
    extraction = ExtractionPipeline.from_crawler(crawler)
    extraction.open_spider()
    item = asyncio.run(extraction.process_item(item))
    extraction.spider_closed()
    assert item.extraction.ok and "Dmitri Peskow" in item.extraction.text
    IndexPipeline.from_crawler(crawler).process_item(item)
    ArchiveSession.of(crawler).flush_index()
    index = ArchiveIndex(ArchiveHome.resolve(tmp_path).index_url)
    with index.sessions() as s:
        article = s.query(Article).one()
    assert article.title == "Putin will Nordkorea besuchen" and article.language == "de"
    assert article.metadata_record_id and crawler.stats.get_value("newsarchive/extraction/ok") == 1


def test_broken_html_is_a_counted_failure_not_a_crash(crawler) -> None:  # type: ignore[no-untyped-def]
    from newsarchive.crawler.items import ArticleItem
    from newsarchive.crawler.session import CaptureInfo

    extraction = ExtractionPipeline.from_crawler(crawler)
    info = CaptureInfo(Capture(id=1), "<urn:x>", "sha1:X", __import__("datetime").datetime.now(), 200)
    item = asyncio.run(extraction.process_item(ArticleItem("http://127.0.0.1:9/x", info, "\x00\x01<<<>>", "demo")))
    extraction.spider_closed()
    assert not item.extraction.ok and item.extraction.reason
    failed = {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("newsarchive/extraction/failed/")}
    assert sum(failed.values()) == 1
