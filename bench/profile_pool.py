"""Memory of the extraction pool: PSS of each worker and of the forkserver they are forked from.

``make_executor`` (newsarchive's pool) extracts ``--pages`` real publisher pages (the pages of
``bench/crawl.py``, repeated as needed) in ``--workers`` processes; then every worker reports its
``smaps_rollup`` and the modules it has loaded. ``--baseline`` runs the bare pool of ``bench/crawl.py``'s
baseline instead (a plain forkserver pool calling ``trafilatura.extract``). Printed: per process RSS, PSS,
shared and private dirty MB, the pool's total PSS (workers + forkserver), and the CPU seconds the workers
spent extracting. Each run is one fresh process: a forkserver serves one parent process.

    python bench/profile_pool.py --pages 139
    python bench/profile_pool.py --pages 139 --baseline
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor

from crawl import PAGES_DIR, _baseline_extract

from newsarchive.extract.pool import make_executor, run_extract

FIELDS = ("Rss", "Pss", "Shared_Dirty", "Private_Dirty")


def smaps(pid: int) -> dict[str, float]:
    """MB of the ``FIELDS`` of one process's ``/proc/<pid>/smaps_rollup``."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        values = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in rollup.readlines()[1:]}
    return {field: values[field] for field in FIELDS}


def worker_state() -> tuple[int, int, int, dict[str, float]]:
    """(pid, parent pid, modules loaded, memory) of the worker this runs in."""
    return os.getpid(), os.getppid(), len(sys.modules), smaps(os.getpid())


def timed(baseline: bool, html: bytes, url: str) -> float:
    """Extract one page in a worker; the CPU seconds it took."""
    started = time.process_time()
    if baseline:
        _baseline_extract(html.decode("utf-8", "replace"), url)
    else:
        run_extract(html, url)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=139)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", action="store_true", help="the bare trafilatura pool of bench/crawl.py")
    args = parser.parse_args()
    bodies = [gzip.decompress(p.read_bytes()) for p in sorted(PAGES_DIR.rglob("*.html.gz"))]
    executor: Executor = ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("forkserver")) \
        if args.baseline else make_executor(args.workers)
    futures = [executor.submit(timed, args.baseline, bodies[i % len(bodies)], f"https://news.example/{i}.html")
               for i in range(args.pages)]
    cpu = sum(f.result() for f in futures)
    states = {}
    while len(states) < args.workers:  # idle workers take these in turn; ask until each has answered
        pid, parent, modules, memory = executor.submit(worker_state).result()
        states[pid] = (parent, modules, memory)
    server = next(iter(states.values()))[0]
    total = smaps(server)["Pss"] + sum(memory["Pss"] for _, _, memory in states.values())
    print(f"{'baseline' if args.baseline else 'newsarchive'}: {args.pages} pages, {args.workers} workers, "
          f"extraction CPU {cpu:.2f} s")
    for pid, (_, modules, memory) in sorted(states.items()):
        print(f"  worker {pid}: {modules} modules, " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))
    print("  forkserver: " + ", ".join(f"{k} {v:.0f}" for k, v in smaps(server).items()))
    print(f"  pool PSS {total:.0f} MB")
    executor.shutdown()


if __name__ == "__main__":
    main()
