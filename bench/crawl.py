"""Whole-crawl cost on real news pages: newsarchive beside bare Scrapy + warcio + trafilatura, same run.

A local site on 127.0.0.1 serves real publisher pages (``/work/shared/benchmarks/news-pages/fundus``, 139
pages of ~300 KB; repeated under distinct URLs for larger runs), linked from section pages (50 each), a
home page and a sitemap named in robots.txt. Each size is crawled, politeness off, by

- ``newsarchive crawl`` (WARC, index, extraction in a process pool of ``--workers``), and
- a bare baseline: a Scrapy spider writing each response to a WARC with warcio and extracting it with
  ``trafilatura.extract`` in a process pool of the same size,

interleaved, ``--repeat`` times. Printed per size and system (medians): article pages archived, pages/s,
CPU ms per page of the whole process tree, peak RSS and PSS summed over all its processes, and the main
process's CPU ms per page and peak RSS/PSS. ``--fixed`` also crawls a 16-page site to estimate the fixed CPU cost of one crawl
(its CPU minus 16 times the per-page CPU of the largest size).

Whether memory stays flat: memory is sampled each time another 5% of the site's pages were served, and
each run ends with its main process's PSS at 20% vs 100% of the site and the growth per 10,000 pages (a
least-squares slope from 20% on; the whole process tree's too). ``--series`` prints the points as they come.

    python bench/crawl.py --sizes 1000 10000 --repeat 2
    python bench/crawl.py --sizes 100000 --repeat 1 --systems newsarchive --series    # the soak
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localsite import LocalSite, serve

PAGES_DIR = Path("/work/shared/benchmarks/news-pages/fundus/html")
PER_SECTION = 50
SERIES_STEP = 0.05  # a memory point each time another 5% of the site was fetched
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
POLITENESS_OFF = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16",
                  "CONCURRENT_REQUESTS_PER_DOMAIN": "16"}


# -- the site ---------------------------------------------------------------------------------------------
def real_pages(directory: Path = PAGES_DIR) -> list[bytes]:
    pages = [gzip.decompress(p.read_bytes()) for p in sorted(directory.rglob("*.html.gz"))]
    if not pages:
        raise SystemExit(f"no pages under {directory}")
    return pages


def make_site(pages: int, bodies: list[bytes]) -> dict[str, bytes]:
    """``pages`` article URLs (page i serves body i mod len(bodies)), section pages, home, sitemap, robots."""
    site: dict[str, bytes] = {}
    sections = (pages + PER_SECTION - 1) // PER_SECTION
    articles = [f"/ressort-{i // PER_SECTION}/meldung-{i:06d}-aus-aller-welt.html" for i in range(pages)]
    for i, path in enumerate(articles):
        site[path] = bodies[i % len(bodies)]
    for s in range(sections):
        links = "".join(f'<li><a href="{p}">Meldung</a></li>' for p in articles[s * PER_SECTION:(s + 1) * PER_SECTION])
        site[f"/ressort-{s}/"] = f"<html><body><h1>Ressort {s}</h1><ul>{links}</ul></body></html>".encode()
    nav = "".join(f'<a href="/ressort-{s}/">Ressort {s}</a> ' for s in range(sections))
    site["/"] = f"<html><head><title>Benchbote</title></head><body><nav>{nav}</nav></body></html>".encode()
    locs = "".join(f"<url><loc>{{base}}{p}</loc></url>" for p in articles)
    site["/sitemap.xml"] = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/'
                            f'schemas/sitemap/0.9">{locs}</urlset>').encode()
    site["/robots.txt"] = b"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n"
    return site


def with_base(site: dict[str, bytes], base: str) -> dict[str, bytes]:
    for path in ("/sitemap.xml", "/robots.txt"):
        site[path] = site[path].replace(b"{base}", base.encode())
    return site


# -- measuring a process tree --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """Memory at one moment of a run: after ``fetched`` pages of the local site, ``seconds`` into it."""

    fetched: int
    seconds: float
    main_rss: int  # bytes
    main_pss: int
    rss: int  # summed over the whole process tree
    pss: int


@dataclass(frozen=True)
class Usage:
    seconds: float
    cpu: float  # user + system seconds of every process of the tree
    peak_rss: int  # bytes, summed over the processes alive at one moment, the highest such sum
    peak_pss: int
    main_rss: int
    main_pss: int
    main_cpu: float  # of the main process (and the children it waited for)
    series: tuple[Point, ...] = ()  # one point per SERIES_STEP of the site fetched
    main_pss_after: int = 0  # peak once every page was served (extraction backlog, index flush, close_spider)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _sample(pid: int) -> tuple[float, int, int] | None:
    """(cpu seconds, rss bytes, pss bytes) of one process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    rss = int(fields[21]) * PAGE_SIZE
    pss = next((int(line.split()[1]) * 1024 for line in rollup.splitlines() if line.startswith("Pss:")), 0)
    return cpu, rss, pss


def measure(cmd: list[str], interval: float = 0.2, fetched: Callable[[], int] | None = None,
            site_size: int = 0, on_point: Callable[[Point], None] | None = None) -> Usage:
    """Run ``cmd``; CPU of the main process from wait4 (exact), of the others sampled from /proc. With
    ``fetched`` (pages of the site served so far) and ``site_size`` (its pages), memory is also kept each time
    another SERIES_STEP of the site has been fetched (and passed to ``on_point`` at once): the series that
    shows whether memory stays flat."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    cpu_seen: dict[int, float] = {}
    peaks = {"rss": 0, "pss": 0, "main_rss": 0, "main_pss": 0, "main_pss_after": 0}
    series: list[Point] = []
    done = threading.Event()

    def sampler() -> None:
        step = 1
        while not done.is_set():
            rss = pss = main_rss = main_pss = 0
            for pid in _descendants(proc.pid):
                got = _sample(pid)
                if got is None:
                    continue
                cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), got[0])
                rss, pss = rss + got[1], pss + got[2]
                if pid == proc.pid:
                    main_rss, main_pss = got[1], got[2]
            peaks["main_rss"], peaks["main_pss"] = max(peaks["main_rss"], main_rss), max(peaks["main_pss"], main_pss)
            peaks["rss"], peaks["pss"] = max(peaks["rss"], rss), max(peaks["pss"], pss)
            count = fetched() if fetched is not None and site_size else 0
            if site_size and count >= site_size:
                peaks["main_pss_after"] = max(peaks["main_pss_after"], main_pss)
            if count and count >= step * SERIES_STEP * site_size:
                series.append(Point(count, time.perf_counter() - started, main_rss, main_pss, rss, pss))
                if on_point is not None:
                    on_point(series[-1])
                while count >= step * SERIES_STEP * site_size:
                    step += 1
            done.wait(interval)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read() if proc.stderr else b""))
    reader.start()
    _pid, status, rusage = os.wait4(proc.pid, 0)
    done.set()
    thread.join()
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {b''.join(stderr_chunks).decode()[-2000:]}")
    main_cpu = rusage.ru_utime + rusage.ru_stime
    others = sum(cpu for pid, cpu in cpu_seen.items() if pid != proc.pid)
    return Usage(time.perf_counter() - started, main_cpu + others, peaks["rss"], peaks["pss"],
                 peaks["main_rss"], peaks["main_pss"], main_cpu, tuple(series), peaks["main_pss_after"])


MIN_SERIES_PAGES = 1000  # memory series summaries for crawls of at least this many pages


def growth_per_10k(points: list[Point], value: Callable[[Point], int]) -> float:
    """Least-squares slope of ``value`` (MB) against pages fetched, per 10,000 pages."""
    if len(points) < 2:
        return float("nan")
    xs, ys = [p.fetched for p in points], [value(p) / 2**20 for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return 10_000 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread if spread else float("nan")


SERIES_HEADER = f"{'':8}{'fetched':>8} {'pages':>7}{'seconds':>9}{'main RSS':>9}{'main PSS':>9}{'RSS MB':>8}{'PSS MB':>8}"


def point_line(point: Point, site_size: int) -> str:
    mb = [v / 2**20 for v in (point.main_rss, point.main_pss, point.rss, point.pss)]
    return (f"{'':8}{100 * point.fetched / site_size:>7.0f}% {point.fetched:>7}{point.seconds:>9.0f}"
            f"{mb[0]:>9.0f}{mb[1]:>9.0f}{mb[2]:>8.0f}{mb[3]:>8.0f}")


def print_summary(run: Run, site_size: int) -> None:
    """Memory at 20% vs 100% of the site fetched and its growth per 10k pages (a least-squares slope over
    the points from 20% on, past start-up and the first fill of the queues), and the main process's peak
    after the last page was served (what the end of a crawl costs: the pages still being extracted, the
    last index batches, the spider's close)."""
    settled = [p for p in run.usage.series if p.fetched >= 0.2 * site_size]
    if not settled or site_size < MIN_SERIES_PAGES:  # a small crawl's slope is noise scaled up to 10k pages
        return
    first, last = settled[0], settled[-1]
    print(f"        {run.system}: main PSS {first.main_pss / 2**20:.0f} MB at {100 * first.fetched / site_size:.0f}% "
          f"-> {last.main_pss / 2**20:.0f} MB at {100 * last.fetched / site_size:.0f}%, "
          f"{growth_per_10k(settled, lambda p: p.main_pss):+.1f} MB per 10k pages; tree PSS {first.pss / 2**20:.0f} "
          f"-> {last.pss / 2**20:.0f} MB, {growth_per_10k(settled, lambda p: p.pss):+.1f} MB per 10k pages; main PSS "
          f"peak after the last page {run.usage.main_pss_after / 2**20:.0f} MB", flush=True)


# -- the two systems ------------------------------------------------------------------------------------------
def newsarchive_cmd(url: str, home: str, pages: int, workers: int) -> list[str]:
    """The site as a sites.toml entry: its article and section URLs declared (as the baseline spider knows
    them), so that the relative links inside the real pages, paths this site does not serve, are not followed
    (they would be 404s the baseline never fetches)."""
    sites = Path(home) / "sites.toml"
    sites.write_text(f'[sites.bench]\nstart_urls = ["{url}"]\narticle_pattern = "/meldung-"\n'
                     f"exclude_pattern = '://[^/]+/(?!(ressort-\\d+/|$))'\n"
                     f"depth = 2\nmax_pages = {pages * 2 + 1000}\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "newsarchive", "crawl", "--sites", str(sites), "--home", home,
           "-s", f"NEWSARCHIVE_EXTRACTION_WORKERS={workers}",
           "-s", "NEWSARCHIVE_PROGRESS_ENABLED=False", "-s", "NEWSARCHIVE_REQUISITES_ENABLED=False"]
    for key, value in POLITENESS_OFF.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def newsarchive_pages(home: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-m", "newsarchive", "stats", "--json", "--home", home],
                         check=True, capture_output=True, text=True)
    stats = json.loads(out.stdout)
    with_kind = _article_captures(home)
    return with_kind, int(stats["articles_ok"])


def _article_captures(home: str) -> int:
    from sqlalchemy import func, select

    from newsarchive.archive.home import ArchiveHome
    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.models import Capture

    index = ArchiveIndex(ArchiveHome.resolve(home).index_url, create=False)
    with index.sessions() as s:
        n = s.scalar(select(func.count()).where(Capture.kind == "article", Capture.status == 200)) or 0
    index.close()
    return int(n)


def baseline_cmd(url: str, home: str, workers: int) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--run-baseline", url, "--out", home,
            "--workers", str(workers)]


def _baseline_extract(html: str, url: str) -> int:
    import trafilatura

    text = trafilatura.extract(html, url=url, with_metadata=True)
    return len(text or "")


def run_baseline(url: str, out: str, workers: int) -> None:
    """Bare Scrapy + warcio + trafilatura: home, sections and sitemap followed, every article written to a
    WARC (request and response records) and extracted in a process pool of ``workers``."""
    import asyncio
    import io
    import multiprocessing
    import re
    from concurrent.futures import ProcessPoolExecutor

    import scrapy
    from scrapy.crawler import CrawlerProcess
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
    warc = open(Path(out) / "baseline.warc.gz", "wb")
    writer = WARCWriter(warc, gzip=True)
    counts = {"pages": 0, "articles": 0}

    def archive(response: scrapy.http.Response) -> None:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs]
        http = StatusAndHeaders(f"{response.status} OK", headers, protocol="HTTP/1.1")
        record = writer.create_warc_record(response.url, "response", payload=io.BytesIO(response.body),
                                           http_headers=http)
        writer.write_record(record)
        req = StatusAndHeaders(f"GET {response.url} HTTP/1.1", [], is_http_request=True)
        writer.write_record(writer.create_warc_record(response.url, "request", payload=io.BytesIO(b""),
                                                      http_headers=req))
        warc.flush()

    class Bare(scrapy.Spider):
        name = "bare"
        start_urls = [url, url.rstrip("/") + "/sitemap.xml"]

        def parse(self, response: scrapy.http.Response):  # type: ignore[no-untyped-def]
            archive(response)
            if response.url.endswith(".xml"):
                for loc in re.findall(rb"<loc>([^<]+)</loc>", response.body):
                    yield scrapy.Request(loc.decode(), callback=self.parse_article)
                return
            for href in response.css("a::attr(href)").getall():
                target = response.urljoin(href)
                if "/meldung-" in target:
                    yield scrapy.Request(target, callback=self.parse_article)
                elif "/ressort-" in target:
                    yield scrapy.Request(target, callback=self.parse)

        async def parse_article(self, response: scrapy.http.Response):  # type: ignore[no-untyped-def]
            archive(response)
            counts["pages"] += 1
            chars = await asyncio.wrap_future(pool.submit(_baseline_extract, response.text, response.url))
            counts["articles"] += chars > 0
            yield {"url": response.url, "chars": chars}

    settings = {"LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": True, "COOKIES_ENABLED": False,
                "TELNETCONSOLE_ENABLED": False, "ITEM_PIPELINES": {}, **POLITENESS_OFF}
    process = CrawlerProcess(settings)
    process.crawl(Bare)
    process.start()
    pool.shutdown(wait=True)
    warc.close()
    (Path(out) / "counts.json").write_text(json.dumps(counts))


# -- the bench --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    system: str
    pages: int
    articles: int
    usage: Usage


def crawl_once(system: str, server: LocalSite, site_size: int, pages: int, workers: int, series: bool) -> Run:
    """One crawl of the served site; with ``series``, its memory points are printed as they come."""
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    before = server.served
    if series:
        print(f"        {system}, memory as the site is fetched:\n{SERIES_HEADER}", flush=True)

    def fetched() -> int:
        return server.served - before

    def show(point: Point) -> None:
        print(point_line(point, site_size), flush=True)

    on_point = show if series else None
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as home:
        if system == "newsarchive":
            cmd = newsarchive_cmd(url, home, pages, workers)
        else:
            cmd = baseline_cmd(url, home, workers)
        usage = measure(cmd, fetched=fetched, site_size=site_size, on_point=on_point)
        if system == "newsarchive":
            archived, articles = newsarchive_pages(home)
        else:
            counts = json.loads((Path(home) / "counts.json").read_text())
            archived, articles = counts["pages"], counts["articles"]
    return Run(system, archived, articles, usage)


def median_run(runs: list[Run]) -> dict[str, float]:
    def med(values: list[float]) -> float:
        return float(statistics.median(values))

    return {
        "pages": med([r.pages for r in runs]), "articles": med([r.articles for r in runs]),
        "seconds": med([r.usage.seconds for r in runs]),
        "pages_s": med([r.pages / r.usage.seconds for r in runs]),
        "cpu_ms": med([1000 * r.usage.cpu / max(r.pages, 1) for r in runs]),
        "cpu": med([r.usage.cpu for r in runs]),
        "main_ms": med([1000 * r.usage.main_cpu / max(r.pages, 1) for r in runs]),
        "rss": med([r.usage.peak_rss / 2**20 for r in runs]), "pss": med([r.usage.peak_pss / 2**20 for r in runs]),
        "main_rss": med([r.usage.main_rss / 2**20 for r in runs]),
        "main_pss": med([r.usage.main_pss / 2**20 for r in runs]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="article pages per site")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="extraction processes of both systems")
    parser.add_argument("--systems", nargs="+", default=["baseline", "newsarchive"])
    parser.add_argument("--fixed", action="store_true", help="also estimate the fixed CPU cost of one crawl")
    parser.add_argument("--pages-dir", type=Path, default=PAGES_DIR)
    parser.add_argument("--series", action="store_true",
                        help="print each run's memory at every 5%% of the site fetched, as it goes")
    parser.add_argument("--run-baseline", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_baseline:
        run_baseline(args.run_baseline, args.out, args.workers)
        return
    bodies = real_pages(args.pages_dir)
    mean_kb = sum(map(len, bodies)) / len(bodies) / 1024
    print(f"{len(bodies)} real pages from {args.pages_dir} (mean {mean_kb:.0f} KB), politeness off, "
          f"{args.workers} extraction processes; median of {args.repeat} interleaved runs; CPU and memory of "
          f"the whole process tree", flush=True)
    print(f"{'size':>7} {'system':<12}{'pages':>7}{'articles':>9}{'seconds':>9}{'pages/s':>9}{'CPU ms/p':>9}"
          f"{'main ms':>8}{'RSS MB':>8}{'PSS MB':>8}{'main RSS':>9}{'main PSS':>9}", flush=True)
    per_page_cpu: dict[str, float] = {}
    sizes = sorted(args.sizes) + ([16] if args.fixed else [])
    for size in sizes:
        site = make_site(size, bodies)
        server = serve(site)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with_base(site, url.rstrip("/"))
        runs: dict[str, list[Run]] = {s: [] for s in args.systems}
        for _ in range(args.repeat):
            for system in args.systems:
                runs[system].append(crawl_once(system, server, len(site), size, args.workers, args.series))
        server.shutdown()
        results = {s: median_run(r) for s, r in runs.items()}
        for system, m in results.items():
            print(f"{size:>7} {system:<12}{m['pages']:>7.0f}{m['articles']:>9.0f}{m['seconds']:>9.1f}"
                  f"{m['pages_s']:>9.1f}{m['cpu_ms']:>9.0f}{m['main_ms']:>8.0f}{m['rss']:>8.0f}{m['pss']:>8.0f}{m['main_rss']:>9.0f}"
                  f"{m['main_pss']:>9.0f}", flush=True)
            if size != 16:
                per_page_cpu[system] = m["cpu_ms"] / 1000
            elif system in per_page_cpu:
                fixed = m["cpu"] - size * per_page_cpu[system]
                print(f"        {system}: fixed CPU per crawl ~{fixed:.1f} s (16-page crawl {m['cpu']:.1f} s)")
            for run in runs[system]:
                print_summary(run, len(site))
        if {"baseline", "newsarchive"} <= results.keys() and size != 16:
            b, n = results["baseline"], results["newsarchive"]
            print(f"        newsarchive/baseline: CPU/page {n['cpu_ms'] / b['cpu_ms']:.2f}x, pages/s "
                  f"{n['pages_s'] / b['pages_s']:.2f}x, peak PSS {n['pss'] / b['pss']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
