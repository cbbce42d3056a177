"""Distributed crawl workers: this process as one worker of a crawl shared through Redis, or N local ones.

The Scrapy side (the Redis scheduler, leader-seeded start requests, per-host turns across workers) is
:mod:`newsarchive.crawler.frontier`; this module runs crawl processes with those settings and sums up
what they did. ``newsarchive worker`` and ``newsarchive crawl --workers N`` are thin wrappers over
:func:`run_worker` and :func:`crawl_with_local_workers`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from newsarchive.crawler.frontier import (
    DistributedOptions,
    connect,
    default_worker_id,
    distributed_settings,
    max_rss_bytes,
)

MERGED_DICTS = ("DOWNLOAD_HANDLERS", "SPIDER_MIDDLEWARES", "DOWNLOADER_MIDDLEWARES", "EXTENSIONS")


def project_settings() -> Any:
    """newsarchive.settings with environment overrides (NEWSARCHIVE_REDIS_PREFIX, ...)."""
    from scrapy.settings import Settings

    project = Settings()
    project.setmodule("newsarchive.settings", priority="project")
    return project


def worker_settings(options: DistributedOptions, overrides: dict[str, Any]) -> dict[str, Any]:
    """:func:`distributed_settings` merged over the project's component dicts, then the user's overrides."""
    project = project_settings()
    merged = dict(distributed_settings(options))
    for name in MERGED_DICTS:
        if name in merged:
            merged[name] = {**project.getdict(name), **merged[name]}
    return {**merged, **overrides}


def run_worker(sites: list[Any], home: Any, *, spider: str, log_level: str, overrides: dict[str, Any],
               redis_url: str, crawl: str, worker_id: str | None, result_json: str | None = None) -> dict[str, Any]:
    """Run this process as one worker of ``crawl`` until the crawl is done; returns (and writes) a summary."""
    import json
    from pathlib import Path

    from newsarchive.service.crawl import CrawlOptions, run_crawl

    connect(redis_url)  # one clear line before the reactor starts
    project = project_settings()
    options = DistributedOptions(
        redis_url, crawl=crawl, worker_id=worker_id or "",
        prefix=str(overrides.get("NEWSARCHIVE_REDIS_PREFIX") or project.get("NEWSARCHIVE_REDIS_PREFIX")),
        heartbeat_ttl=float(overrides.get("NEWSARCHIVE_REDIS_HEARTBEAT_TTL")
                            or project.getfloat("NEWSARCHIVE_REDIS_HEARTBEAT_TTL")))
    settings = worker_settings(options, overrides)
    started = time.monotonic()
    result = run_crawl(sites, home, CrawlOptions(spider=spider, log_level=log_level, settings=settings))
    summary = {"worker": settings["NEWSARCHIVE_WORKER_ID"], "run_id": result.run_id, "reason": result.reason,
               "pages": result.pages, "articles": result.articles, "failures": len(result.failures),
               "seconds": time.monotonic() - started,
               "max_rss": int(result.stats.get("newsarchive/worker/max_rss", max_rss_bytes())),
               "recovered": int(result.stats.get("newsarchive/distributed/recovered", 0)),
               "leader": bool(result.stats.get("newsarchive/distributed/leader"))}
    if result_json:
        Path(result_json).write_text(json.dumps(summary), encoding="utf-8")
    return summary


def local_worker_ids(count: int) -> list[str]:
    return [f"{default_worker_id()}-w{i}" for i in range(1, count + 1)]


def crawl_with_local_workers(worker_argv: list[str], home: Any, *, workers: int, redis_url: str) -> bool:
    """``newsarchive crawl --workers N``: N worker processes on a fresh crawl; prints a summary. True if any page."""
    import click

    from newsarchive.service.crawl import run_local_workers

    connect(redis_url)
    crawl = f"local-{uuid.uuid4().hex[:12]}"
    click.echo(f"crawl {crawl}: {workers} workers, queue in {redis_url}, index {home.index_url.split('@')[-1]}",
               err=True)
    prefix = str(project_settings().get("NEWSARCHIVE_REDIS_PREFIX"))
    exits = run_local_workers(worker_argv, local_worker_ids(workers), home, redis_url=redis_url, crawl=crawl,
                              prefix=prefix)
    for done in exits:
        r = done.result
        click.echo(f"worker {done.worker}: exit {done.exit_code}, {done.pages} pages, {done.articles} articles, "
                   f"run {r.get('run_id')}, peak RSS {int(r.get('max_rss', 0)) / 2**20:.0f} MiB")
    pages, articles = sum(d.pages for d in exits), sum(d.articles for d in exits)
    click.echo(f"{pages} pages archived, {articles} articles indexed by {workers} workers")
    click.echo(f"archive: {home.root}  index: {home.index_url.split('@')[-1]}")
    return pages > 0
