"""Whole crawls of the demo sites, in a subprocess (the reactor cannot restart), asserted on WARC and index."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture, CrawlRun
from newsarchive.archive.warc import iter_records, read_record
from newsarchive.demo.content import load_stories

pytestmark = pytest.mark.slow  # whole crawls

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=1"]


def newsarchive(*args: str, timeout: float = 240, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsarchive", *args], capture_output=True, text=True,
                          timeout=timeout, **kw)


def crawl(sites_toml: str, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    sites = home / "sites.toml"
    home.mkdir(parents=True, exist_ok=True)
    sites.write_text(sites_toml, encoding="utf-8")
    proc = newsarchive("crawl", "--sites", str(sites), "--home", str(home), *FAST, *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def story_url(server: Any, story: Any) -> str:
    from newsarchive.archive.urls import canonicalize

    return canonicalize(server.article_url(story.outlet, story.slug))


def fetched_paths(server: Any) -> Counter[tuple[str, str]]:
    """(site, path) -> number of GETs the demo server answered."""
    counts: Counter[tuple[str, str]] = Counter()
    for site, log in server.requests.items():
        for entry in log:
            counts[(site, entry[1] if isinstance(entry, tuple) else entry.path)] += 1
    return counts


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, demo_sites: Any) -> tuple[Path, Any]:
    home = tmp_path_factory.mktemp("e2e")
    demo_sites.clear_requests()  # the server is shared by the session: count this crawl's requests only
    crawl(demo_sites.sites_toml(), home)
    return home, demo_sites


def test_warc_files_are_complete_and_valid(crawled: tuple[Path, Any]) -> None:
    home, _ = crawled
    warc_dir = ArchiveHome.resolve(home).warc_dir
    files = sorted(warc_dir.iterdir())
    assert files and all(f.name.endswith(".warc.gz") for f in files), "no .open file left behind"
    for path in files:
        gzip.decompress(path.read_bytes())  # like gzip -t: the whole file is valid
        types = [r.rec_type for r in ArchiveIterator(open(path, "rb"))]
        assert types[0] == "warcinfo" and "response" in types
        check = subprocess.run([str(Path(sys.executable).with_name("warcio")), "check", str(path)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    records = [r for f in files for r in iter_records(f)]
    responses = {s.warc_header("WARC-Record-ID"): s for _, s in records if s.rec_type == "response"}
    requests = [s for _, s in records if s.rec_type == "request"]
    assert {r.warc_header("WARC-Concurrent-To") for r in requests} == set(responses)


def test_every_kind_of_response_is_archived_and_indexed(crawled: tuple[Path, Any]) -> None:
    home, server = crawled
    archive = ArchiveHome.resolve(home)
    index = ArchiveIndex(archive.index_url)
    with index.sessions() as s:
        captures = list(s.scalars(select(Capture)))
    kinds = Counter(c.kind for c in captures)
    statuses = Counter(c.status for c in captures)
    assert kinds["robots"] >= len(server.sites) and kinds["feed"] >= 1 and kinds["sitemap"] >= 2
    assert statuses[200] > 0 and statuses[301] >= 1 and statuses[404] >= 1
    gzipped = 0
    for capture in captures:  # every index row points at its own record
        stored = read_record(archive.warc_dir, capture.warc_ref)
        assert stored.warc_header("WARC-Record-ID") == capture.record_id
        assert stored.warc_header("WARC-Target-URI") == capture.url
        if stored.http_header("Content-Encoding") == "gzip":
            assert stored.payload[:2] == b"\x1f\x8b", "gzip bodies are stored compressed"
            gzipped += 1
    assert gzipped > 0
    assert not any("/intern/" in c.url for c in captures), "robots.txt Disallow obeyed"


def test_articles_of_every_story_are_indexed_with_metadata(crawled: tuple[Path, Any]) -> None:
    home, server = crawled
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    articles = index.articles()
    for story in load_stories():
        found = [a for a in articles if a.url == story_url(server, story)]
        assert found, f"story {story.slug} not archived"
        article = found[0]
        assert article.title and article.language == "de" and article.word_count > 50
        assert story.body_sentences()[0][:40] in article.text
        assert article.metadata_record_id
    assert len(articles) == len(load_stories()), "only article pages are indexed as articles"
    with index.sessions() as s:
        run = s.scalars(select(CrawlRun)).one()
    assert run.status == "finished" and run.articles == len(articles) and run.pages > len(articles)


def test_no_page_fetched_twice_and_show_prints_article(crawled: tuple[Path, Any]) -> None:
    home, server = crawled
    twice = {key: n for key, n in fetched_paths(server).items() if n > 1}
    assert not twice, f"fetched more than once: {twice}"
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    article = index.articles()[0]
    proc = newsarchive("show", article.url, "--home", str(home))
    assert proc.returncode == 0 and article.title in proc.stdout and article.text[:60] in proc.stdout


def test_requests_wait_on_disk_not_in_memory(crawled: tuple[Path, Any]) -> None:
    """Every request of the crawl queued in a JOBDIR of its own (spiders.base.disk_queue), and it is gone."""
    home, _server = crawled
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        stats = s.scalars(select(CrawlRun)).one().stats
    assert stats["scheduler/enqueued/disk"] == stats["scheduler/enqueued"] > 0
    assert "scheduler/enqueued/memory" not in stats


def test_second_crawl_is_incremental_with_revisits_and_versions(tmp_path: Path, fresh_demo_sites: Any) -> None:
    server = fresh_demo_sites
    toml = server.sites_toml()
    crawl(toml, tmp_path)
    story = load_stories()[4]
    outlet = story.outlet
    changed = [*story.paragraph_texts()[:-1], "Korrektur: Der Kreml hat den Termin inzwischen bestätigt."]
    server.update_story(outlet, story.slug, changed)
    before = fetched_paths(server)
    crawl(toml.replace("[defaults]\n", '[defaults]\nrecrawl = "always"\n', 1), tmp_path)
    index = ArchiveIndex(ArchiveHome.resolve(tmp_path).index_url)
    with index.sessions() as s:
        revisits = list(s.scalars(select(Capture).where(Capture.record_type == "revisit")))
    assert any(c.status == 304 for c in revisits), "conditional GET answered 304 -> server-not-modified revisit"
    url = story_url(server, story)
    versions = index.article_versions(url)
    assert len(versions) == 2 and "Korrektur" in versions[1].text
    proc = newsarchive("diff", url, "--home", str(tmp_path))
    assert proc.returncode == 0 and "+Korrektur: Der Kreml hat den Termin inzwischen bestätigt." in proc.stdout
    after = fetched_paths(server)
    assert sum(after.values()) > sum(before.values())


def test_never_policy_does_not_refetch_archived_articles(tmp_path: Path, fresh_demo_sites: Any) -> None:
    toml = fresh_demo_sites.sites_toml()
    crawl(toml, tmp_path)
    first = fetched_paths(fresh_demo_sites)
    crawl(toml, tmp_path)
    second = fetched_paths(fresh_demo_sites)
    articles = ArchiveIndex(ArchiveHome.resolve(tmp_path).index_url).articles()
    for article in articles:
        path = article.url.split("/", 3)[3]
        refetched = [k for k in second if k[1].lstrip("/") == path and second[k] > first.get(k, 0)]
        assert not refetched, f"{article.url} refetched"


def test_killed_crawl_resumes_and_leaves_readable_warcs(tmp_path: Path, fresh_demo_sites: Any) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(fresh_demo_sites.sites_toml(), encoding="utf-8")
    cmd = [sys.executable, "-m", "newsarchive", "crawl", "--sites", str(sites), "--home", str(tmp_path),
           "-s", "DOWNLOAD_DELAY=0.3", "-s", "AUTOTHROTTLE_ENABLED=False"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    warc_dir = ArchiveHome.resolve(tmp_path).warc_dir
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _articles(tmp_path):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(warc_dir.glob("*.open")), "the killed crawl left its WARC open"
    archived_before = {a.url for a in _articles(tmp_path)}
    assert archived_before
    fetched_before = fetched_paths(fresh_demo_sites)
    crawl(sites.read_text(), tmp_path)
    assert not list(warc_dir.glob("*.open"))
    for path in warc_dir.iterdir():
        assert list(iter_records(path)), f"{path} unreadable"
    fetched_after = fetched_paths(fresh_demo_sites)
    for url in archived_before:
        key = next(k for k in fetched_after if url.endswith(k[1]) and k[1] != "/")
        assert fetched_after[key] == fetched_before[key], f"{url} was fetched again after the restart"
    archived = {a.url for a in _articles(tmp_path)}
    assert all(story_url(fresh_demo_sites, s) in archived for s in load_stories())


def _articles(home: Path) -> list[Article]:
    try:
        return ArchiveIndex(ArchiveHome.resolve(home).index_url).articles()
    except Exception:
        return []



def test_crawl_into_postgresql(tmp_path: Path, demo_sites: Any) -> None:
    from tests.pg import pg_unavailable_reason, temp_pg_database

    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with temp_pg_database() as url:
        sites = tmp_path / "sites.toml"
        sites.write_text(demo_sites.sites_toml(), encoding="utf-8")
        proc = newsarchive("crawl", "--sites", str(sites), "--home", str(tmp_path), "--index-url", url, *FAST)
        assert proc.returncode == 0, proc.stderr
        index = ArchiveIndex(url)
        articles = index.articles()
        assert {story_url(demo_sites, s) for s in load_stories()} <= {a.url for a in articles}
        assert all(a.published is not None and a.published.tzinfo is not None for a in articles)
        with index.sessions() as s:
            captures = list(s.scalars(select(Capture)))
        warc_dir = ArchiveHome.resolve(tmp_path).warc_dir
        assert all(read_record(warc_dir, c.warc_ref).warc_header("WARC-Record-ID") == c.record_id for c in captures)
        index.close()


def test_site_templates_are_learned_and_applied_on_later_pages(tmp_path: Path, demo_server_factory: Any) -> None:
    from newsarchive.archive.urls import canonicalize
    from newsarchive.extract.learning import load

    server = demo_server_factory(stories_per_outlet="all", outlets=["siamkurier"])
    toml = server.sites_toml()
    crawl(toml, tmp_path)
    index = ArchiveIndex(ArchiveHome.resolve(tmp_path).index_url)
    model = load(index, "siamkurier")
    assert model.pages >= 5
    listed = newsarchive("templates", "--home", str(tmp_path))
    assert listed.returncode == 0 and f"siamkurier: {len(model.entries)} template lines from {model.pages} pages" \
        in listed.stdout
    story = server.stories("siamkurier")[0]
    server.update_story("siamkurier", story.slug, [*story.paragraph_texts(), "Nachtrag: Das Treffen dauerte zwei Stunden."])
    crawl(toml.replace("[defaults]\n", '[defaults]\nrecrawl = "always"\n', 1), tmp_path)
    versions = index.article_versions(canonicalize(server.article_url("siamkurier", story.slug)))
    assert len(versions) == 2 and "Nachtrag" in versions[-1].text
    template_lines = {entry.text for entry in load(index, "siamkurier").entries}
    assert not template_lines & set(versions[-1].text.splitlines())


def test_reindex_of_a_real_crawl_restores_captures_and_articles(crawled: tuple[Path, Any], tmp_path: Path) -> None:
    home, _ = crawled
    rebuilt_url = f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"
    proc = newsarchive("reindex", "--home", str(home), "--index-url", rebuilt_url)
    assert proc.returncode == 0, proc.stderr

    def rows(url: str) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
        index = ArchiveIndex(url)
        with index.sessions() as s:
            captures = {(c.record_id, c.url, c.status, c.kind, c.record_type, c.warc_file, c.warc_offset)
                        for c in s.scalars(select(Capture))}
            articles = {(a.url, a.site, a.title, a.status, a.text_hash) for a in s.scalars(select(Article))}
        index.close()
        return captures, articles

    assert rows(rebuilt_url) == rows(ArchiveHome.resolve(home).index_url)


def test_the_crawl_groups_the_wire_story_of_two_outlets(crawled: tuple[Path, Any]) -> None:
    from newsarchive.archive.dedup import story_of

    home, server = crawled
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    by_url = {a.url: a for a in index.articles()}
    stories = {s.id: story_of(index, by_url[story_url(server, s)].id).story_id for s in load_stories()}
    assert stories["000"] == stories["004"], "the APA/dpa copies at two outlets are one story"
    assert len({stories[i] for i in ("000", "001", "002", "003")}) == 4, "other articles stay apart"
