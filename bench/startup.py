"""Start-up cost of the CLI: read commands (stats, show, search, runs) against ``newsarchive --help``.

Builds a small archive (one WARC with a few article pages, their capture and article rows), then runs each
command ``--repeat`` times as a fresh process and prints the median wall time, the median CPU time of the
process and how many modules it imported (``python -X importtime``). The machine is shared: CPU time and
the ratio to ``--help`` measured in the same run are the figures to compare.

    python bench/startup.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.urls import canonicalize, host_of, url_key
from newsarchive.archive.warc import HttpExchange, WarcWriter

T0 = datetime(2024, 3, 1, tzinfo=UTC)
PAGES = 20


def build_archive(home: Path) -> str:
    """A home with PAGES archived articles; returns one article URL."""
    index = ArchiveIndex(f"sqlite:///{home / 'index.sqlite'}")
    url = ""
    with WarcWriter(home / "warcs") as writer:
        for n in range(PAGES):
            url = f"https://news.example/politik/story-{n}.html"
            text = f"Story {n}: Nordkorea testet eine Rakete mit grosser Reichweite. " * 20
            body = f"<html><head><title>Story {n}</title></head><body><p>{text}</p></body></html>".encode()
            written = writer.write_exchange(HttpExchange(url, 200, [("Content-Type", "text/html")], body,
                                                         fetched_at=T0))
            capture_id = index.add_capture(Capture(
                url=url, canonical_url=canonicalize(url), url_key=url_key(url), host=host_of(url), status=200,
                fetched_at=T0, content_type="text/html", content_length=len(body),
                payload_digest=written.payload_digest, record_id=written.record_id, warc_file=written.ref.path,
                warc_offset=written.ref.offset, warc_length=written.ref.length))
            index.add_article(Article(capture_id=capture_id, url=url, canonical_url=canonicalize(url),
                                      site="example", title=f"Story {n}", text=text, word_count=len(text.split()),
                                      language="de", published=T0, fetched_at=T0))
    index.close()
    return url


def run_once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def modules_imported(args: list[str]) -> int:
    code = "import sys; from newsarchive.cli.main import main; sys.argv = ['newsarchive', *sys.argv[1:]]; main()"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args],
                          capture_output=True, text=True)
    return sum(1 for line in proc.stderr.splitlines() if line.startswith("import time:")) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        url = build_archive(home)
        base = [sys.executable, "-m", "newsarchive"]
        commands = {
            "--help": ["--help"],
            "stats": ["stats", "--home", str(home)],
            "show": ["show", url, "--home", str(home)],
            "search": ["search", "Reichweite", "--home", str(home)],
            "runs": ["runs", "--home", str(home)],
        }
        for argv in commands.values():  # warm the page cache and the FTS index once
            subprocess.run(base + argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"newsarchive start-up, {PAGES}-article archive, median of {args.repeat} runs, "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        print(f"{'command':10} {'wall s':>8} {'CPU s':>8} {'x --help':>9} {'modules':>8}")
        help_cpu = None
        for name, argv in commands.items():
            runs = [run_once(base + argv) for _ in range(args.repeat)]
            wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
            help_cpu = help_cpu or cpu
            print(f"{name:10} {wall:8.3f} {cpu:8.3f} {cpu / help_cpu:9.2f} {modules_imported(argv):8d}")


if __name__ == "__main__":
    main()
