"""Archive tools on a synthetic archive: replay requests/s, search latency, verify/reindex/cdxj throughput.

Writes N gzip-encoded article pages (seed story sentences, shuffled) with WarcWriter plus their capture and
article rows, then measures, each over --repeat runs (median):

* replay: sequential ``/web/TS/URL`` requests (rewritten HTML) and ``id_`` requests (bytes as stored);
* search: FTS5 queries of one and two words, with and without a language filter;
* verify, reindex (into an empty SQLite index) and cdxj over the whole archive: MB/s and records/s.

    python bench/archive_tools.py --pages 2000 --repeat 3
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import io
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsarchive.archive.cdxj import write_cdxj
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.reindex import reindex
from newsarchive.archive.search import SearchQuery, ensure_search_index, search_articles
from newsarchive.archive.urls import canonicalize, host_of, url_key
from newsarchive.archive.verify import verify_archive
from newsarchive.archive.warc import HttpExchange, WarcWriter, WarcWriterOptions
from newsarchive.demo.content import load_stories
from newsarchive.web.replay import ReplayOptions, ReplayServer

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def sentences() -> list[str]:
    out: list[str] = []
    for story in load_stories():
        for paragraph in story.body_sentences():
            out.append(paragraph)
    return out


def build(root: Path, pages: int, seed: int = 7) -> ArchiveIndex:
    rng, pool = random.Random(seed), sentences()
    index = ArchiveIndex(f"sqlite:///{root / 'index.sqlite'}")
    captures, texts = [], []
    with WarcWriter(root / "warcs", WarcWriterOptions(prefix="bench", host="bench")) as writer:
        for n in range(pages):
            url = f"https://site{n % 5}.example/politik/story-{n}.html"
            text = "\n".join(rng.sample(pool, k=min(8, len(pool))))
            html = (f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
                    + "".join(f"<p>{line}</p>" for line in text.splitlines())
                    + f"<a href='/politik/story-{n + 1}.html'>next</a></article></body></html>")
            moment = T0 + timedelta(minutes=n)
            written = writer.write_exchange(HttpExchange(
                url, 200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
                gzip.compress(html.encode(), mtime=0), request_headers=[("Host", host_of(url))], fetched_at=moment))
            captures.append(Capture(url=url, canonical_url=canonicalize(url), url_key=url_key(url), host=host_of(url),
                                    status=200, fetched_at=moment, content_type="text/html",
                                    payload_digest=written.payload_digest, record_id=written.record_id,
                                    warc_file=written.ref.path, warc_offset=written.ref.offset,
                                    warc_length=written.ref.length, request_record_id=written.request_record_id))
            texts.append((f"Story {n}", text, "de" if n % 2 else "en", f"site{n % 5}"))
    with index.session() as s:
        s.add_all(captures)
        s.flush()
        s.add_all(Article(capture_id=c.id, url=c.url, canonical_url=c.canonical_url, site=site, title=title,
                          text=text, language=lang, word_count=len(text.split()), fetched_at=c.fetched_at)
                  for c, (title, text, lang, site) in zip(captures, texts, strict=True))
    ensure_search_index(index.engine)
    return index


def timed(fn: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def bench_replay(index: ArchiveIndex, root: Path, pages: int, repeat: int, requests: int) -> None:
    rng = random.Random(1)
    picks = [rng.randrange(pages) for _ in range(requests)]
    with ReplayServer(index, root / "warcs", ReplayOptions(port=0)) as server:
        host, port = server.httpd.server_address[:2]

        def run(mode: str) -> None:
            for n in picks:
                conn = http.client.HTTPConnection(str(host), int(port))
                conn.request("GET", f"/web/2024{mode}/https://site{n % 5}.example/politik/story-{n}.html")
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 200
                conn.close()

        for mode, label in (("", "rewritten"), ("id_", "as stored")):
            seconds = timed(lambda m=mode: run(m), repeat)  # type: ignore[misc]
            print(f"replay {label:<10} {requests / seconds:8.0f} requests/s  (median of {repeat}, sequential)")


def bench_search(index: ArchiveIndex, repeat: int) -> None:
    queries = [SearchQuery(q="Putin"), SearchQuery(q="Kreml Nordkorea"), SearchQuery(q="Putin", language="de"),
               SearchQuery(q="", site="site3")]
    for query in queries:
        seconds = timed(lambda q=query: search_articles(index, q), max(repeat, 5))  # type: ignore[misc]
        total = search_articles(index, query).total
        print(f"search {query.q or '(all)':<16} lang={query.language or '-':<3} site={query.site or '-':<6} "
              f"{seconds * 1000:7.1f} ms  ({total} hits)")


def bench_whole(index: ArchiveIndex, root: Path, repeat: int) -> None:
    warcs = root / "warcs"
    size = sum(p.stat().st_size for p in warcs.iterdir()) / 1e6
    seconds = timed(lambda: verify_archive(index, warcs), repeat)
    records = verify_archive(index, warcs).records
    print(f"verify   {size / seconds:7.1f} MB/s  {records / seconds:8.0f} records/s  ({size:.1f} MB)")

    def rebuild() -> None:
        target = root / f"rebuilt-{time.monotonic_ns()}.sqlite"
        reindex(ArchiveIndex(f"sqlite:///{target}"), warcs)

    seconds = timed(rebuild, repeat)
    print(f"reindex  {size / seconds:7.1f} MB/s  {records / seconds:8.0f} records/s")
    seconds = timed(lambda: write_cdxj(warcs, io.StringIO()), repeat)
    print(f"cdxj     {size / seconds:7.1f} MB/s  {records / seconds:8.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        index = build(root, args.pages)
        print(f"built {args.pages} pages in {time.perf_counter() - start:.1f} s")
        bench_replay(index, root, args.pages, args.repeat, args.requests)
        bench_search(index, args.repeat)
        bench_whole(index, root, args.repeat)


if __name__ == "__main__":
    main()
