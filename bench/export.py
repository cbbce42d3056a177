"""Export throughput beside two baselines measured in the same run, and memory at 10k vs 100k rows.

For each size: ``sqlite3 -json`` (the SQLite shell) and pandas ``read_sql`` → ``to_parquet`` run the same
SELECT of the same join the export reads (``export.export_query``), then newsarchive exports it as JSONL,
gzipped JSONL, CSV and Parquet. Printed per line: rows/s (wall), CPU ms per 1,000 rows (user+sys of the
process, or of the sqlite3 child), and rows/s as a ratio to the matching baseline (JSONL and CSV against
``sqlite3 -json``, Parquet against pandas); issue 17's target is >= 0.5 of each at 100k rows.

Each measurement runs in a fresh subprocess so ``ru_maxrss`` is its own: the figure reported is the growth of
peak RSS over the RSS after imports and opening the index (it should stay flat: rows stream in batches).
"vs baseline" compares wall-clock rows/s, "(by CPU)" the CPU time per row (steadier on a shared machine).
The exports run as ``newsarchive export`` does by default, without clustering articles into stories first
(``--stories``: one-off work on articles never clustered, done by crawls when they close; measured on its own
line).

    python bench/export.py                  # 10k and 100k rows
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
                             extracted_at=fetched, fetched_at=fetched, authors=[f"Autor {i % 97}", "Max Muster"],
                             author=f"Autor {i % 97}; Max Muster", tags=["Politik", f"Thema {i % 13}"],
                             agencies=["dpa"] if i % 4 == 0 else [], image_url=f"https://site{i % 20}.example/{i}.jpg",
                             paywalled=(None, True, False)[i % 3], markdown="## Article\n\n" + text,
                             description=f"Teaser {i}", section="politik"))
    return captures, articles


def build_index(n: int) -> str:
    """A SQLite index with ``n`` synthetic ok articles (cached between runs)."""
    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.models import Article, Capture

    path = WORK / f"index-v2-{n}.sqlite"
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


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _fresh_out() -> Path:
    out = Path(tempfile.mkdtemp(dir=WORK, prefix="out-"))
    shutil.rmtree(out)
    return out


def _figures(rows: int, seconds: float, cpu: float, out: Path, base_rss: float) -> dict[str, float]:
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(f.stat().st_size for f in out.iterdir() if f.name != "README.md") if out.is_dir() else out.stat().st_size
    shutil.rmtree(out) if out.is_dir() else out.unlink()
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "cpu_ms_per_krow": cpu * 1e6 / rows,
            "base_rss": base_rss, "rss_growth": peak_rss - base_rss, "mb": size / 2**20}


def _baseline_sql(url: str) -> str:
    from sqlalchemy.dialects import sqlite

    from newsarchive.archive.export import export_query

    return str(export_query("sqlite").compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def worker(url: str, fmt: str, compress: bool) -> dict[str, float]:
    """One export (or baseline) in this process; returns its figures."""
    if fmt == "sqlite3-json":
        return _sqlite3_json(url)
    if fmt == "pandas-parquet":
        return _pandas_parquet(url)
    from newsarchive.archive.export import ExportOptions, export_dataset
    from newsarchive.archive.index import ArchiveIndex

    index = ArchiveIndex(url)
    out = _fresh_out()
    base_rss = _rss_mb()
    started, cpu = time.perf_counter(), _cpu()
    result = export_dataset(index, out, options=ExportOptions(format=fmt, gzip=compress, progress=False,
                                                              assign_stories=False))
    return _figures(result.rows, time.perf_counter() - started, _cpu() - cpu, out, base_rss)


def _sqlite3_json(url: str) -> dict[str, float]:
    sql = _baseline_sql(url)
    out = _fresh_out().with_suffix(".json")
    base_rss = _rss_mb()
    started, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    with open(out, "wb") as fh:
        subprocess.run(["sqlite3", "-json", url.removeprefix("sqlite:///"), sql], stdout=fh, check=True)
    seconds, cpu = time.perf_counter() - started, _cpu(resource.RUSAGE_CHILDREN) - cpu
    with open(out, "rb") as fh:
        rows = sum(1 for line in fh if line.startswith(b"{"))
    return _figures(rows, seconds, cpu, out, base_rss)


def _pandas_parquet(url: str) -> dict[str, float]:
    import sqlite3

    import pandas as pd

    sql = _baseline_sql(url)
    out = _fresh_out().with_suffix(".parquet")
    base_rss = _rss_mb()
    started, cpu = time.perf_counter(), _cpu()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        frame = pd.read_sql(sql, conn)
    frame.to_parquet(out)
    return _figures(len(frame), time.perf_counter() - started, _cpu() - cpu, out, base_rss)


def run_worker(url: str, fmt: str, compress: bool) -> dict[str, float]:
    argv = [sys.executable, __file__, "--worker", url, fmt, str(int(compress))]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_clustering(url: str, n: int) -> str:
    """What the first `newsarchive export` (stories on) adds on an index whose articles were never clustered."""
    from sqlalchemy import delete

    from newsarchive.archive.dedup import StoryCluster, cluster_articles
    from newsarchive.archive.index import ArchiveIndex

    index = ArchiveIndex(url)
    with index.session() as s:
        s.execute(delete(StoryCluster))
    cpu = _cpu()
    report = cluster_articles(index)
    cpu = _cpu() - cpu
    with index.session() as s:  # leave the cached index as built
        s.execute(delete(StoryCluster))
    return (f"story clustering (one-off, first export of a never-clustered index): {report.articles} articles in "
            f"{report.seconds:.1f}s = {report.articles / report.seconds:.0f} articles/s, "
            f"{cpu * 1e3 / max(report.articles, 1):.2f} CPU ms/article; n={n}")


# (label, format, gzip, baseline label)
RUNS = (("sqlite3 -json", "sqlite3-json", False, None), ("pandas parquet", "pandas-parquet", False, None),
        ("jsonl", "jsonl", False, "sqlite3 -json"), ("jsonl.gz", "jsonl", True, "sqlite3 -json"),
        ("csv", "csv", False, "sqlite3 -json"), ("parquet", "parquet", False, "pandas parquet"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1, help="Timed runs per line, interleaved (median reported).")
    parser.add_argument("--no-clustering", action="store_true", help="Skip the clustering line.")
    args = parser.parse_args()
    print(f"{'rows':>7} {'what':<15} {'rows/s':>8} {'CPU ms/1k rows':>15} {'vs baseline':>12} {'(by CPU)':>9} "
          f"{'MB out':>7} {'RSS growth':>11}", flush=True)
    for n in args.sizes:
        url = build_index(n)
        results: dict[str, list[dict[str, float]]] = {label: [] for label, *_ in RUNS}
        for _ in range(args.repeat):
            for label, fmt, compress, _base in RUNS:
                results[label].append(run_worker(url, fmt, compress))
        rate = {label: statistics.median(r["rows_per_s"] for r in runs) for label, runs in results.items()}
        cpu = {label: statistics.median(r["cpu_ms_per_krow"] for r in runs) for label, runs in results.items()}
        for label, _fmt, _compress, base in RUNS:
            runs = results[label]
            ratio = f"{rate[label] / rate[base]:.2f}x" if base else "baseline"
            by_cpu = f"{cpu[base] / cpu[label]:.2f}x" if base else ""
            print(f"{n:>7} {label:<15} {rate[label]:>8.0f} {cpu[label]:>15.1f} {ratio:>12} {by_cpu:>9} "
                  f"{runs[0]['mb']:>7.1f} {statistics.median(r['rss_growth'] for r in runs):>9.1f}MB", flush=True)
    if not args.no_clustering:
        print(bench_clustering(build_index(min(args.sizes)), min(args.sizes)), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3], sys.argv[4] == "1")))
    else:
        main()
