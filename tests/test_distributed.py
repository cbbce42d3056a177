"""Several worker processes on one crawl: Redis queue and duplicate filter, PostgreSQL index, own WARCs.

Needs the local Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432); skipped with the reason when
either is absent. Each test uses its own Redis key prefix and crawl name and removes what it left.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.pg import pg_unavailable_reason, temp_pg_database

REDIS_URL = os.environ.get("NEWSARCHIVE_TEST_REDIS", "redis://127.0.0.1:6379/0")
PER_SECTION = 25
WORDS = ("Der Stadtrat hat am Abend nach langer Debatte über den neuen Haushalt abgestimmt und dabei "
         "mehrere Änderungen an den Plänen für Schulen, Straßen und den öffentlichen Nahverkehr beschlossen").split()


def redis_unavailable_reason() -> str | None:
    try:
        import redis
    except ImportError:
        return "the redis package is not installed"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


def _skip_reason() -> str | None:
    return redis_unavailable_reason() or pg_unavailable_reason()


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


# -- a local news site with a request log ------------------------------------------------------------------
def _html(title: str, body: str, links: list[str]) -> bytes:
    items = "".join(f'<li><a href="{href}">{href.rsplit("/", 1)[-1] or href}</a></li>' for href in links)
    return (f"<!doctype html><html lang=de><head><meta charset=utf-8><title>{title}</title></head><body>"
            f"<header><a href='/'>Lokalbote</a></header><main><article><h1>{title}</h1>{body}</article>"
            f"<ul>{items}</ul></main><footer>Impressum</footer></body></html>").encode()


def _article_body(i: int) -> str:
    paras = []
    for p in range(4):
        words = [WORDS[(i * 7 + p * 3 + k) % len(WORDS)] for k in range(40)]
        paras.append(f"<p>Meldung {i}, Absatz {p}: {' '.join(words)}.</p>")
    return "".join(paras)


def make_site(articles: int) -> dict[str, bytes]:
    """Home → sections → articles; every section also lists five articles of the next one (duplicates)."""
    sections = (articles + PER_SECTION - 1) // PER_SECTION
    paths = [f"/ressort-{i // PER_SECTION}/2024/05/meldung-{i:05d}-aus-dem-stadtrat.html" for i in range(articles)]
    site = {"/robots.txt": b"User-agent: *\nAllow: /\n",
            "/": _html("Lokalbote", "<p>Start</p>", [f"/ressort-{s}/" for s in range(sections)])}
    for s in range(sections):
        own = paths[s * PER_SECTION:(s + 1) * PER_SECTION]
        extra = paths[(s + 1) * PER_SECTION:(s + 1) * PER_SECTION + 5]
        site[f"/ressort-{s}/"] = _html(f"Ressort {s}", "", own + extra)
    for i, path in enumerate(paths):
        site[path] = _html(f"Meldung {i} aus dem Stadtrat", _article_body(i), [])
    return site


@dataclass
class LocalSite:
    pages: dict[str, bytes]
    latency: float = 0.0
    log: list[tuple[float, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def start(self) -> LocalSite:
        site = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                with lock:
                    site.log.append((time.monotonic(), self.path))
                body = site.pages.get(self.path)
                if site.latency:
                    time.sleep(site.latency)
                self.send_response(200 if body is not None else 404)
                ctype = "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def fetches(self) -> Counter[str]:
        return Counter(path for _, path in self.log if path != "/robots.txt")

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    prefix = f"newsarchive-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temp_pg_database() as url:
        yield url


def _env(prefix: str) -> dict[str, str]:
    return {**os.environ, "NEWSARCHIVE_REDIS_PREFIX": prefix, "PYTHONUNBUFFERED": "1"}


def _crawl_settings(delay: float) -> list[str]:
    return ["-s", f"DOWNLOAD_DELAY={delay}", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY_JITTER=0",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=0",
            "-s", "NEWSARCHIVE_PROGRESS_ENABLED=False", "-s", "NEWSARCHIVE_REDIS_HEARTBEAT_TTL=5",
            "-s", "NEWSARCHIVE_REQUISITES_ENABLED=False"]  # the site's pages only (no /favicon.ico)


def _archive_state(index_url: str, warc_dir: Path) -> dict[str, Any]:
    """Captured URLs, WARC file per capture (every record read back), article URLs, runs' stats."""
    from sqlalchemy import select

    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.models import Article, Capture, CrawlRun
    from newsarchive.archive.warc import read_record

    index = ArchiveIndex(index_url)
    with index.sessions() as s:
        captures = list(s.scalars(select(Capture)))
        articles = list(s.scalars(select(Article).where(Article.status == "ok")))
        runs = list(s.scalars(select(CrawlRun)))
    for capture in captures:
        record = read_record(warc_dir, capture.warc_ref)
        assert record.warc_header("WARC-Target-URI") == capture.url
    index.close()
    return {"captured": Counter(c.url for c in captures), "files": {c.url: c.warc_file for c in captures},
            "articles": {a.url for a in articles}, "runs": runs}


def _site_urls(site: LocalSite) -> set[str]:
    return {site.url.rstrip("/") + path for path in site.pages if path != "/robots.txt"}


# -- tests ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_crawl_with_three_workers_fetches_each_page_once(tmp_path: Path, redis_prefix: str, pg_url: str) -> None:
    """`newsarchive crawl --workers 3`: every page fetched once in all, archived and indexed; one shared delay."""
    site = LocalSite(make_site(300)).start()
    delay = 0.02
    try:
        cmd = [sys.executable, "-m", "newsarchive", "crawl", site.url, "--workers", "3", "--redis-url", REDIS_URL,
               "--home", str(tmp_path), "--index-url", pg_url, *_crawl_settings(delay)]
        done = subprocess.run(cmd, env=_env(redis_prefix), capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        site.close()
    fetches = site.fetches()
    assert set(fetches) == {p for p in site.pages if p != "/robots.txt"}
    assert max(fetches.values()) == 1, [p for p, n in fetches.items() if n > 1][:5]
    state = _archive_state(pg_url, tmp_path / "warcs")
    assert _site_urls(site) <= set(state["captured"])
    article_urls = {u for u in _site_urls(site) if u.endswith(".html")}
    assert state["articles"] == article_urls
    from newsarchive.service.workers import local_worker_ids

    files = set(state["files"].values())
    for worker in local_worker_ids(3):  # every worker fetched, each into WARC files of its own
        assert any(name.endswith(f"-{worker}.warc.gz") for name in files), (worker, files)
    assert "3 workers" in done.stdout and "300 articles indexed" in done.stdout, done.stdout
    _assert_polite(site, delay)


def _assert_polite(site: LocalSite, delay: float) -> None:
    """Fetches from all workers together keep the shared per-host delay.

    A worker takes the host's turn in Redis right before it sends; on a busy machine the request can reach
    the server (and be logged) much later, and requests held up together arrive in a burst, so gaps and
    short windows at the server say little. What load cannot fake is the whole crawl's span: one turn per
    delay for all workers together takes at least ``delay`` per fetch (three workers ignoring each other's
    turns would take a third of that).
    """
    times = sorted(t for t, path in site.log if path != "/robots.txt")
    assert times[-1] - times[0] >= 0.95 * delay * (len(times) - 1), (times[-1] - times[0], len(times))


def _inflight(client: Any, prefix: str, crawl: str, worker: str) -> list[str]:
    """URLs of the requests a worker holds in flight (from its Redis hash)."""
    urls = []
    for value in client.hvals(f"{prefix}:crawl:{crawl}:inflight:{worker}"):
        urls.append(pickle.loads(value.split(b"\n", 1)[1])["url"])
    return urls


@pytest.mark.slow
def test_killed_worker_share_is_finished_by_the_others(tmp_path: Path, redis_prefix: str, pg_url: str) -> None:
    """SIGKILL one of three workers mid-crawl: its in-flight requests are requeued and fetched by the others."""
    import redis

    from newsarchive.archive.warc import recover_open_files

    client = redis.Redis.from_url(REDIS_URL)
    site = LocalSite(make_site(300), latency=0.03).start()
    crawl, workers = "killtest", ["node-a", "node-b", "node-c"]
    procs = {}  # started together on an empty database: the schema is migrated once, under a lock
    try:
        for w in workers:
            cmd = [sys.executable, "-m", "newsarchive", "worker", site.url, "--redis-url", REDIS_URL, "--crawl", crawl,
                   "--worker-id", w, "--home", str(tmp_path), "--index-url", pg_url,
                   "--result-json", str(tmp_path / f"{w}.json"), *_crawl_settings(0.005)]
            procs[w] = subprocess.Popen(cmd, env=_env(redis_prefix), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        victim = "node-b"
        lost = _kill_when_busy(client, redis_prefix, crawl, victim, procs[victim], site)
        outputs = {w: p.communicate(timeout=900) for w, p in procs.items() if w != victim}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        site.close()
    for w, (_, err) in outputs.items():
        assert procs[w].returncode == 0, err[-3000:]
    assert lost, "the killed worker had nothing in flight"
    recovered = sum(json.loads((tmp_path / f"{w}.json").read_text())["recovered"] for w in outputs)
    assert recovered >= len(lost)
    fetches = site.fetches()
    assert set(fetches) == {p for p in site.pages if p != "/robots.txt"}
    twice = {p for p, n in fetches.items() if n > 1}
    lost_paths = {urlsplit(u).path for u in lost}
    gone = [line for _, err in outputs.values() for line in err.splitlines() if " is gone: " in line]
    assert twice <= lost_paths, (twice - lost_paths, gone)  # only the killed worker's in-flight requests ran twice
    assert max(fetches.values()) <= 2
    recover_open_files(tmp_path / "warcs", host=victim)  # what a restart of node-b does first
    state = _archive_state(pg_url, tmp_path / "warcs")
    assert _site_urls(site) <= set(state["captured"])
    assert state["articles"] == {u for u in _site_urls(site) if u.endswith(".html")}
    for url in lost:  # the lost requests were archived by a surviving worker
        assert not state["files"][url].endswith(f"-{victim}.warc.gz"), url
    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.runs import CRAWL_INTERRUPTED, mark_interrupted, run_history

    (left,) = [r.id for r in state["runs"] if r.status == "running"]  # the killed worker's run
    assert mark_interrupted(ArchiveIndex(pg_url)) == [left]  # what the next crawl or scheduler here does
    assert {r.crawl_run_id: r.status for r in run_history(ArchiveIndex(pg_url))}[left] == CRAWL_INTERRUPTED
    assert not list(client.scan_iter(match=f"{redis_prefix}:crawl:{crawl}:*"))  # the last worker out cleaned up


def _kill_when_busy(client: Any, prefix: str, crawl: str, victim: str, proc: subprocess.Popen[str],
                    site: LocalSite) -> list[str]:
    """SIGKILL ``victim`` once the crawl is well under way and it holds requests; return what it held."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{victim} ended early: {proc.communicate()[1][-3000:]}")
        if len(site.log) > 60 and _inflight(client, prefix, crawl, victim):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return _inflight(client, prefix, crawl, victim)
        time.sleep(0.01)
    raise AssertionError(f"{victim} never held requests in flight (site log: {len(site.log)} requests)")


# -- the shared state, piece by piece (Redis only) ----------------------------------------------------------
def _state(prefix: str, worker: str, crawl: str = "unit", ttl: float = 1.0) -> Any:
    from scrapy.utils.test import get_crawler

    from newsarchive.crawler.frontier import DistributedOptions, RedisCrawlState, distributed_settings

    settings = distributed_settings(DistributedOptions(REDIS_URL, crawl=crawl, worker_id=worker, prefix=prefix,
                                                       heartbeat_ttl=ttl))
    return RedisCrawlState.of(get_crawler(settings_dict=settings))


def test_pop_moves_a_request_in_flight_and_a_dead_workers_share_is_requeued(redis_prefix: str) -> None:
    a, b = _state(redis_prefix, "node-a"), _state(redis_prefix, "node-b")
    a.register()
    b.register()
    a.client.zadd(a.queue_key, {b"req-1": -5, b"req-2": 0})
    assert a.pop("t1") == b"req-1"  # highest priority first (lowest score)
    assert a.client.zcard(a.queue_key) == 1 and a.client.hlen(a.inflight_key) == 1
    assert a.status().inflight == 1 and not a.status().done
    assert b.recover_dead() == 0  # node-a is alive: nothing to take
    a.client.delete(a.key("alive:node-a"))  # node-a's heartbeat lapses (SIGKILL)
    assert b.recover_dead() == 1
    assert a.client.zscore(a.queue_key, b"req-1") == -5  # back in the queue, with its priority
    assert a.client.hlen(a.inflight_key) == 0
    assert b"node-a" not in a.client.smembers(a.key("workers"))
    assert b.pop("t2") == b"req-1"
    b.ack(["t2"])
    assert b.status().inflight == 0


def test_a_running_worker_id_is_refused(redis_prefix: str) -> None:
    from newsarchive.crawler.frontier import DistributedConfigError

    first, second = _state(redis_prefix, "node-a"), _state(redis_prefix, "node-a")
    first.register()
    with pytest.raises(DistributedConfigError, match="in use"):
        second.register(wait=0.3)
    first.client.delete(first.key("alive:node-a"))
    second.register(wait=0.3)  # the first one died: the id is free again


def test_one_leader_seeds_and_a_dead_leader_is_replaced(redis_prefix: str) -> None:
    a, b = _state(redis_prefix, "node-a"), _state(redis_prefix, "node-b")
    a.register()
    b.register()
    assert a.try_lead() and a.try_lead()
    assert not b.try_lead()
    a.client.delete(a.key("alive:node-a"))
    assert b.try_lead()
    b.mark_seeded()
    assert b.seeded() and b.status().done


def test_host_turns_are_spaced_by_the_delay(redis_prefix: str) -> None:
    a, b = _state(redis_prefix, "node-a"), _state(redis_prefix, "node-b")
    began = time.monotonic()
    assert a.host_turn("example.org", 30) == 0
    wait = b.host_turn("example.org", 30)
    assert 30 - (time.monotonic() - began) - 0.01 <= wait <= 30  # the rest of a's turn, however slow we were
    assert a.host_turn("other.example", 30) == 0  # per host
    began = time.monotonic()
    assert a.host_turn("short.example", 0.3) == 0
    while (wait := b.host_turn("short.example", 0.3)) > 0:  # free again once its turn has passed ...
        assert time.monotonic() - began < 60
        time.sleep(wait)
    assert time.monotonic() - began >= 0.3 - 0.01  # ... and not before


def test_last_worker_out_of_a_finished_crawl_removes_its_keys(redis_prefix: str) -> None:
    a, b = _state(redis_prefix, "node-a"), _state(redis_prefix, "node-b")
    a.register()
    b.register()
    a.client.sadd(a.key("dupefilter"), "fp")
    a.mark_seeded()
    assert not a.leave()
    assert a.client.exists(a.key("dupefilter"))
    b.client.zadd(b.queue_key, {b"left-over": 0})
    assert not b.leave()  # work left: keep it, the crawl can resume
    assert b.client.exists(b.key("dupefilter"))
    b.register()
    b.client.delete(b.queue_key)
    assert b.leave()
    assert not list(b.client.scan_iter(match=f"{redis_prefix}:crawl:unit:*"))


def test_worker_ids_and_settings() -> None:
    from newsarchive.crawler.frontier import DistributedConfigError, DistributedOptions, check_worker_id
    from newsarchive.service.workers import worker_settings

    assert check_worker_id("node-1.eu") == "node-1.eu"
    for bad in ("", "-x", "a b", "a_b", "a--b"):
        with pytest.raises(DistributedConfigError):
            check_worker_id(bad)
    settings = worker_settings(DistributedOptions(REDIS_URL, crawl="c1", worker_id="w1", prefix="p"),
                               {"DOWNLOAD_DELAY": 2})
    assert settings["SCHEDULER"] == "newsarchive.crawler.frontier.RedisScheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["SCHEDULER_QUEUE_KEY"] == "p:crawl:c1:requests"
    assert settings["NEWSARCHIVE_WORKER_ID"] == "w1" and settings["DOWNLOAD_DELAY"] == 2
    assert settings["SPIDER_MIDDLEWARES"]["newsarchive.crawler.frontier.LeaderStartMiddleware"] == 10
    assert settings["DOWNLOAD_HANDLERS"]["https"] == "newsarchive.crawler.frontier.PoliteHTTPDownloadHandler"


def test_worker_without_redis_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    result = CliRunner().invoke(cli, ["worker", "http://127.0.0.1:9/", "--redis-url", "redis://127.0.0.1:1/0",
                                      "--home", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: cannot reach Redis at redis://127.0.0.1:1/0")


@pytest.mark.slow
def test_heartbeat_thread_keeps_a_busy_worker_alive_but_not_a_hung_one(redis_prefix: str) -> None:
    """The heartbeat does not depend on the reactor: a worker busy for longer than its TTL is not taken for dead."""
    from newsarchive.crawler.frontier import Heartbeat

    a, b = _state(redis_prefix, "node-a", ttl=2.0), _state(redis_prefix, "node-b", ttl=2.0)
    a.register()
    b.register()
    a.client.zadd(a.queue_key, {b"req-1": 0})
    assert a.pop("t1") == b"req-1"
    heart = Heartbeat(a, stall=8.0)
    heart.start()
    try:
        began = time.monotonic()
        while time.monotonic() - began < 3:  # the "reactor" is busy and never ticks, for 1.5 TTLs
            assert b.recover_dead() == 0
            time.sleep(0.1)
        deadline = time.monotonic() + 60  # silent past the stall limit: a hung worker loses its lease
        while b.recover_dead() == 0:
            assert time.monotonic() < deadline, "a hung worker's heartbeat never stopped"
            time.sleep(0.1)
        assert b.client.zscore(b.queue_key, b"req-1") is not None
    finally:
        heart.stop()


def test_a_worker_taken_for_dead_rejoins(redis_prefix: str) -> None:
    a, b = _state(redis_prefix, "node-a"), _state(redis_prefix, "node-b")
    a.register()
    b.register()
    assert a.heartbeat() is True
    a.client.delete(a.key("alive:node-a"))
    assert b.recover_dead() == 0 and b"node-a" not in a.client.smembers(a.key("workers"))
    assert a.heartbeat() is False  # it notices
    assert b"node-a" in a.client.smembers(a.key("workers"))  # and is counted again (its in-flight hash too)
