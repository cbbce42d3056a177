"""A small archive built in a test's tmp_path: WARC files written with WarcWriter plus the index rows the
crawler would write for them (capture rows like CaptureMiddleware, article rows like IndexPipeline).

Shared by test_replay, test_search, test_reindex, test_verify, test_cdxj, test_offline and test_web_ui.
"""

from __future__ import annotations

import gzip
import itertools
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from newsarchive.archive.charset import decode_html
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.urls import canonicalize, host_of, url_key
from newsarchive.archive.warc import (
    REVISIT_IDENTICAL,
    REVISIT_NOT_MODIFIED,
    CaptureRecord,
    HttpExchange,
    Revisit,
    WarcWriter,
    WarcWriterOptions,
    sha1_digest,
)

T0 = datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC)
STORY_URL = "https://news.example/politik/story-1.html"
BERICHT_URL = "https://zeitung.example/wirtschaft/bericht-2.html"
PHOTO_URL = "https://news.example/img/photo.png"
CSS_URL = "https://news.example/style.css"
OLD_URL = "http://news.example/old-story"

STORY_HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Harbour bridge reopens after repairs</title>
<link rel="stylesheet" href="/style.css">
<script src="https://cdn.example/tracker.js"></script>
<script>
  fetch('/search?q=bridge').then(r => r.text()).then(t => { document.title = 'LEAK ' + t.length; },
                                                          e => { document.title = 'BLOCKED'; });
</script>
</head><body><header><nav><a href="/">Home</a> <a href='/politik/'>Politik</a></nav></header>
<article><h1>Harbour bridge reopens after repairs</h1>
<p class="byline">By Jane Reporter</p>
<img id="photo" src="../img/photo.png" srcset="/img/photo.png 1x, /img/photo.png 2x" alt="bridge">
<p>The harbour bridge reopened on Friday morning after eighteen months of repairs that closed the
crossing to all traffic. Commuters lined up before dawn to be among the first to drive across.</p>
<p>City engineers said the steel cables had been replaced and the deck strengthened to carry heavier
lorries. The works cost considerably more than planned because corrosion was worse than expected.</p>
<p>The mayor thanked residents for their patience and promised that the ferry service which replaced
the bridge would continue on weekends. Read <a href="https://zeitung.example/wirtschaft/bericht-2.html">
the German report</a>.</p>
</article></body></html>"""

BERICHT_HTML = """<!DOCTYPE html><html lang="de"><head><meta charset="iso-8859-1">
<title>Hafenbrücke wieder geöffnet</title></head><body>
<article><h1>Hafenbrücke wieder geöffnet</h1>
<p>Die Hafenbrücke ist nach achtzehn Monaten Bauzeit wieder für den Verkehr freigegeben worden. Pendler
standen schon vor Sonnenaufgang Schlange, um als Erste über die Brücke zu fahren.</p>
<p>Die Ingenieure der Stadt ersetzten die Stahlseile und verstärkten die Fahrbahn für schwerere
Lastwagen. Die Kosten stiegen deutlich, weil die Korrosion größer war als erwartet.</p>
<p>Der Bürgermeister dankte den Anwohnern für ihre Geduld und versprach, die Fähre am Wochenende
weiter fahren zu lassen.</p></article></body></html>"""

CSS = "body { background: #fff url('/img/photo.png') no-repeat; }\n"


def png(width: int = 16, height: int = 16, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG (solid colour), so a browser renders it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


PHOTO = png()


@dataclass
class BuiltArchive:
    root: Path
    warc_dir: Path
    index_url: str
    index: ArchiveIndex
    captures: dict[str, Capture] = field(default_factory=dict)
    articles: dict[str, Article] = field(default_factory=dict)
    records: dict[str, CaptureRecord] = field(default_factory=dict)


def _ids() -> itertools.count[int]:
    return itertools.count(1)


def capture_row(exchange: HttpExchange, written: CaptureRecord, revisit: Revisit | None, kind: str) -> Capture:
    """The row CaptureMiddleware.capture writes for one exchange."""
    def header(name: str) -> str | None:
        return next((v[:255] for k, v in exchange.response_headers if k.lower() == name.lower()), None)

    return Capture(
        run_id=None, url=exchange.url, canonical_url=canonicalize(exchange.url), url_key=url_key(exchange.url),
        refers_to_record_id=revisit.refers_to_record_id if revisit else None, host=host_of(exchange.url),
        method=exchange.method, status=exchange.status, fetched_at=written.fetched_at,
        content_type=header("Content-Type"), content_length=len(exchange.body),
        payload_digest=written.payload_digest, record_type=written.record_type, record_id=written.record_id,
        warc_file=written.ref.path, warc_offset=written.ref.offset, warc_length=written.ref.length,
        request_record_id=written.request_record_id, etag=header("ETag"), last_modified=header("Last-Modified"),
        location=header("Location"), kind=kind,
    )


class Builder:
    def __init__(self, root: Path, index_url: str | None = None, max_size: int = 1_000_000_000):
        root.mkdir(parents=True, exist_ok=True)
        counter = _ids()
        self.clock_value = T0
        options = WarcWriterOptions(prefix="test", host="builder", max_size=max_size,
                                    clock=lambda: self.clock_value,
                                    make_record_id=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>")
        self.writer = WarcWriter(root / "warcs", options)
        url = index_url or f"sqlite:///{root / 'index.sqlite'}"
        self.archive = BuiltArchive(root, root / "warcs", url, ArchiveIndex(url))

    def exchange(self, name: str, exchange: HttpExchange, *, revisit: Revisit | None = None,
                 kind: str = "page") -> Capture:
        assert exchange.fetched_at is not None
        self.clock_value = exchange.fetched_at
        written = self.writer.write_exchange(exchange, revisit=revisit)
        row = capture_row(exchange, written, revisit, kind)
        self.archive.index.add_capture(row)
        self.archive.captures[name] = row
        self.archive.records[name] = written
        return row

    def article(self, name: str, capture_name: str, html_bytes: bytes, content_type: str, site: str) -> Article:
        from newsarchive.extract.article import extract
        from newsarchive.extract.records import ArticleSource, article_row

        capture = self.archive.captures[capture_name]
        html, _ = decode_html(html_bytes, content_type)
        result = extract(html, capture.url, None)
        fields = {**result.as_record(), "newsarchive_site": site}
        _ref, meta_id = self.writer.write_metadata(capture.url, capture.record_id, fields, moment=capture.fetched_at)
        row = article_row(result, ArticleSource(capture.id, capture.url, site, capture.fetched_at), meta_id)
        self.archive.index.add_article(row)
        self.archive.articles[name] = row
        return row

    def close(self) -> BuiltArchive:
        self.writer.close()
        return self.archive


def at(days: float = 0, minutes: float = 0) -> datetime:
    from datetime import timedelta

    return T0 + timedelta(days=days, minutes=minutes)


def build_archive(root: Path, index_url: str | None = None, max_size: int = 1_000_000_000) -> BuiltArchive:
    """Story (gzip), its photo and CSS, a German report (latin-1), a redirect, a 404, two kinds of revisit."""
    b = Builder(root, index_url, max_size)
    story_gz = gzip.compress(STORY_HTML.encode("utf-8"), mtime=0)
    req = [("Host", "news.example"), ("User-Agent", "newsarchive-test"), ("Accept-Encoding", "gzip")]
    b.exchange("redirect", HttpExchange(OLD_URL, 301, [("Location", "/politik/story-1.html"),
                                                      ("Content-Length", "0")], b"", request_headers=req,
                                        fetched_at=at(minutes=-1)))
    b.exchange("robots", HttpExchange("https://news.example/robots.txt", 404, [("Content-Type", "text/plain")],
                                      b"not found", request_headers=req, fetched_at=at(minutes=-2)), kind="robots")
    story_headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
                     ("ETag", '"story-v1"'), ("Set-Cookie", "session=abc; Path=/"), ("X-Frame-Options", "DENY"),
                     ("Transfer-Encoding", "chunked"), ("Content-Security-Policy", "default-src *")]
    b.exchange("story", HttpExchange(STORY_URL, 200, story_headers, story_gz, request_headers=req, reason="OK",
                                     ip_address="192.0.2.1", fetched_at=at()), kind="article")
    b.article("story", "story", STORY_HTML.encode("utf-8"), "text/html; charset=utf-8", "news")
    b.exchange("photo", HttpExchange(PHOTO_URL, 200, [("Content-Type", "image/png")], PHOTO, request_headers=req,
                                     fetched_at=at(minutes=1)))
    b.exchange("css", HttpExchange(CSS_URL, 200, [("Content-Type", "text/css")], CSS.encode(), request_headers=req,
                                   fetched_at=at(minutes=1)))
    latin = BERICHT_HTML.encode("iso-8859-1")
    b.exchange("bericht", HttpExchange(BERICHT_URL, 200, [("Content-Type", "text/html; charset=iso-8859-1")], latin,
                                       request_headers=[("Host", "zeitung.example")], fetched_at=at(days=1)),
               kind="article")
    b.article("bericht", "bericht", latin, "text/html; charset=iso-8859-1", "zeitung")
    story = b.archive.captures["story"]
    same = Revisit(story.url, story.fetched_at, story.record_id, story.payload_digest, REVISIT_IDENTICAL)
    b.exchange("story_revisit", HttpExchange(STORY_URL, 200, story_headers, story_gz, request_headers=req,
                                             fetched_at=at(days=4)), revisit=same)
    not_modified = Revisit(story.url, story.fetched_at, story.record_id, story.payload_digest, REVISIT_NOT_MODIFIED)
    b.exchange("story_304", HttpExchange(STORY_URL, 304, [("ETag", '"story-v1"')], b"",
                                         request_headers=[*req, ("If-None-Match", '"story-v1"')],
                                         fetched_at=at(days=7)), revisit=not_modified)
    assert sha1_digest(story_gz) == story.payload_digest
    return b.close()
