"""``--json`` on the read commands: one JSON document on stdout, dates with their UTC offset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsarchive.archive.models import Article
from newsarchive.cli.main import cli
from tests.archive_builder import BERICHT_URL, STORY_URL, BuiltArchive, build_archive


@pytest.fixture
def archive(tmp_path: Path) -> BuiltArchive:
    built = build_archive(tmp_path / "home")
    with built.index.session() as s:
        row = s.get(Article, built.articles["story"].id)
        assert row is not None
        row.authors, row.tags, row.paywalled = ["Jane Reporter", "Max Muster"], ["harbour", "bridge"], False
    run = built.index.start_run("news", {"url": "https://news.example/"}, site="news")
    built.index.finish_run(run, status="finished", stats={"pages": 3})
    return built


def run_json(archive: BuiltArchive, *args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--json", "--home", str(archive.root)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_show(archive: BuiltArchive) -> None:
    data = run_json(archive, "show", STORY_URL)
    assert data["url"] == STORY_URL and data["title"] == "Harbour bridge reopens after repairs"
    assert data["authors"] == ["Jane Reporter", "Max Muster"] and data["tags"] == ["harbour", "bridge"]
    assert data["paywalled"] is False and "steel cables" in data["text"]
    assert data["fetched_at"].endswith("+00:00")
    assert data["capture"]["record_id"].startswith("<urn:uuid:") and data["capture"]["status"] == 200
    assert "text" not in run_json(archive, "show", STORY_URL, "--no-text")


def test_stats(archive: BuiltArchive) -> None:
    data = run_json(archive, "stats")
    assert data["articles_ok"] == 2 and data["runs"] == 1
    assert dict(map(tuple, data["by_site"])) == {"news": 1, "zeitung": 1}
    assert data["last_fetch"].endswith("+00:00")


def test_search(archive: BuiltArchive) -> None:
    data = run_json(archive, "search", "steel OR Stahlseile")
    assert data["total"] == 2 and [h["url"] for h in data["hits"]][0] in (STORY_URL, BERICHT_URL)
    assert {"article_id", "url", "title", "site", "language", "published", "snippet"} <= set(data["hits"][0])


def test_runs(archive: BuiltArchive) -> None:
    data = run_json(archive, "runs")
    assert [r["site"] for r in data["runs"]] == ["news"] and data["runs"][0]["status"] == "finished"
    assert data["runs"][0]["started_at"].endswith("+00:00")
    assert data["sites"][0]["site"] == "news" and data["sites"][0]["stale"] is False


def test_runs_empty(tmp_path: Path) -> None:
    built = build_archive(tmp_path / "none")
    assert run_json(built, "runs") == {"runs": [], "sites": []}


def test_stories(archive: BuiltArchive) -> None:
    data = run_json(archive, "stories", "--min-size", "1")
    assert data["clustering"]["total_articles"] == 2
    members = [m for story in data["stories"] for m in story["members"]]
    assert {m["url"] for m in members} == {STORY_URL, BERICHT_URL}
    assert all(story["size"] == len(story["members"]) for story in data["stories"])
