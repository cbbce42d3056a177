"""Oversized bodies, bodies cut by the peer and huge headers leave a record (WARC-Truncated) and a reason."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import StopDownload
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Capture, FetchFailure
from newsarchive.archive.warc import HttpExchange, WarcWriter, read_record
from newsarchive.crawler.middlewares import CaptureMiddleware
from newsarchive.crawler.session import ArchiveSession
from newsarchive.crawler.truncation import META_MAXSIZE, TruncationMiddleware

PARA = b"<p>" + b"The harbour bridge reopened after eighteen months of repairs. " * 10 + b"</p>\n"


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[object]:
    crawler = get_crawler(Spider, {"NEWSARCHIVE_HOME": str(tmp_path), "NEWSARCHIVE_EXTRACTION_WORKERS": 0,
                                   "DOWNLOAD_MAXSIZE": 1000, "RETRY_TIMES": 1})
    crawler.spider = Spider.from_crawler(crawler, name="t")
    session = ArchiveSession.of(crawler)
    session.spider_opened(crawler.spider)
    yield crawler
    session.spider_closed(crawler.spider, "finished")


def captures(home: Path) -> dict[str, Capture]:
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        rows = list(s.query(Capture).order_by(Capture.id))
        s.expunge_all()
    return {c.url: c for c in rows}


def test_limit_taken_over_and_enforced_on_what_arrives(crawler) -> None:  # type: ignore[no-untyped-def]
    mw = TruncationMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1:9/big")
    mw.process_request(request)
    assert request.meta["download_maxsize"] == 0 and request.meta[META_MAXSIZE] == 1000  # Scrapy would drop it
    mw.bytes_received(b"x" * 600, request)
    with pytest.raises(StopDownload) as stop:
        mw.bytes_received(b"x" * 600, request)
    assert stop.value.fail is False  # the response, with what arrived, goes on to the middlewares
    own = Request("http://127.0.0.1:9/own", meta={"download_maxsize": 5000})
    mw.process_request(own)
    assert own.meta[META_MAXSIZE] == 5000


def test_oversized_body_is_archived_truncated(crawler, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    trunc, capture = TruncationMiddleware.from_crawler(crawler), CaptureMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1:9/big")
    trunc.process_request(request)
    body = PARA * 3
    with pytest.raises(StopDownload):
        trunc.bytes_received(body, request)
    response = Response(request.url, status=200, body=body, request=request, flags=["download_stopped"],
                        headers={"Content-Type": "text/html", "Content-Length": str(len(body) * 10)})
    assert trunc.process_response(request, capture.process_response(request, response)) is response
    ArchiveSession.of(crawler).flush_index()
    row = captures(tmp_path)[request.url]
    assert row.truncated == "length"
    stored = read_record(ArchiveHome.resolve(tmp_path).warc_dir, row.warc_ref)
    assert stored.warc_header("WARC-Truncated") == "length" and stored.payload == body
    assert crawler.stats.get_value("newsarchive/truncated/length") == 1


def test_body_cut_by_the_peer_is_archived_then_retried(crawler, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    trunc, capture = TruncationMiddleware.from_crawler(crawler), CaptureMiddleware.from_crawler(crawler)
    request = Request("http://127.0.0.1:9/cut")
    outcomes = []
    for _ in range(2):  # RETRY_TIMES = 1: one retry, then the truncated response goes on
        trunc.process_request(request)
        response = Response(request.url, status=200, body=PARA, request=request, flags=["dataloss"])
        outcome = trunc.process_response(request, capture.process_response(request, response))
        outcomes.append(outcome)
        if isinstance(outcome, Request):
            request = outcome
    assert isinstance(outcomes[0], Request) and outcomes[1] is response
    ArchiveSession.of(crawler).flush_index()
    index = ArchiveIndex(ArchiveHome.resolve(tmp_path).index_url)
    with index.sessions() as s:
        rows = list(s.query(Capture).filter(Capture.url == request.url))
    assert [r.truncated for r in rows] == ["disconnect", "disconnect"]


def test_reindex_restores_the_reason(tmp_path: Path) -> None:
    from newsarchive.archive.reindex import reindex

    with WarcWriter(tmp_path / "warcs") as writer:
        writer.write_exchange(HttpExchange("http://127.0.0.1:9/big", 200, [("Content-Type", "text/html")], PARA,
                                           warc_headers=(("WARC-Truncated", "length"),)))
    index = ArchiveIndex(f"sqlite:///{tmp_path / 'index.sqlite'}")
    reindex(index, tmp_path / "warcs")
    with index.sessions() as s:
        assert [c.truncated for c in s.query(Capture)] == ["length"]


# -- a whole crawl against a local server that misbehaves ----------------------------------------------------------
def _serve(conn: socket.socket) -> None:
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        path = data.split(b" ")[1]

        def head(extra: bytes, length: int) -> bytes:
            return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n" + extra
                    + b"Content-Length: %d\r\n\r\n" % length)

        page = b"<html><head><title>%s</title></head><body><article><h1>%s</h1>%s</article></body></html>"
        if path == b"/":
            links = b"".join(b'<a href="/%s">%s</a> ' % (n, n) for n in (b"big", b"cut", b"long-header", b"longer"))
            body = page % (b"Index", b"Index", links)
            conn.sendall(head(b"", len(body)) + body)
        elif path == b"/big":
            body = page % (b"Big", b"Big", PARA * 600)
            conn.sendall(head(b"", len(body)) + body)
        elif path == b"/cut":
            body = page % (b"Cut", b"Cut", PARA * 100)
            conn.sendall(head(b"", len(body)) + body[: len(body) // 3])
        elif path in (b"/long-header", b"/longer"):
            body = page % (b"Long", b"Long", PARA)
            size = 100_000 if path == b"/long-header" else 3_000_000
            conn.sendall(head(b"X-Long: " + b"a" * size + b"\r\n", len(body)) + body)
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.fixture
def misbehaving_site() -> Iterator[str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(50)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    stop.set()
    server.close()


@pytest.mark.slow
def test_crawl_keeps_what_arrived_and_says_why(misbehaving_site: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.run([sys.executable, "-m", "newsarchive", "crawl", misbehaving_site, "--home", str(home),
                           "-s", "DOWNLOAD_MAXSIZE=100000", "-s", "RETRY_TIMES=1", "-s", "DOWNLOAD_DELAY=0",
                           "-s", "ROBOTSTXT_OBEY=False"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = captures(home)
    big, cut, long_header = rows[misbehaving_site + "big"], rows[misbehaving_site + "cut"], rows[misbehaving_site
                                                                                                  + "long-header"]
    assert big.truncated == "length" and 100_000 < (big.content_length or 0) < len(PARA) * 600
    assert "body over the size limit" in proc.stderr and "WARC-Truncated: length" in proc.stderr
    assert cut.truncated == "disconnect" and "WARC-Truncated: disconnect" in proc.stderr
    warcs = ArchiveHome.resolve(home).warc_dir
    assert read_record(warcs, big.warc_ref).warc_header("WARC-Truncated") == "length"
    assert long_header.truncated is None  # a 100 KB header line is archived whole
    assert len(read_record(warcs, long_header.warc_ref).http_header("X-Long") or "") == 100_000
    assert misbehaving_site + "longer" not in rows  # over NEWSARCHIVE_MAX_HEADER_LINE: no response at all ...
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        failures = {f.url: f.reason for f in s.query(FetchFailure)}
    assert "NEWSARCHIVE_MAX_HEADER_LINE" in failures[misbehaving_site + "longer"]  # ... but a reason that says why
    assert json.dumps(failures)  # plain strings
