"""Where one small crawl's CPU goes: a ``newsarchive crawl`` of a local site under cProfile, plus the CPU of its
extraction processes.

``bench/crawl.py --fixed`` says how much CPU a crawl costs beyond its pages; this says where it goes. The same
local site of real publisher pages as ``bench/crawl.py`` (``--pages`` article pages, 16 by default) is crawled
once into a fresh home (``--home`` to crawl into an existing one, e.g. a second time), the main process under
cProfile (timed by CPU time). Printed: CPU seconds of the main process and of the whole process tree
(sampled like ``bench/crawl.py``), then the ``--top`` functions by cumulative CPU time of the main process. ``--runs N``
crawls N times without the profiler (which inflates the main process's CPU) and prints each run's CPU.

    python bench/profile_crawl.py --pages 16 --top 40
    python bench/profile_crawl.py --pages 16 --runs 5
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import runpy
import sys
import tempfile
import time
from pathlib import Path

from crawl import PAGES_DIR, make_site, measure, newsarchive_cmd, real_pages, with_base
from localsite import serve


def crawl(pages: int, workers: int, home: str, stats_file: Path | None) -> None:
    """One crawl of a local site into ``home``, under cProfile when ``stats_file`` is given."""
    site = make_site(pages, real_pages(PAGES_DIR))
    server = serve(site)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    with_base(site, url.rstrip("/"))
    cmd = newsarchive_cmd(url, home, pages, workers)
    if stats_file is not None:
        assert cmd[1:3] == ["-m", "newsarchive"]
        cmd[1:3] = [str(Path(__file__).resolve()), "--profiled", str(stats_file)]
    try:
        usage = measure(cmd)
    finally:
        server.shutdown()
    print(f"{pages} pages, {workers} extraction processes: {usage.seconds:.1f} s, CPU of the main process "
          f"{usage.main_cpu:.2f} s{' (under cProfile)' if stats_file else ''}, of the process tree "
          f"{usage.cpu:.2f} s, peak PSS {usage.peak_pss / 2**20:.0f} MB", flush=True)


def run_profiled(stats_file: str, argv: list[str]) -> None:
    """``python -m newsarchive *argv`` in this process under cProfile, timed by CPU time (the machine is
    shared: wall time would count the waits for a core)."""
    sys.argv = ["newsarchive", *argv]
    profiler = cProfile.Profile(time.process_time)
    try:
        profiler.runcall(runpy.run_module, "newsarchive", run_name="__main__", alter_sys=True)
    except SystemExit as end:
        if end.code:
            raise
    finally:
        profiler.dump_stats(stats_file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--home", help="crawl into this home (default: a fresh temporary one)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--runs", type=int, default=0, help="crawl this many times without the profiler")
    parser.add_argument("--profiled", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.profiled:
        run_profiled(args.profiled, rest)
        return
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="profile-crawl-") as tmp:
            crawl(args.pages, args.workers, args.home or tmp, None)
    if args.runs:
        return
    with tempfile.TemporaryDirectory(prefix="profile-crawl-") as tmp:
        stats_file = Path(tmp) / "crawl.prof"
        crawl(args.pages, args.workers, args.home or tmp, stats_file)
        stats = pstats.Stats(str(stats_file), stream=sys.stdout)
        stats.sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
