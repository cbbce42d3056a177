"""Bad input never stops a crawl: loops, stalls, wrong charsets, huge, malformed and binary pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, CrawlRun, FetchFailure
from newsarchive.archive.urls import canonicalize


@pytest.mark.slow
def test_hostile_pages_are_logged_counted_skips(tmp_path: Path, demo_server_factory: Any) -> None:
    server = demo_server_factory(hostile=True, outlets=["nx24"], stall_seconds=20, huge_bytes=3_000_000)
    urls = server.urls("nx24")
    sites = tmp_path / "sites.toml"
    hostile = ", ".join(f'"{u}"' for u in urls.hostile.values())
    sites.write_text(f'[sites.nx24]\nstart_urls = ["{urls.home}", {hostile}]\nrecrawl = "always"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", "crawl", "--sites", str(sites), "--home", str(tmp_path),
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=3",
         "-s", "RETRY_TIMES=0", "-s", "DOWNLOAD_MAXSIZE=1000000", "-s", "REDIRECT_MAX_TIMES=4"],
        capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    index = ArchiveIndex(ArchiveHome.resolve(tmp_path).index_url)
    with index.sessions() as s:
        failures = {f.url: f.reason for f in s.scalars(select(FetchFailure))}
        run = s.scalars(select(CrawlRun)).one()
        articles = {a.url: a for a in s.scalars(select(Article))}
    stats = run.stats
    assert any("Timeout" in r or "timeout" in r.lower() for r in failures.values()), failures
    assert stats.get("newsarchive/errors", 0) >= 1 and run.errors == stats["newsarchive/errors"]
    # the huge page is not lost: what arrived up to DOWNLOAD_MAXSIZE is archived, marked WARC-Truncated: length
    huge = [c for c in index.captures_of(canonicalize(urls.hostile["huge"])) if c.status == 200]
    assert huge and huge[0].truncated == "length" and (huge[0].content_length or 0) > 1_000_000
    assert stats.get("newsarchive/truncated/length") == 1
    loop = [c for c in index.captures_of(canonicalize(urls.hostile["loop"])) if 300 <= c.status < 400]
    assert loop, "every redirect hop of the loop is archived"
    binary = articles.get(canonicalize(urls.hostile["binary"]))
    assert binary is None or binary.status == "failed"
    # the ordinary article of the site still made it
    story = server.stories("nx24")[0]
    assert canonicalize(server.article_url("nx24", story.slug)) in articles
    assert json.dumps(stats)  # stats are stored as JSON
