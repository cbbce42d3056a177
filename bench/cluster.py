"""Story clustering at a crawl's close: CPU and memory of ``cluster_articles`` adding N new articles to an index
that already holds a large clustered corpus, for two checkouts side by side in the same run.

The corpus is synthetic (deterministic): unrelated texts of 60-400 words from one 3,000-word vocabulary,
rewritten wire copies (a window of an earlier text, 1-12% of its words changed, another intro), exact copies
and a few short texts. The base index (``--base`` articles) is written by direct inserts through the models and
clustered once by the *baseline* checkout (``--baseline``, required: e.g. ``git worktree add /tmp/before 17be909^``
for the code before the on-disk LSH, or any other revision to compare with);
the candidate checkout (``--candidate``, default this one) gets a copy of it upgraded by its migrations (the
upgrade's CPU is printed: the one-off backfill of the band table).

Each measurement is a cold subprocess on a fresh copy of its index: it inserts the ``--new`` articles (not
timed), then runs ``cluster_articles`` once, as a crawl's close does, the modules it imports (datasketch and
scipy, or numpy) included. Printed per checkout: CPU s (user+sys), peak RSS growth over the RSS before the
close (VmHWM reset through /proc/self/clear_refs), and in a separate run tracemalloc's peak (slower, so not
timed); medians of ``--repeat`` runs, the checkouts interleaved. A last line times a cold close on a tiny
index (10 articles), which is import cost and little else.

    python bench/cluster.py --baseline /tmp/before                          # 100,000 clustered + 1,000 new, 3 runs each
    python bench/cluster.py --baseline /tmp/before --base 20000 --repeat 1  # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve()
WORK = Path(tempfile.gettempdir()) / "newsarchive-bench-cluster"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def corpus(n: int, seed: int = 7) -> list[str]:
    """Unrelated articles, rewritten wire copies (a window of an earlier text, some words changed, another
    intro), exact copies and a few short texts, from one vocabulary (so unrelated texts share words, rarely
    5-grams). Also the tests' corpus (tests/dedup_reference.py)."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)] + ["der", "die", "und", "in", "den", "von", "zu", "das", "mit", "sich"]
    texts: list[str] = []
    for _ in range(n):
        roll = rng.random()
        if texts and roll < 0.3:
            words = rng.choice(texts).split()
            start = rng.randrange(0, max(1, len(words) // 3))
            window = words[start:start + rng.randint(len(words) // 3, len(words))]
            changed = [rng.choice(vocab) if rng.random() < rng.uniform(0.01, 0.12) else w for w in window]
            texts.append(" ".join(rng.choices(vocab, k=rng.randint(0, 40)) + changed))
        elif texts and roll < 0.35:
            texts.append(rng.choice(texts))
        elif roll < 0.38:
            texts.append(" ".join(rng.choices(vocab, k=rng.randint(1, 12))))
        else:
            texts.append(" ".join(rng.choices(vocab, k=rng.randint(60, 400))))
    return texts


def insert_articles(url: str, texts: list[str], first: int) -> None:
    """Captures and ``ok`` articles with ids first+1.. (Core inserts through the models, in chunks)."""
    from sqlalchemy import insert

    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.models import Article, Capture

    index = ArchiveIndex(url)
    for start in range(0, len(texts), 5000):
        chunk = list(enumerate(texts[start:start + 5000], start=first + start + 1))
        with index.session() as s:
            s.execute(insert(Capture), [
                {"id": i, "url": f"https://site{i % 20}.example/{i}", "canonical_url": f"https://site{i % 20}.example/{i}",
                 "url_key": "", "host": f"site{i % 20}.example", "method": "GET", "status": 200, "fetched_at": T0,
                 "payload_digest": "sha1:X", "record_type": "response", "record_id": f"<urn:x:{i}>",
                 "warc_file": "x.warc.gz", "warc_offset": 0, "warc_length": 1, "kind": "page"} for i, _ in chunk])
            s.execute(insert(Article), [
                {"id": i, "capture_id": i, "url": f"https://site{i % 20}.example/{i}",
                 "canonical_url": f"https://site{i % 20}.example/{i}", "site": f"site{i % 20}", "status": "ok",
                 "text": t, "word_count": len(t.split()), "extractor": "bench", "extractor_version": "1",
                 "text_hash": hashlib.sha256(t.encode()).hexdigest() if t else None, "extracted_at": T0,
                 "authors": [], "agencies": [], "tags": [], "markdown": ""} for i, t in chunk])
    index.close()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def worker(args: argparse.Namespace) -> None:
    """One measurement in this (cold) process; prints one JSON line."""
    url = f"sqlite:///{args.db}"
    if args.step == "build":
        insert_articles(url, corpus(args.base), 0)
        from newsarchive.archive.dedup import cluster_articles
        from newsarchive.archive.index import ArchiveIndex

        cpu = _cpu()
        report = cluster_articles(ArchiveIndex(url))
        print(json.dumps({"cpu": _cpu() - cpu, "articles": report.articles}))
        return
    if args.step == "upgrade":
        from newsarchive.archive.index import make_engine
        from newsarchive.archive.schema import ensure_schema

        engine = make_engine(url)
        cpu = _cpu()
        revision = ensure_schema(engine)
        print(json.dumps({"cpu": _cpu() - cpu, "revision": revision}))
        return
    texts = corpus(args.base + args.new)[args.base:] if args.step != "tiny" else corpus(10)
    insert_articles(url, texts, 0 if args.step == "tiny" else args.base)
    from newsarchive.archive.index import ArchiveIndex

    index = ArchiveIndex(url)
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    rss = _status("VmRSS")
    cpu = _cpu()
    from newsarchive.archive.dedup import cluster_articles

    report = cluster_articles(index)
    cpu = _cpu() - cpu
    out = {"cpu": cpu, "rss_growth": _status("VmHWM") - rss, "articles": report.articles, "near": report.near,
           "exact": report.exact, "total": report.total_articles, "stories": report.total_stories,
           "heavy": sorted(m for m in ("scipy", "datasketch", "numpy") if m in sys.modules)}
    if args.tracemalloc:
        out["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    from sqlalchemy import text

    with index.sessions() as s:  # where the new articles went, to compare the checkouts
        rows = s.execute(text("SELECT article_id, story_id, method, similarity FROM story_clusters "
                              "WHERE article_id > :base ORDER BY article_id"), {"base": args.base}).all()
    # story, method and similarity: the matched article may differ where candidates tie (exact copies of one
    # text score alike; the old code took whichever its set yielded first, the new one the earliest article)
    out["placement_digest"] = hashlib.sha1(repr([(*r[:3], round(r[3], 12)) for r in rows]).encode()).hexdigest()[:12]
    print(json.dumps(out))


def run(checkout: Path, *argv: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, str(HERE), "worker", *argv], env=env, check=True, capture_output=True,
                          text=True, cwd=checkout)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, required=True, help="checkout of the revision to compare with")
    parser.add_argument("--candidate", type=Path, default=HERE.parent.parent)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--rebuild", action="store_true", help="Build the base index again even if cached.")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    base = args.work / f"base-{args.base}.sqlite"
    if args.rebuild or not base.exists():
        for stale in args.work.glob(f"base-{args.base}.sqlite*"):
            stale.unlink()
        started = time.perf_counter()
        built = run(args.baseline, "--step", "build", "--db", str(base), "--base", str(args.base))
        print(f"base index: {built['articles']} articles clustered by the baseline in {built['cpu']:.1f} s CPU "
              f"({time.perf_counter() - started:.0f} s wall with the inserts)", flush=True)
    upgraded = args.work / f"base-{args.base}-candidate.sqlite"
    shutil.copyfile(base, upgraded)
    up = run(args.candidate, "--step", "upgrade", "--db", str(upgraded))
    print(f"candidate's migrations on the base index (to {up['revision']}, band backfill): {up['cpu']:.1f} s CPU",
          flush=True)
    sources = {"baseline": (args.baseline, base), "candidate": (args.candidate, upgraded)}
    results: dict[str, dict[str, list[float]]] = {k: {} for k in sources}
    facts: dict[str, dict[str, object]] = {}
    for _ in range(args.repeat):
        for label, (checkout, db) in sources.items():
            for traced in (False, True):
                copy = args.work / f"run-{label}.sqlite"
                shutil.copyfile(db, copy)
                out = run(checkout, "--step", "close", "--db", str(copy), "--base", str(args.base),
                          "--new", str(args.new), *(["--tracemalloc"] if traced else []))
                copy.unlink()
                for key in (("traced_peak",) if traced else ("cpu", "rss_growth")):
                    results[label].setdefault(key, []).append(float(out[key]))  # type: ignore[arg-type]
                facts[label] = {k: out[k] for k in ("articles", "near", "exact", "total", "stories", "heavy",
                                                   "placement_digest")}
    print(f"close adding {args.new} articles to {args.base} clustered ones (median of {args.repeat}):")
    for label, (checkout, _) in sources.items():
        r = results[label]
        print(f"  {label:9} {str(checkout):28} CPU {statistics.median(r['cpu']):6.2f} s  "
              f"peak RSS growth {statistics.median(r['rss_growth']) / 2**20:7.1f} MiB  "
              f"tracemalloc peak {statistics.median(r['traced_peak']) / 2**20:7.1f} MiB  {facts[label]}")
    ratio = statistics.median(results["candidate"]["cpu"]) / statistics.median(results["baseline"]["cpu"])
    print(f"  candidate / baseline CPU: {ratio:.3f}")
    tiny: dict[str, list[float]] = {k: [] for k in sources}
    for _ in range(max(3, args.repeat)):
        for label, (checkout, _) in sources.items():
            copy = args.work / f"tiny-{label}.sqlite"
            for stale in args.work.glob(f"tiny-{label}.sqlite*"):
                stale.unlink()
            tiny[label].append(float(run(checkout, "--step", "tiny", "--db", str(copy))["cpu"]))  # type: ignore[arg-type]
    print("cold close on a tiny index (10 articles; imports included): " + ", ".join(
        f"{label} {statistics.median(v):.3f} s CPU" for label, v in tiny.items()))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        p = argparse.ArgumentParser()
        p.add_argument("--step", required=True)
        p.add_argument("--db", type=Path, required=True)
        p.add_argument("--base", type=int, default=0)
        p.add_argument("--new", type=int, default=0)
        p.add_argument("--tracemalloc", action="store_true")
        worker(p.parse_args(sys.argv[2:]))
    else:
        main()
