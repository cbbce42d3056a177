"""Export throughput and memory: rows/s for synthetic articles in each format, and peak memory at 10k vs 100k
rows (it should stay flat: rows stream from the database and are written in batches).

Each measurement runs in a fresh subprocess so ``ru_maxrss`` is its own: the figure reported is the growth of
peak RSS over the RSS after imports and opening the index; a second run of the same export under
``tracemalloc`` gives the peak of Python allocations. Story clustering (MinHash) is measured separately.

    python bench/export.py                  # 10k and 100k rows, jsonl / jsonl.gz / csv / parquet
    python bench/export.py --sizes 10000    # quicker
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

WORK = Path(tempfile.gettempdir()) / "newsarchive-bench-export"
FORMATS = (("jsonl", False), ("jsonl", True), ("csv", False), ("parquet", False))
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzäöü"
    return ["".join(rng.choices(letters, k=rng.randint(2, 11))) for _ in range(20_000)]


def _rows(n: int, start: int, rng: random.Random, words: list[str]) -> tuple[list[dict], list[dict]]:
    captures, articles = [], []
    for i in range(start, start + n):
        text = "\n\n".join(" ".join(rng.choices(words, k=60)) + "." for _ in range(5))  # ~300 words, ~2 KB
        url = f"https://site{i % 20}.example/article/{i}"
        fetched = T0 + timedelta(minutes=i)
        captures.append(dict(id=i, url=url, canonical_url=url, url_key=url, host=f"site{i % 20}.example", status=200,
                             fetched_at=fetched, content_type="text/html", payload_digest=f"sha1:{i:032d}",
                             record_id=f"<urn:uuid:{i:032x}>", warc_file=f"bench-{i // 5000:05d}.warc.gz",
                             warc_offset=i * 4096, warc_length=4000, kind="article", method="GET",
                             record_type="response"))
        articles.append(dict(id=i, capture_id=i, url=url, canonical_url=url, site=f"site{i % 20}", status="ok",
                             title=f"Article {i}", published=fetched - timedelta(hours=3),
                             language=("de", "en", "fr")[i % 3], text=text, word_count=len(text.split()),
                             text_hash=f"{i:064x}", extractor="trafilatura", extractor_version="2.3.1",
                             extracted_at=fetched, fetched_at=fetched))
    return captures, articles


def build_index(n: int) -> str:
    """A SQLite index with ``n`` synthetic ok articles (cached between runs)."""
    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.models import Article, Capture

    path = WORK / f"index-{n}.sqlite"
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    index = ArchiveIndex(f"sqlite:///{tmp}")
    rng, started = random.Random(n), time.perf_counter()
    words = _vocabulary(rng)
    for start in range(1, n + 1, 5000):
        captures, articles = _rows(min(5000, n + 1 - start), start, rng, words)
        with index.session() as s:
            s.execute(insert(Capture), captures)
            s.execute(insert(Article), articles)
    index.close()
    tmp.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    print(f"built {n} synthetic articles in {time.perf_counter() - started:.1f}s: {path}", file=sys.stderr)
    return url


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def worker(url: str, fmt: str, compress: bool, traced: bool) -> dict[str, float]:
    """One export in this process; prints its figures as JSON."""
    from newsarchive.archive.export import ExportOptions, export_dataset
    from newsarchive.archive.index import ArchiveIndex

    index = ArchiveIndex(url)
    out = Path(tempfile.mkdtemp(dir=WORK, prefix="out-"))
    shutil.rmtree(out)
    base_rss = _rss_mb()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    result = export_dataset(index, out, options=ExportOptions(format=fmt, gzip=compress, progress=False,
                                                              assign_stories=False))
    seconds = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(f.stat().st_size for f in out.iterdir() if f.name != "README.md")
    shutil.rmtree(out)
    return {"rows": result.rows, "seconds": seconds, "rows_per_s": result.rows / seconds, "base_rss": base_rss,
            "rss_growth": peak_rss - base_rss, "traced_peak": traced_peak, "mb": size / 2**20}


def run_worker(url: str, fmt: str, compress: bool, traced: bool) -> dict[str, float]:
    argv = [sys.executable, __file__, "--worker", url, fmt, str(int(compress)), str(int(traced))]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_clustering(url: str, n: int) -> str:
    from sqlalchemy import delete

    from newsarchive.archive.dedup import StoryCluster, cluster_articles
    from newsarchive.archive.index import ArchiveIndex

    index = ArchiveIndex(url)
    with index.session() as s:
        s.execute(delete(StoryCluster))
    report = cluster_articles(index)
    return f"story clustering: {report.articles} articles in {report.seconds:.1f}s = " \
           f"{report.articles / report.seconds:.0f} articles/s ({report.total_stories} stories; n={n})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1, help="Timed runs per format (median reported).")
    args = parser.parse_args()
    print(f"{'rows':>7} {'format':<9} {'rows/s':>8} {'MB out':>7} {'base RSS':>9} {'RSS growth':>11} "
          f"{'traced peak':>12}", flush=True)
    for n in args.sizes:
        url = build_index(n)
        for fmt, compress in FORMATS:
            runs = [run_worker(url, fmt, compress, traced=False) for _ in range(args.repeat)]
            traced = run_worker(url, fmt, compress, traced=True)
            name = fmt + (".gz" if compress else "")
            print(f"{n:>7} {name:<9} {statistics.median(r['rows_per_s'] for r in runs):>8.0f} "
                  f"{runs[0]['mb']:>7.1f} {runs[0]['base_rss']:>7.0f}MB "
                  f"{statistics.median(r['rss_growth'] for r in runs):>9.1f}MB {traced['traced_peak']:>10.1f}MB",
                  flush=True)
    print(bench_clustering(build_index(min(args.sizes)), min(args.sizes)), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5] == "1")))
    else:
        main()
