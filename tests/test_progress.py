"""Progress of long commands: the shared CLI helper (bar on a terminal, log lines otherwise) and the
``(done, total)`` callbacks of verify, reindex and reextract."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.reindex import reindex
from newsarchive.archive.verify import verify_archive
from newsarchive.cli.progress import Progress, progress_line
from newsarchive.extract.reextract import ReextractOptions, reextract
from tests.archive_builder import BuiltArchive, build_archive


@pytest.fixture
def archive(tmp_path: Path) -> BuiltArchive:
    return build_archive(tmp_path / "home", max_size=3000)  # several WARC files


def warc_bytes(archive: BuiltArchive) -> int:
    return sum(p.stat().st_size for p in archive.warc_dir.glob("*.warc.gz"))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_counts_rate_and_eta() -> None:
    assert progress_line("verify", 1_200_000_000, 3_400_000_000, 10.0, "B") == \
        "verify: 1.2 GB of 3.4 GB (35%), 120.0 MB/s, ETA 18s"
    assert progress_line("reextract", 250, 1000, 50.0, "articles") == \
        "reextract: 250 articles of 1,000 articles (25%), 5 articles/s, ETA 2m30s"
    assert progress_line("reextract", 1000, 1000, 50.0, "articles").endswith("(100%), 20 articles/s")  # no ETA
    assert progress_line("scan", 5, 0, 0.0, "items") == "scan: 5 items, 0 items/s"  # total unknown


def test_log_lines_every_interval_and_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    with Progress("reextract", unit="articles", stream=out, tty=False, interval=10.0, clock=clock) as progress:
        for done in range(1, 101):
            clock.now = done * 0.5  # 2 articles a second
            progress(done, 100)
    lines = out.getvalue().splitlines()
    # at 10 s, 20 s, 30 s, 40 s, 50 s, and the final state when the progress closes
    assert [line.split(" ", 2)[2] for line in lines] == [
        "reextract: 20 articles of 100 articles (20%), 2 articles/s, ETA 40s",
        "reextract: 40 articles of 100 articles (40%), 2 articles/s, ETA 30s",
        "reextract: 60 articles of 100 articles (60%), 2 articles/s, ETA 20s",
        "reextract: 80 articles of 100 articles (80%), 2 articles/s, ETA 10s",
        "reextract: 100 articles of 100 articles (100%), 2 articles/s",
        "reextract: 100 articles of 100 articles (100%), 2 articles/s",
    ]


def test_bar_on_a_terminal() -> None:
    out = io.StringIO()
    with Progress("verify", unit="B", stream=out, tty=True) as progress:
        progress(500_000, 2_000_000)
        progress(2_000_000, 2_000_000)
    text = out.getvalue()
    assert "verify" in text and "2.00M/2.00M" in text and "100%" in text


def check_bytes(calls: list[tuple[int, int]], total: int) -> None:
    assert calls, "no progress reported"
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)  # never goes back
    assert calls[-1] == (total, total)


def test_verify_and_reindex_report_bytes_of_all_files(archive: BuiltArchive, tmp_path: Path) -> None:
    assert len(list(archive.warc_dir.glob("*.warc.gz"))) > 2
    calls: list[tuple[int, int]] = []
    report = verify_archive(archive.index, archive.warc_dir, progress=lambda d, t: calls.append((d, t)))
    assert report.problems == []
    check_bytes(calls, warc_bytes(archive))
    assert len(calls) >= report.records  # per record, not per file

    calls = []
    rebuilt = ArchiveIndex(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    done = reindex(rebuilt, archive.warc_dir, progress=lambda d, t: calls.append((d, t)))
    check_bytes(calls, warc_bytes(archive))
    assert len(calls) >= done.records


def test_reextract_reports_articles(archive: BuiltArchive) -> None:
    calls: list[tuple[int, int]] = []
    report = reextract(archive.index, archive.warc_dir, ReextractOptions(write_warc=False),
                       progress=lambda d, t: calls.append((d, t)))
    assert calls == [(n, report.articles) for n in range(1, report.articles + 1)] and report.articles == 2


def test_cli_commands_write_progress_lines_when_not_on_a_terminal(archive: BuiltArchive) -> None:
    for command, unit in (("verify", "B"), ("reextract", "articles")):
        proc = subprocess.run([sys.executable, "-m", "newsarchive", command, "--home", str(archive.root)],
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        last = [line for line in proc.stderr.splitlines() if f" {command}: " in line][-1]
        assert "(100%)" in last and f"{unit}/s" in last, proc.stderr
