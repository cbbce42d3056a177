"""Import throughput: records/s with ``--no-extract``, and the share of CPU time that is not extraction
when extraction is on (issue 13 targets: >= 1,000 records/s; <= 20 %).

The input is a WARC written with warcio (per-record gzip, request + response pairs) from the demo sites'
pages, fetched once from :func:`newsarchive.demo.server.serve_demo` on 127.0.0.1: HTML pages (articles,
section pages) with their CSS, feeds and images, each copy given its own URL and a changed paragraph so
that no two payloads are equal.

1. ``--no-extract``: read + index every record; records/s by wall time and by CPU time of this process.
2. extraction on, in this process (``workers=0``, so that one clock sees all CPU): the import's CPU time,
   and the CPU time of :func:`newsarchive.extract.pool.extract_record` alone over the same HTML records;
   overhead share = (import - extraction) / import. Median of ``--repeat`` runs after one warm-up import
   (modules loaded once per process, e.g. numpy for story clusters, are left out). Once over the demo
   pages (light: ~12 ms of extraction each, feeds and section pages among them), once over the real news
   pages of ``../shared/benchmarks/news-pages/fundus/`` where present (read at run time, never copied).

    python bench/import.py                       # 5,000 pairs without extraction, 300 pairs with
    python bench/import.py --pairs 2000 --extract-pairs 100 --repeat 1
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newsarchive.archive.index import ArchiveIndex  # noqa: E402
from newsarchive.archive.warcscan import scan  # noqa: E402
from newsarchive.demo.server import serve_demo  # noqa: E402
from newsarchive.extract.article import ExtractOptions  # noqa: E402
from newsarchive.extract.pool import extract_record  # noqa: E402
from newsarchive.service.importer import ImportOptions, import_archives, is_html_page  # noqa: E402

REAL_PAGES = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "news-pages" / "fundus" / "html"


def demo_pages() -> list[tuple[str, str, bytes]]:
    """(path, content type, body) of every page the demo sites link from home, sections and articles."""
    out: list[tuple[str, str, bytes]] = []
    with serve_demo() as server:
        for outlet in server.requests:
            urls = server.urls(outlet)
            for url in [urls.home, urls.feed, *urls.sections.values(), *urls.articles.values()]:
                with urllib.request.urlopen(url, timeout=30) as response:
                    ctype = response.headers.get("Content-Type", "text/html")
                    out.append((url.split("/", 3)[3], ctype, response.read()))
    return out


def real_pages(directory: Path) -> list[tuple[str, str, bytes]]:
    """The real news pages of the shared benchmark (Fundus publishers), as (path, content type, body)."""
    import gzip

    return [(f"{p.parent.name}/{p.name.removesuffix('.html.gz')}.html", "text/html; charset=utf-8",
             gzip.decompress(p.read_bytes())) for p in sorted(directory.rglob("*.html.gz"))]


def write_warc(path: Path, pages: list[tuple[str, str, bytes]], pairs: int, html_only: bool) -> int:
    """``pairs`` request + response pairs cycling through ``pages``; returns the HTML responses written."""
    chosen = [p for p in pages if "html" in p[1]] if html_only else pages
    html = 0
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for n in range(pairs):
            route, ctype, body = chosen[n % len(chosen)]
            url = f"https://site{n % 7}.example/{route}?copy={n}"
            if "html" in ctype:
                body = body.replace(b"</p>", f" Copy {n} of the page.</p>".encode(), 1)
                html += 1
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            response = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
            writer.write_record(response)
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET /{route} HTTP/1.1", [("Host", f"site{n % 7}.example")],
                                              is_http_request=True),
                warc_headers_dict={"WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
            writer.write_record(request)
    return html


def timed_import(warc: Path, work: Path, options: ImportOptions) -> tuple[float, float, int]:
    """(wall s, CPU s of this process, records read) of one import into a fresh index."""
    index = ArchiveIndex(f"sqlite:///{work / 'index.sqlite'}")
    wall, cpu = time.perf_counter(), time.process_time()
    report = import_archives(index, work / "warcs", [warc], options)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    index.close()
    return wall, cpu, report.records


def extraction_cpu(warc: Path, options: ExtractOptions) -> tuple[float, int]:
    """CPU s of extract_record alone over the HTML responses of ``warc`` (records read beforehand)."""
    from newsarchive.archive.reindex import capture_from

    records = [(item[1], capture_from(item[0], item[1]).url) for item in scan(warc)
               if isinstance(item, tuple) and item[1].rec_type == "response"
               and is_html_page(capture_from(item[0], item[1]))]
    cpu = time.process_time()
    for record, url in records:
        extract_record(record, url, options)
    return time.process_time() - cpu, len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5000, help="request/response pairs, --no-extract run")
    parser.add_argument("--extract-pairs", type=int, default=300, help="pairs in the extraction run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--real", type=Path, default=REAL_PAGES,
                        help="directory of real news pages (*.html.gz) for a second extraction run")
    parser.add_argument("--real-copies", type=int, default=3, help="copies of each real page (own URL and text)")
    args = parser.parse_args()
    pages = demo_pages()
    with tempfile.TemporaryDirectory(prefix="newsarchive-bench-import-") as tmp:
        root = Path(tmp)
        plain = root / "plain.warc.gz"
        write_warc(plain, pages, args.pairs, html_only=False)
        fast = [timed_import(plain, root / f"fast{i}", ImportOptions(extract=False)) for i in range(args.repeat)]
        wall, cpu, records = (statistics.median(x[i] for x in fast) for i in range(3))
        print(f"--no-extract: {int(records)} records ({plain.stat().st_size / 1e6:.1f} MB) in {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU: {records / wall:,.0f} records/s wall, {records / cpu:,.0f} records/s CPU "
              f"(target >= 1,000)")

        mixed = root / "mixed.warc.gz"
        html = write_warc(mixed, pages, args.extract_pairs, html_only=False)
        overhead_share("demo pages, feeds included", mixed, root / "demo", html, args.repeat)
        if args.real.is_dir():
            real = root / "real.warc.gz"
            found = real_pages(args.real)
            html = write_warc(real, found, args.real_copies * len(found), html_only=True)
            overhead_share(f"real news pages ({args.real.name})", real, root / "real", html, args.repeat)
        else:
            print(f"no real news pages at {args.real}: that run is skipped")


def overhead_share(label: str, warc: Path, work: Path, html: int, repeat: int) -> None:
    """CPU of the import with extraction (one process) against CPU of extraction alone."""
    options = ImportOptions(workers=0, templates=True)
    extraction_cpu(warc, options.extract_options)  # warm up (trafilatura's first call loads its data)
    timed_import(warc, work / "warm-up", options)  # and the modules loaded once per process (numpy ...)
    runs = []
    for i in range(repeat):
        _wall, total, records = timed_import(warc, work / f"run{i}", options)
        alone, _pages = extraction_cpu(warc, options.extract_options)
        runs.append((total, alone, records))
    total, alone = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    share = (total - alone) / total
    print(f"extraction on, {label}: {html} HTML pages of {runs[0][2]} records; import {total:.2f} s CPU, "
          f"extraction alone {alone:.2f} s CPU ({1000 * alone / max(html, 1):.0f} ms/page): "
          f"non-extraction share {100 * share:.1f} % (target <= 20 %)")


if __name__ == "__main__":
    main()
