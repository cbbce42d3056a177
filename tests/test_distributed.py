"""Several worker processes on one crawl: Redis queue and duplicate filter, PostgreSQL index, own WARCs.

Needs the local Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432); skipped with the reason when
either is absent. Each test uses its own Redis key prefix and crawl name and removes what it left.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import statistics
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
            "-s", "NEWSARCHIVE_PROGRESS_ENABLED=False", "-s", "NEWSARCHIVE_REDIS_HEARTBEAT_TTL=2"]


def _archive_state(index_url: str, warc_dir: Path) -> dict[str, Any]:
    """Captured URLs, WARC file per capture (every record read back), article URLs, runs' stats."""
    from sqlalchemy import select

    from newsarchive.archive.index import ArchiveIndex, Article, Capture, CrawlRun
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
def test_crawl_with_three_workers_fetches_each_page_once(tmp_path: Path, redis_prefix: str, pg_url: str) -> None:
    """`newsarchive crawl --workers 3`: every page fetched once in all, archived and indexed; one shared delay."""
    site = LocalSite(make_site(300)).start()
    delay = 0.02
    try:
        cmd = [sys.executable, "-m", "newsarchive", "crawl", site.url, "--workers", "3", "--redis-url", REDIS_URL,
               "--home", str(tmp_path), "--index-url", pg_url, *_crawl_settings(delay)]
        done = subprocess.run(cmd, env=_env(redis_prefix), capture_output=True, text=True, timeout=120)
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
    from newsarchive.crawler.distributed import local_worker_ids

    files = set(state["files"].values())
    for worker in local_worker_ids(3):  # every worker fetched, each into WARC files of its own
        assert any(name.endswith(f"-{worker}.warc.gz") for name in files), (worker, files)
    assert "3 workers" in done.stdout and "300 articles indexed" in done.stdout, done.stdout
    _assert_polite(site, delay)


def _assert_polite(site: LocalSite, delay: float) -> None:
    """Fetches from all workers together keep the shared per-host delay.

    A worker takes the host's turn in Redis right before it sends; on a busy machine the request can reach
    the server some milliseconds later, so single gaps jitter. Counted over windows of ten delays, the
    workers together stay near ten fetches (without the shared delay, three workers make about thirty).
    """
    times = sorted(t for t, path in site.log if path != "/robots.txt")
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert statistics.median(gaps) >= 0.9 * delay, statistics.median(gaps)
    window = 10 * delay
    busiest = max(sum(1 for t in times[i:i + 40] if t < start + window) for i, start in enumerate(times))
    assert busiest <= 14, busiest
    assert times[-1] - times[0] >= 0.95 * delay * (len(times) - 1)


def _inflight(client: Any, prefix: str, crawl: str, worker: str) -> list[str]:
    """URLs of the requests a worker holds in flight (from its Redis hash)."""
    urls = []
    for value in client.hvals(f"{prefix}:crawl:{crawl}:inflight:{worker}"):
        urls.append(pickle.loads(value.split(b"\n", 1)[1])["url"])
    return urls


def test_killed_worker_share_is_finished_by_the_others(tmp_path: Path, redis_prefix: str, pg_url: str) -> None:
    """SIGKILL one of three workers mid-crawl: its in-flight requests are requeued and fetched by the others."""
    import redis

    from newsarchive.archive.warc import recover_open_files

    client = redis.Redis.from_url(REDIS_URL)
    site = LocalSite(make_site(300), latency=0.03).start()
    crawl, workers = "killtest", ["node-a", "node-b", "node-c"]
    procs = {}
    from newsarchive.archive.index import ArchiveIndex
    ArchiveIndex(pg_url).close()  # TEMP
    try:
        for w in workers:
            cmd = [sys.executable, "-m", "newsarchive", "worker", site.url, "--redis-url", REDIS_URL, "--crawl", crawl,
                   "--worker-id", w, "--home", str(tmp_path), "--index-url", pg_url,
                   "--result-json", str(tmp_path / f"{w}.json"), *_crawl_settings(0.005)]
            procs[w] = subprocess.Popen(cmd, env=_env(redis_prefix), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        victim = "node-b"
        lost = _kill_when_busy(client, redis_prefix, crawl, victim, procs[victim], site)
        outputs = {w: p.communicate(timeout=120) for w, p in procs.items() if w != victim}
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
    assert twice <= lost_paths, twice - lost_paths  # only the killed worker's in-flight requests ran twice
    assert max(fetches.values()) <= 2
    recover_open_files(tmp_path / "warcs", host=victim)  # what a restart of node-b does first
    state = _archive_state(pg_url, tmp_path / "warcs")
    assert _site_urls(site) <= set(state["captured"])
    assert state["articles"] == {u for u in _site_urls(site) if u.endswith(".html")}
    for url in lost:  # the lost requests were archived by a surviving worker
        assert not state["files"][url].endswith(f"-{victim}.warc.gz"), url
    assert not list(client.scan_iter(match=f"{redis_prefix}:crawl:{crawl}:*"))  # the last worker out cleaned up


def _kill_when_busy(client: Any, prefix: str, crawl: str, victim: str, proc: subprocess.Popen[str],
                    site: LocalSite) -> list[str]:
    """SIGKILL ``victim`` once the crawl is well under way and it holds requests; return what it held."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{victim} ended early: {proc.communicate()[1][-3000:]}")
        if len(site.log) > 60 and _inflight(client, prefix, crawl, victim):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return _inflight(client, prefix, crawl, victim)
        time.sleep(0.01)
    raise AssertionError(f"{victim} never held requests in flight (site log: {len(site.log)} requests)")
