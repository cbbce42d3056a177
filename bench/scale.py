"""Scale-out throughput: pages/s with 1, 2 and 4 worker processes on one Redis crawl, and peak memory.

Serves a local news site (home, sections of 50 articles, --pages articles) on 127.0.0.1 and crawls it
with N `newsarchive worker` processes sharing a Redis queue (politeness off: DOWNLOAD_DELAY=0, no
AutoThrottle, high concurrency), the index in a throw-away PostgreSQL database (SQLite with --sqlite).
Pages/s is every archived response over the wall time from starting the workers to the last one exiting
(process start-up and the idle hand-shake at the end included). Peak memory is each worker's ru_maxrss
(the Scrapy process; extraction runs in a thread of it, --extraction-workers 0). Figures are medians of
--repeat runs; the machine is small and noisy.

    python bench/scale.py --pages 5000 --repeat 3
    python bench/scale.py --pages 500 --repeat 1 --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from localsite import serve

from newsarchive.archive.home import ArchiveHome
from newsarchive.service.crawl import WorkerExit, run_local_workers
from newsarchive.service.workers import local_worker_ids

PER_SECTION = 50
PG_ADMIN = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SENTENCES = [
    "Der Gemeinderat hat am Dienstagabend den Haushalt für das kommende Jahr beschlossen.",
    "Nach einer langen Debatte stimmten die meisten Fraktionen für die geplanten Investitionen.",
    "Vor allem die Sanierung der Grundschulen und der Ausbau der Radwege sollen Vorrang haben.",
    "Die Opposition kritisierte die steigenden Kosten und forderte mehr Transparenz bei den Ausgaben.",
    "Anwohner hatten sich zuvor in einer Bürgerversammlung zu den Plänen geäußert.",
    "Die Verwaltung will die ersten Aufträge noch vor dem Sommer vergeben.",
]


def _html(title: str, body: str, links: list[str]) -> bytes:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (f"<!doctype html><html lang=de><head><meta charset=utf-8><title>{title} | Skalenbote</title></head>"
            f"<body><header><a href='/'>Skalenbote</a></header><main><article><h1>{title}</h1>{body}</article>"
            f"<ul>{items}</ul></main><footer>Impressum · Datenschutz</footer></body></html>").encode()


def make_site(pages: int) -> dict[str, bytes]:
    sections = (pages + PER_SECTION - 1) // PER_SECTION
    site = {"/robots.txt": b"User-agent: *\nAllow: /\n",
            "/": _html("Start", "", [f"/ressort-{s}/" for s in range(sections)])}
    paths = [f"/ressort-{i // PER_SECTION}/2024/06/meldung-{i:06d}-aus-der-stadt.html" for i in range(pages)]
    for i, path in enumerate(paths):
        paras = "".join(f"<p>{SENTENCES[(i + k) % len(SENTENCES)]} (Meldung {i}, Absatz {k}.)</p>" for k in range(8))
        site[path] = _html(f"Meldung {i}: Haushalt beschlossen", paras, [])
    for s in range(sections):
        site[f"/ressort-{s}/"] = _html(f"Ressort {s}", "", paths[s * PER_SECTION:(s + 1) * PER_SECTION])
    return site


@contextmanager
def index_database(sqlite: bool, home: Path) -> Iterator[str]:
    if sqlite:
        yield f"sqlite:///{home / 'index.sqlite'}"
        return
    from sqlalchemy import create_engine, text

    name = f"newsarchive_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Run:
    workers: int
    seconds: float
    pages: int
    articles: int
    failures: int
    rss: list[int]


def crawl_once(url: str, workers: int, args: argparse.Namespace) -> Run:
    settings = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": args.concurrency,
                "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency, "NEWSARCHIVE_PROGRESS_ENABLED": False,
                "NEWSARCHIVE_EXTRACTION_WORKERS": args.extraction_workers, "LOG_LEVEL": "ERROR"}
    argv = [url, "--depth", "2", "--max-pages", "0", "--spider", "sections",
            *(a for k, v in settings.items() for a in ("-s", f"{k}={v}"))]
    with tempfile.TemporaryDirectory(prefix="newsarchive-scale-") as tmp, index_database(args.sqlite, Path(tmp)) as db:
        home = ArchiveHome(Path(tmp), db)
        start = time.perf_counter()
        exits = run_local_workers(argv, local_worker_ids(workers), home, redis_url=args.redis_url,
                                  crawl=f"bench-{uuid.uuid4().hex[:8]}", prefix=args.prefix, quiet=True)
        seconds = time.perf_counter() - start
    _check(exits)
    return Run(workers, seconds, sum(e.pages for e in exits), sum(e.articles for e in exits),
               sum(int(e.result.get("failures", 0)) for e in exits), [int(e.result.get("max_rss", 0)) for e in exits])


def _check(exits: list[WorkerExit]) -> None:
    failed = [e.worker for e in exits if e.exit_code != 0 or not e.result]
    if failed:
        sys.exit(f"workers failed: {', '.join(failed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="articles on the local site")
    parser.add_argument("--repeat", type=int, default=3, help="runs per worker count (medians are printed)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=32, help="CONCURRENT_REQUESTS per worker")
    parser.add_argument("--extraction-workers", type=int, default=0, help="NEWSARCHIVE_EXTRACTION_WORKERS")
    parser.add_argument("--redis-url", default=os.environ.get("NEWSARCHIVE_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--prefix", default=f"newsarchive-bench-{os.getpid()}", help="Redis key prefix")
    parser.add_argument("--sqlite", action="store_true", help="index in SQLite instead of PostgreSQL")
    args = parser.parse_args()
    os.environ["NEWSARCHIVE_REDIS_PREFIX"] = args.prefix  # the workers inherit it
    server = serve(make_site(args.pages))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"local site: {args.pages} articles at {url}; index: {'SQLite' if args.sqlite else 'PostgreSQL'}; "
          f"{args.repeat} run(s) per worker count; {os.cpu_count()} CPUs", flush=True)
    print(f"{'workers':>7}{'pages':>8}{'articles':>10}{'failed':>7}{'seconds':>9}{'pages/s':>9}{'speed-up':>10}"
          f"{'peak RSS/worker MiB (median, max)':>36}", flush=True)
    base = None
    for workers in args.workers:
        runs = [crawl_once(url, workers, args) for _ in range(args.repeat)]
        seconds = statistics.median(r.seconds for r in runs)
        rate = statistics.median(r.pages / r.seconds for r in runs)
        base = base or rate
        rss = [b / 2**20 for r in runs for b in r.rss]
        pages, articles, failed = (statistics.median(getattr(r, k) for r in runs) for k in ("pages", "articles", "failures"))
        print(f"{workers:>7}{pages:>8.0f}{articles:>10.0f}{failed:>7.0f}{seconds:>9.1f}{rate:>9.1f}{rate / base:>9.2f}x"
              f"{statistics.median(rss):>26.0f}{max(rss):>10.0f}", flush=True)
    server.shutdown()


if __name__ == "__main__":
    main()
