"""Scheduled crawling: APScheduler jobs persisted in the index, crawl subprocesses, overlap rules, stop, health.

Most tests inject a tiny fake crawler (a script written here) that records when it ran and writes a crawl
run row like the real crawl does; two tests run the real ``newsarchive crawl`` against a local site.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from newsarchive.archive import runs
from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import CrawlRun
from newsarchive.cli.main import cli
from newsarchive.crawler.sites import SiteConfig
from newsarchive.service.scheduler import (
    CrawlJob,
    CrawlScheduler,
    HostLocks,
    ScheduleError,
    ScheduleOptions,
    first_run_time,
    make_trigger,
)
from tests.pg import pg_unavailable_reason, temp_pg_database

pytestmark = pytest.mark.timeout(900)  # an upper bound for a loaded machine, not an expected duration

FAKE_CRAWLER = textwrap.dedent("""
    import json, os, signal, sys, time, uuid
    from datetime import UTC, datetime

    cfg = json.load(open(sys.argv[1]))
    site = sys.argv[2]
    interrupted = []

    def log(event, **kw):
        with open(cfg["record"], "a") as f:
            f.write(json.dumps({"event": event, "site": site, "t": time.time(), "pid": os.getpid(), **kw}) + "\\n")

    if cfg.get("ignore_sigint"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, lambda *a: interrupted.append(1))
    log("start", schedule_run_id=os.environ.get("NEWSARCHIVE_SCHEDULE_RUN_ID"), argv=sys.argv[1:])
    from newsarchive.archive.models import Article, Capture
    from newsarchive.archive.index import ArchiveIndex

    index = ArchiveIndex(os.environ["NEWSARCHIVE_INDEX_URL"])
    run = index.start_run("fake", {"schedule_run_id": os.environ.get("NEWSARCHIVE_SCHEDULE_RUN_ID")}, site=site)
    end = time.time() + cfg.get("sleep", {}).get(site, 0.1)
    while time.time() < end and not interrupted:
        time.sleep(0.02)
    for url in cfg.get("articles", {}).get(site, []):
        cap = index.add_capture(Capture(
            url=url, canonical_url=url, host="fake", status=200, fetched_at=datetime.now(UTC),
            payload_digest="sha1:X", record_id=f"<urn:uuid:{uuid.uuid4()}>", warc_file="f.warc.gz",
            warc_offset=0, warc_length=1, kind="article", run_id=run))
        index.add_article(Article(capture_id=cap, url=url, canonical_url=url, site=site, status="ok", text="t"))
    index.finish_run(run, status="shutdown" if interrupted else "finished", stats={})
    log("end", interrupted=bool(interrupted))
    sys.exit(cfg.get("exit", {}).get(site, 0))
""")


@dataclass
class Bench:
    """A home, an index URL, and a fake crawler whose behaviour per site is set in ``config``."""

    root: Path
    index_url: str
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def home(self) -> ArchiveHome:
        return ArchiveHome(self.root / "home", self.index_url)

    @property
    def record(self) -> Path:
        return self.root / "record.jsonl"

    def command(self, job: CrawlJob) -> list[str]:
        cfg = self.root / "fake.json"
        cfg.write_text(json.dumps({"record": str(self.record), **self.config}))
        return [sys.executable, str(self.root / "fake_crawler.py"), str(cfg), job.site]

    def scheduler(self, sites: list[SiteConfig], **options: Any) -> CrawlScheduler:
        return CrawlScheduler(sites, self.root / "sites.toml", self.home, ScheduleOptions(**options),
                              command=self.command)

    def events(self, event: str | None = None, site: str | None = None) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        rows = [json.loads(line) for line in self.record.read_text().splitlines()]
        return [r for r in rows if (event is None or r["event"] == event) and (site is None or r["site"] == site)]

    def spans(self, site: str) -> list[tuple[float, float]]:
        """(start, end) of each completed fake crawl of ``site``, pairing events by pid."""
        ends = {e["pid"]: e["t"] for e in self.events("end", site)}
        return [(s["t"], ends[s["pid"]]) for s in self.events("start", site) if s["pid"] in ends]

    def index(self) -> ArchiveIndex:
        return ArchiveIndex(self.index_url)


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    (tmp_path / "fake_crawler.py").write_text(FAKE_CRAWLER)
    (tmp_path / "sites.toml").write_text("# the fake crawler does not read it\n")
    return Bench(tmp_path, f"sqlite:///{tmp_path / 'index.sqlite'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    (tmp_path / "fake_crawler.py").write_text(FAKE_CRAWLER)
    if request.param == "sqlite":
        yield Bench(tmp_path, f"sqlite:///{tmp_path / 'index.sqlite'}")
        return
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with temp_pg_database() as url:
        yield Bench(tmp_path, url)


def site(name: str, host: str = "news.test", schedule: str | None = "1h") -> SiteConfig:
    return SiteConfig(name=name, start_urls=(f"http://{host}/{name}/",), schedule=schedule)


def wait_for(predicate: Callable[[], Any], timeout: float = 300.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it holds; ``timeout`` is a generous bound for a loaded machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def schedule_rows(index_url: str, site_name: str | None = None) -> list[runs.ScheduleRun]:
    index = ArchiveIndex(index_url)
    try:
        with index.sessions() as s:
            stmt = select(runs.ScheduleRun).order_by(runs.ScheduleRun.id)
            if site_name:
                stmt = stmt.where(runs.ScheduleRun.site == site_name)
            return list(s.scalars(stmt))
    finally:
        index.close()


# -- triggers -----------------------------------------------------------------------------------------------
def test_triggers_and_first_run_time() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    interval = make_trigger("45m", UTC)
    cron = make_trigger("*/30 * * * *", UTC)
    assert first_run_time(interval, None, now) == now  # never run: run at once
    assert first_run_time(interval, now - timedelta(minutes=10), now) == now + timedelta(minutes=35)
    assert first_run_time(interval, now - timedelta(hours=2), now) == now  # overdue: run at once
    assert first_run_time(cron, now - timedelta(minutes=5), now) == now  # the 12:00 run is due
    later = now + timedelta(minutes=10)
    assert first_run_time(cron, later - timedelta(minutes=5), later) == now + timedelta(minutes=30)
    assert cron.get_next_fire_time(None, now + timedelta(minutes=1)) == now + timedelta(minutes=30)


def test_host_locks_serialize_shared_hosts_only() -> None:
    locks, stop = HostLocks(), threading.Event()
    with locks.hold(["b.test", "a.test"], stop) as held:
        assert held
        other = threading.Event()
        results: list[bool] = []

        def contender(hosts: list[str]) -> None:
            with locks.hold(hosts, stop) as got:
                results.append(got)
            other.set()

        threading.Thread(target=contender, args=(["c.test"],)).start()
        assert other.wait(2) and results == [True]  # another host goes ahead
        other.clear()
        blocked = threading.Thread(target=contender, args=(["A.test"],))
        blocked.start()
        assert not other.wait(0.5)  # same host (case-insensitive) waits
        stop.set()
        blocked.join(2)
        assert results == [True, False]  # and gives up when the scheduler stops


# -- long-running mode --------------------------------------------------------------------------------------
@pytest.mark.slow  # waits for schedules and fake crawls to run their time
def test_interval_runs_repeat_without_overlap_and_are_recorded(bench: Bench) -> None:
    bench.config = {"sleep": {"a": 1.6}}
    scheduler = bench.scheduler([site("a", schedule="1s")])
    scheduler.start()
    try:
        wait_for(lambda: len([r for r in schedule_rows(bench.index_url) if r.status == runs.OK]) >= 3,
                 what="three crawls of a")
    finally:
        scheduler.stop()
    spans = bench.spans("a")
    assert all(not overlap(x, y) for i, x in enumerate(spans) for y in spans[i + 1:])
    rows = [r for r in schedule_rows(bench.index_url) if r.status != runs.STOPPED]
    assert len(rows) >= 3 and all(r.status == runs.OK and r.exit_code == 0 for r in rows)
    # each schedule run is linked to the crawl run its crawler wrote (tagged with the schedule run id)
    index = bench.index()
    with index.sessions() as s:
        crawl = {c.id: c for c in s.scalars(select(CrawlRun))}
    for row in rows:
        assert row.crawl_run_id is not None and crawl[row.crawl_run_id].args["schedule_run_id"] == str(row.id)
        assert row.scheduled_for is not None and row.started_at >= row.scheduled_for - timedelta(seconds=0.01)
    starts = [e["argv"] for e in bench.events("start", "a")]
    assert all(argv[-1] == "a" for argv in starts)


@pytest.mark.slow  # waits for schedules and fake crawls to run their time
def test_sites_sharing_a_host_never_overlap_other_hosts_do(bench: Bench) -> None:
    bench.config = {"sleep": {"a": 1.5, "b": 1.5, "c": 1.5}}
    scheduler = bench.scheduler([site("a", "news.test"), site("b", "news.test"), site("c", "other.test")],
                                max_concurrent=3)
    scheduler.start()
    try:
        wait_for(lambda: all(bench.spans(n) for n in "abc"), what="one crawl of each site")
    finally:
        scheduler.stop()
    (a,), (b,), (c,) = bench.spans("a"), bench.spans("b"), bench.spans("c")
    assert not overlap(a, b)  # one host: serialized
    assert overlap(c, a) or overlap(c, b)  # another host: in parallel


@pytest.mark.slow  # waits for schedules and fake crawls to run their time
def test_max_concurrent_caps_crawls_across_hosts(bench: Bench) -> None:
    bench.config = {"sleep": {"a": 0.8, "b": 0.8, "c": 0.8}}
    scheduler = bench.scheduler([site("a", "a.test"), site("b", "b.test"), site("c", "c.test")], max_concurrent=1)
    scheduler.start()
    try:
        wait_for(lambda: all(bench.spans(n) for n in "abc"), what="one crawl of each site")
    finally:
        scheduler.stop()
    spans = [bench.spans(n)[0] for n in "abc"]
    assert all(not overlap(x, y) for i, x in enumerate(spans) for y in spans[i + 1:])


@pytest.mark.slow  # waits for schedules and fake crawls to run their time
def test_restart_keeps_persisted_next_run_time(any_db_bench: Bench) -> None:
    bench = any_db_bench
    first = bench.scheduler([site("a", schedule="4s")])
    first.start()
    try:
        (done,) = wait_for(lambda: [r for r in schedule_rows(bench.index_url) if r.status == runs.OK],
                           what="first run")
        (plan,) = first.plans()
    finally:
        first.stop()
    persisted = plan.next_run_time
    assert persisted is not None and persisted > done.started_at  # the next run, not the one done

    second = bench.scheduler([site("a", schedule="4s")])
    (plan2,) = second.start()
    try:
        assert abs((plan2.next_run_time - persisted).total_seconds()) < 0.001  # type: ignore[operator]
        wait_for(lambda: len([r for r in schedule_rows(bench.index_url) if r.status == runs.OK]) >= 2,
                 what="the second run, after the restart")
    finally:
        second.stop()
    rows = schedule_rows(bench.index_url)
    assert abs((rows[1].scheduled_for - persisted).total_seconds()) < 0.001  # type: ignore[operator]
    assert rows[1].started_at >= persisted  # not run early on restart


def test_changed_schedule_is_replaced_and_unselected_sites_removed(bench: Bench) -> None:
    sched = bench.scheduler([site("a"), site("b", "b.test")])
    outcomes = sched.run_due()
    assert sorted(o.site for o in outcomes) == ["a", "b"]
    again = bench.scheduler([site("a", schedule="0 3 * * *")])
    plans = {p.site: p for p in again.start()}
    try:
        assert again.scheduler.get_job("crawl:b") is None  # b is not scheduled by this process
        job = again.scheduler.get_job("crawl:a")
        assert job.kwargs["schedule"] == "0 3 * * *" and "cron" in str(job.trigger)
        nxt = plans["a"].next_run_time
        assert nxt is not None and nxt.astimezone(again.timezone).hour == 3 and nxt > datetime.now(UTC)
    finally:
        again.stop()
    tokyo = bench.scheduler([site("a", schedule="0 3 * * *")], timezone="Asia/Tokyo")
    (plan,) = tokyo.start()
    try:  # another time zone: the cron job is replaced, 03:00 is now Tokyo time
        assert plan.next_run_time is not None and plan.next_run_time.astimezone(tokyo.timezone).hour == 3
        assert tokyo.scheduler.get_job("crawl:a").kwargs["timezone"] == "Asia/Tokyo"
    finally:
        tokyo.stop()


# -- once mode ----------------------------------------------------------------------------------------------
def test_once_runs_what_is_due_then_nothing(bench: Bench) -> None:
    bench.config = {"exit": {"b": 3}}
    outcomes = {o.site: o for o in bench.scheduler([site("a"), site("b", "b.test")]).run_due()}
    assert outcomes["a"].status == runs.OK and not outcomes["a"].failed
    assert outcomes["b"].status == runs.FAILED and outcomes["b"].exit_code == 3 and outcomes["b"].failed
    second = bench.scheduler([site("a")])
    assert second.run_due() == []  # next runs are an hour away
    third = bench.scheduler([site("a"), site("b", "b.test")])
    third.scheduler.start(paused=True)
    try:
        stored = {job.id: job.next_run_time for job in third.scheduler.get_jobs()}  # before any sync
    finally:
        third.scheduler.shutdown(wait=False)
    soon = datetime.now(UTC) + timedelta(minutes=59)
    # b's job survived the --once run of a alone, with its next run time
    assert sorted(stored) == ["crawl:a", "crawl:b"] and all(t > soon for t in stored.values())


def test_once_skips_a_site_still_crawled_by_another_process(bench: Bench) -> None:
    index = bench.index()
    run_id = runs.start_schedule_run(index, job_id="crawl:a", site="a", trigger="scheduled", scheduled_for=None)
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)  # a long crawl: a is due again
    runs.update_schedule_run(index, run_id, pid=os.getpid(), started_at=two_hours_ago)  # alive: this process
    dead = runs.start_schedule_run(index, job_id="crawl:b", site="b", trigger="scheduled", scheduled_for=None)
    runs.update_schedule_run(index, dead, pid=2**22 + 12345, started_at=two_hours_ago)  # no such process
    outcomes = {o.site: o for o in bench.scheduler([site("a"), site("b", "b.test")]).run_due()}
    assert outcomes["a"].status == "skipped" and not outcomes["a"].failed
    assert outcomes["b"].status == runs.OK
    statuses = {r.id: r.status for r in schedule_rows(bench.index_url)}
    assert statuses[run_id] == runs.RUNNING and statuses[dead] == runs.FAILED  # abandoned run closed


# -- stopping -----------------------------------------------------------------------------------------------
def test_stop_interrupts_running_crawl_and_records_it(bench: Bench) -> None:
    bench.config = {"sleep": {"a": 60}}
    scheduler = bench.scheduler([site("a")], stop_timeout=20)
    scheduler.start()
    wait_for(lambda: bench.events("start", "a"), what="the crawl to start")
    wait_for(lambda: schedule_rows(bench.index_url)[0].pid, what="the pid to be recorded")
    scheduler.stop()
    (end,) = bench.events("end", "a")
    assert end["interrupted"] is True  # got SIGINT and closed cleanly, long before its 60 s were up
    (row,) = schedule_rows(bench.index_url)
    assert row.status == runs.STOPPED and row.finished_at is not None and row.crawl_run_id is not None
    (record,) = runs.run_history(bench.index(), site="a")
    assert record.status == runs.STOPPED and record.trigger == "scheduled"


def test_stop_kills_a_crawl_that_ignores_sigint(bench: Bench) -> None:
    bench.config = {"sleep": {"a": 60}, "ignore_sigint": True}
    scheduler = bench.scheduler([site("a")], stop_timeout=1)
    scheduler.start()
    wait_for(lambda: bench.events("start", "a"), what="the crawl to start")
    wait_for(lambda: schedule_rows(bench.index_url)[0].pid, what="the pid to be recorded")
    began = time.monotonic()
    scheduler.stop()
    assert time.monotonic() - began >= 0.9  # it had its stop timeout to end on SIGINT first
    assert bench.events("end", "a") == []  # and was killed before its 60 s were up
    (row,) = schedule_rows(bench.index_url)
    assert row.status == runs.KILLED and row.exit_code == -signal.SIGKILL


DRIVER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests_parent!r})
    from tests.test_scheduling import Bench, site
    from pathlib import Path
    bench = Bench(Path({root!r}), {url!r}, {{"sleep": {{"a": 60}}}})
    scheduler = bench.scheduler([site("a")], stop_timeout=20)
    with scheduler.stop_on_signals():
        scheduler.run_forever()
    print("stopped cleanly")
""")


def test_sigterm_stops_scheduler_and_crawls(bench: Bench) -> None:
    driver = bench.root / "driver.py"
    driver.write_text(DRIVER.format(tests_parent=str(Path(__file__).parent.parent), root=str(bench.root),
                                    url=bench.index_url))
    proc = subprocess.Popen([sys.executable, str(driver)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: bench.events("start", "a"), what="the crawl to start")
        wait_for(lambda: schedule_rows(bench.index_url)[0].pid, what="the pid to be recorded")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"stopped cleanly" in out and b"received SIGTERM" in err
    assert bench.events("end", "a")[0]["interrupted"] is True
    assert schedule_rows(bench.index_url)[0].status == runs.STOPPED


# -- health and the runs listing -----------------------------------------------------------------------------
def test_site_without_new_articles_is_flagged_stale(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    bench.config = {"articles": {"a": ["http://news.test/a/1"], "b": []}}
    scheduler = bench.scheduler([site("a"), site("b", "b.test")], health_window=3)
    for _ in range(3):
        assert scheduler.execute("a", trigger="once", scheduled_for=None).status == runs.OK
    health = {h.site: h for h in runs.site_health(bench.index(), ["a"], window=3)}
    assert not health["a"].stale  # the first run found the article, the next two re-found it
    with caplog.at_level("WARNING", logger="newsarchive.service.scheduler"):
        scheduler.execute("a", trigger="once", scheduled_for=None)
    assert runs.site_health(bench.index(), ["a"], window=3)[0].stale  # three runs without a new article
    assert any("a looks stale" in r.getMessage() for r in caplog.records)
    history = runs.run_history(bench.index(), site="a")
    assert [r.new_articles for r in history] == [0, 0, 0, 1] and [r.articles for r in history] == [1, 1, 1, 1]

    result = CliRunner().invoke(cli, ["runs", "--index-url", bench.index_url, "--home", str(bench.root / "h")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["RUN", "SITE", "STARTED"]
    assert len([line for line in lines if " once " in f" {line} "]) == 4
    assert lines[1].split()[-1] == "stale" and "stale: a: its last 3 runs found no new articles" in result.output
    only = CliRunner().invoke(cli, ["runs", "--site", "b", "--index-url", bench.index_url])
    assert only.exit_code == 0 and "no runs yet for b" in only.output


def test_stopped_runs_do_not_count_for_health(bench: Bench) -> None:
    index = bench.index()
    for status in (runs.OK, runs.OK, runs.STOPPED, runs.OK):
        rid = runs.start_schedule_run(index, job_id="crawl:a", site="a", trigger="scheduled", scheduled_for=None)
        runs.update_schedule_run(index, rid, status=status, finished_at=datetime.now(UTC))
    (health,) = runs.site_health(index, ["a"], window=3)
    assert health.runs_checked == 3 and health.stale
    (short,) = runs.site_health(index, ["a"], window=4)
    assert short.runs_checked == 3 and not short.stale  # too few runs to judge


# -- configuration errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("toml", "args", "expected"), [
    ('[sites.demo]\nstart_urls = ["http://x.test/"]\nschedule = "61 * * * *"\n', [],
     "[sites.demo] schedule: '61 * * * *' is neither a cron expression"),
    ('[defaults]\nschedule = "every hour"\n[sites.demo]\nstart_urls = ["http://x.test/"]\n', [],
     "[defaults] schedule: 'every hour'"),
    ('[sites.demo]\nstart_urls = ["http://x.test/"]\nschedule = "0m"\n', [],
     "[sites.demo] schedule: '0m': an interval must be longer than zero"),
    ('[sites.demo]\nstart_urls = ["http://x.test/"]\n', ["nosuch"], "unknown site(s) nosuch; known: demo"),
    ('[sites.demo]\nstart_urls = ["http://x.test/"]\n', ["--default-schedule", "soon"], "--default-schedule:"),
    ('[sites.demo]\nstart_urls = ["http://x.test/"]\n', ["--timezone", "Mars/Olympus"],
     "--timezone: unknown time zone 'Mars/Olympus'"),
])
def test_bad_config_is_one_clear_error(tmp_path: Path, toml: str, args: list[str], expected: str) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(toml)
    result = CliRunner().invoke(cli, ["schedule", "--sites", str(sites), "--home", str(tmp_path / "h"),
                                      "--once", *args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1
    assert expected in result.output
    if not args or args[0] == "nosuch":
        assert str(sites) in result.output  # names the file


def test_missing_or_unreadable_sites_file(tmp_path: Path) -> None:
    missing = CliRunner().invoke(cli, ["schedule", "--sites", str(tmp_path / "nope.toml"), "--once"])
    assert missing.exit_code == 2 and f"{tmp_path / 'nope.toml'}: no such file" in missing.output
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[sites.demo]\n")
    undecodable = CliRunner().invoke(cli, ["schedule", "--sites", str(binary), "--once"])
    assert undecodable.exit_code == 2 and f"{binary}: cannot read" in undecodable.output
    broken = tmp_path / "broken.toml"
    broken.write_text("[sites.demo\n")
    invalid = CliRunner().invoke(cli, ["schedule", "--sites", str(broken), "--once"])
    assert invalid.exit_code == 2 and f"{broken}: not valid TOML" in invalid.output


def test_unreadable_sites_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.toml"
    locked.write_text('[sites.demo]\nstart_urls = ["http://x.test/"]\n')
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read mode-000 files (root)")
        result = CliRunner().invoke(cli, ["schedule", "--sites", str(locked), "--once", "--home", str(tmp_path)])
        assert result.exit_code == 2 and f"{locked}: cannot read" in result.output
    finally:
        locked.chmod(0o644)


def test_scheduler_rejects_bad_options(bench: Bench) -> None:
    with pytest.raises(ScheduleError, match="--max-concurrent"):
        bench.scheduler([site("a")], max_concurrent=0)
    with pytest.raises(ScheduleError, match="no sites"):
        bench.scheduler([])


# -- the real crawl -----------------------------------------------------------------------------------------
ARTICLE = "<p>" + " ".join(f"Sentence {i} of the story tells the reader something new about the town." for i in range(40)) + "</p>"


class LocalNews(BaseHTTPRequestHandler):
    pages = 3
    delay = 0.0

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        if self.path == "/":
            links = "".join(f'<li><a href="/news/story-{i}.html">Story {i}</a></li>' for i in range(self.pages))
            self._send(200, f"<html><head><title>Local News</title></head><body><ul>{links}</ul></body></html>")
        elif self.path.startswith("/news/story-"):
            time.sleep(self.delay)
            title = self.path.rsplit("/", 1)[-1]
            self._send(200, f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
                            f"{ARTICLE}</article></body></html>")
        else:
            self._send(404, "<html><body>not found</body></html>")

    def _send(self, status: int, html: str) -> None:
        body = html.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_site(tmp_path: Path) -> Iterator[Callable[[int, float], str]]:
    servers: list[ThreadingHTTPServer] = []

    def serve(pages: int, delay: float) -> str:
        handler = type("Handler", (LocalNews,), {"pages": pages, "delay": delay})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def write_sites(path: Path, url: str, max_pages: int) -> Path:
    path.write_text(textwrap.dedent(f"""
        [sites.local]
        start_urls = ["{url}"]
        article_pattern = "/news/story-"
        schedule = "1h"
        max_pages = {max_pages}
    """))
    return path


def newsarchive(*args: str, **kw: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "newsarchive", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


@pytest.mark.slow
def test_real_crawls_of_demo_sites_once(tmp_path: Path, demo_sites: Any) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(demo_sites.sites_toml(), encoding="utf-8")
    home = tmp_path / "home"
    url = ArchiveHome.resolve(home).index_url
    args = ("schedule", "--sites", str(sites), "wien24", "kronenpost", "--once", "--max-concurrent", "2",
            "--home", str(home))
    proc = newsarchive(*args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"wien24: ok (exit 0" in out and b"kronenpost: ok (exit 0" in out
    rows = schedule_rows(url)
    assert sorted(r.site for r in rows) == ["kronenpost", "wien24"]
    assert all(r.status == runs.OK and r.trigger == "once" and r.crawl_run_id for r in rows)
    # both outlets are served from 127.0.0.1: one host, so the crawls ran one after the other
    assert rows[0].finished_at is not None and rows[0].finished_at <= rows[1].started_at
    for record in runs.run_history(ArchiveIndex(url)):
        assert record.status == "finished" and record.pages >= 5 and record.new_articles >= 1, record
    assert list(home.glob("warcs/*.warc.gz")) and not list(home.glob("warcs/*.open"))
    for row in rows:
        assert row.log_path == str(home.resolve() / "logs" / f"schedule-{row.site}-{row.id}.log")
        assert f"run {row.crawl_run_id}: finished" in Path(row.log_path).read_text()  # the crawl's output
    again = newsarchive(*args)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0 and out == b""  # nothing due: the next runs are an hour away


@pytest.mark.slow
def test_real_crawl_failure_makes_once_exit_non_zero(tmp_path: Path) -> None:
    sites = write_sites(tmp_path / "sites.toml", "http://127.0.0.1:9/", 5)  # discard port: refused
    proc = newsarchive("schedule", "--sites", str(sites), "--once", "--home", str(tmp_path / "home"))
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, (out, err)
    assert b"local: failed" in out and b"1 of 1 crawls did not succeed: local" in err


@pytest.mark.slow
def test_sigterm_closes_the_real_crawl_and_its_warc(tmp_path: Path, local_site: Callable[[int, float], str]) -> None:
    sites = write_sites(tmp_path / "sites.toml", local_site(40, 0.3), 0)
    home = tmp_path / "home"
    url = ArchiveHome.resolve(home).index_url
    proc = newsarchive("schedule", "--sites", str(sites), "--home", str(home), "--stop-timeout", "60")
    try:
        wait_for(lambda: list(home.glob("warcs/*.open")), what="the crawl to open its WARC file")
        wait_for(lambda: schedule_rows(url) and schedule_rows(url)[0].pid, what="the pid to be recorded")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()[-2000:]
    (row,) = schedule_rows(url)
    assert row.status == runs.STOPPED and row.exit_code is not None and row.crawl_run_id is not None
    index = ArchiveIndex(url)
    with index.sessions() as s:
        crawl = s.get(CrawlRun, row.crawl_run_id)
        assert crawl is not None and crawl.finished_at is not None and crawl.status == "shutdown"
    warcs = list(home.glob("warcs/*.warc.gz"))
    assert warcs and not list(home.glob("warcs/*.open"))  # closed and renamed on spider_closed
    for warc in warcs:
        with gzip.open(warc) as f:
            assert f.read().count(b"WARC/1.1\r\n") >= 2  # every member decompresses to the end
