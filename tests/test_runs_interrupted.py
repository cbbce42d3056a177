"""Runs of killed crawls do not stay "running" forever: the next crawl or scheduler marks them interrupted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Capture, CrawlRun
from newsarchive.archive.owner import OWNER_KEY, owner_alive, process_owner
from newsarchive.archive.runs import CRAWL_INTERRUPTED, mark_interrupted, run_history
from newsarchive.demo.server import DemoServer

FETCHED = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)

KILLED_CRAWL = """
import os, signal, sys
from datetime import datetime
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Capture
index = ArchiveIndex(sys.argv[1])
run = index.start_run("news", {"sites": ["a"]}, site="a")
index.add_capture(Capture(url="http://a.test/1", canonical_url="http://a.test/1", url_key="a", host="a.test",
                          status=200, fetched_at=datetime.fromisoformat(sys.argv[2]), payload_digest="sha1:X",
                          record_id="<urn:uuid:1>", warc_file="f.warc.gz", warc_offset=0, warc_length=1, run_id=run))
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_run(url: str) -> int:
    """A crawl run started by a process that was then SIGKILLed (its row says "running")."""
    proc = subprocess.run([sys.executable, "-c", KILLED_CRAWL, url, FETCHED.isoformat()], timeout=120)
    assert proc.returncode == -signal.SIGKILL
    index = ArchiveIndex(url)
    with index.sessions() as s:
        run = s.query(CrawlRun).order_by(CrawlRun.id.desc()).first()
        assert run is not None and run.status == "running"
        return run.id


def status(index: ArchiveIndex, run_id: int) -> CrawlRun:
    with index.sessions() as s:
        run = s.get(CrawlRun, run_id)
        assert run is not None
        s.expunge(run)
        return run


def test_only_runs_whose_process_is_gone_are_marked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    dead = killed_run(url)
    index = ArchiveIndex(url)
    mine = index.start_run("news", {}, site="b")  # this process: alive
    with index.session() as s:
        elsewhere = CrawlRun(spider="news", site="c", stats={OWNER_KEY: {**process_owner(), "host": "other-host"}})
        legacy = CrawlRun(spider="news", site="d")  # written before runs recorded their owner
        s.add_all([elsewhere, legacy])
        s.flush()
        others = (elsewhere.id, legacy.id)
    assert sorted(mark_interrupted(index)) == sorted([dead, others[1]])
    run = status(index, dead)
    assert (run.status, run.finished_at, run.pages) == (CRAWL_INTERRUPTED, FETCHED, 1)
    assert status(index, mine).status == "running" and status(index, others[0]).status == "running"
    assert status(index, others[1]).status == CRAWL_INTERRUPTED
    assert mark_interrupted(index) == []  # nothing left to do
    history = {r.crawl_run_id: r for r in run_history(index)}
    assert history[dead].status == CRAWL_INTERRUPTED and history[dead].ended


def test_a_reused_pid_is_not_the_owner() -> None:
    me = process_owner()
    assert owner_alive(me) is True
    assert owner_alive({**me, "start": (me["start"] or 0) + 1}) is False
    assert owner_alive({**me, "boot": "another-boot"}) is False
    assert owner_alive({**me, "host": "another-host"}) is None
    assert owner_alive(None) is False


@pytest.mark.slow
def test_the_next_crawl_marks_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'index.sqlite'}"
    home.mkdir()
    dead = killed_run(url)
    with socket.socket() as sock:  # a port nobody listens on: the crawl starts and fails at once
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run([sys.executable, "-m", "newsarchive", "crawl", f"http://127.0.0.1:{port}/", "-s",
                           "RETRY_TIMES=0", "--home", str(home), "--index-url", url],
                          capture_output=True, text=True, timeout=300)
    assert "nothing could be fetched" in proc.stderr, proc.stderr
    assert status(ArchiveIndex(url), dead).status == CRAWL_INTERRUPTED
    runs = subprocess.run([sys.executable, "-m", "newsarchive", "runs", "--home", str(home), "--index-url", url],
                          capture_output=True, text=True, timeout=120)
    line = next(line for line in runs.stdout.splitlines() if line.startswith(f"{dead} "))
    assert CRAWL_INTERRUPTED in line and "running" not in line


def test_the_scheduler_marks_them_when_it_starts(tmp_path: Path) -> None:
    from newsarchive.crawler.sites import SiteConfig
    from newsarchive.service.scheduler import CrawlScheduler, ScheduleOptions

    url = f"sqlite:///{tmp_path / 'index.sqlite'}"
    dead = killed_run(url)
    site = SiteConfig(name="a", start_urls=("http://127.0.0.1:9/",), schedule="0 3 * * *")
    scheduler = CrawlScheduler([site], tmp_path / "sites.toml", ArchiveHome(tmp_path / "home", url),
                               ScheduleOptions())
    scheduler.start()
    try:
        assert status(ArchiveIndex(url), dead).status == CRAWL_INTERRUPTED
    finally:
        scheduler.stop()


@pytest.mark.slow
def test_sigkilled_crawl_is_interrupted_after_the_next_one(tmp_path: Path, demo_sites: DemoServer) -> None:
    """A real crawl SIGKILLed after its 3rd response; the next crawl of the archive marks its run."""
    home = tmp_path / "home"
    target = demo_sites.urls(sorted(demo_sites.sites)[0]).home
    base = [sys.executable, "-m", "newsarchive", "crawl", target, "--home", str(home), "--max-pages", "8"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    killed = subprocess.run([*base, "-s", "NEWSARCHIVE_TEST_KILL_AT=captured:3"], capture_output=True, text=True,
                            timeout=600, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    first = max(r.crawl_run_id or 0 for r in run_history(index))
    assert status(index, first).status == "running"
    again = subprocess.run(base, capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0, again.stderr
    run = status(index, first)
    assert run.status == CRAWL_INTERRUPTED and run.pages >= 1
    with index.sessions() as s:
        last = max(c.fetched_at for c in s.query(Capture).filter(Capture.run_id == first))
    assert run.finished_at == last
