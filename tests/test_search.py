"""Full-text search over articles: SQLite FTS5 kept in sync by triggers; PostgreSQL to_tsvector + GIN."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from newsarchive.archive.models import Article
from newsarchive.archive.search import (
    MARK_END,
    MARK_START,
    SearchQuery,
    ensure_search_index,
    facets,
    fts5_query,
    search_articles,
)
from tests.archive_builder import BERICHT_URL, STORY_URL, BuiltArchive, build_archive
from tests.pg import pg_unavailable_reason, temp_pg_database


def urls(archive: BuiltArchive, **query: object) -> list[str]:
    return [h.url for h in search_articles(archive.index, SearchQuery(**query)).hits]  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path) -> BuiltArchive:
    built = build_archive(tmp_path / "home")
    ensure_search_index(built.index.engine)
    return built


def test_words_match_and_snippets_are_marked(archive: BuiltArchive) -> None:
    results = search_articles(archive.index, SearchQuery(q="steel cables"))
    assert results.total == 1 and results.hits[0].url == STORY_URL
    assert f"{MARK_START}steel{MARK_END}" in results.hits[0].snippet
    assert results.hits[0].title == "Harbour bridge reopens after repairs"
    assert urls(archive, q="steel elephants") == []  # every word must occur


def test_diacritics_folded_and_prefixes(archive: BuiltArchive) -> None:
    assert urls(archive, q="Hafenbrücke") == [BERICHT_URL]
    assert urls(archive, q="hafenbrucke") == [BERICHT_URL]
    assert urls(archive, q="Korros*") == [BERICHT_URL]
    assert urls(archive, q="Korros") == []


def test_filters(archive: BuiltArchive) -> None:
    assert urls(archive, q="") == [BERICHT_URL, STORY_URL]  # newest first
    assert urls(archive, site="news") == [STORY_URL]
    assert urls(archive, language="de") == [BERICHT_URL]
    day2 = datetime(2024, 3, 2, tzinfo=UTC)
    assert urls(archive, date_from=day2) == [BERICHT_URL]
    assert urls(archive, date_to=day2) == [STORY_URL]
    assert facets(archive.index).sites == ["news", "zeitung"]
    assert set(facets(archive.index).languages) == {"en", "de"}


def test_query_syntax_cannot_break_the_search(archive: BuiltArchive) -> None:
    assert fts5_query('bridge" OR (NEAR') == '"bridge" "OR" "NEAR"'
    assert urls(archive, q='"") * :(-') == [BERICHT_URL, STORY_URL]  # no words: everything


def test_index_follows_inserts_updates_and_deletes(archive: BuiltArchive) -> None:
    story = archive.articles["story"]
    with archive.index.session() as s:
        row = s.get(Article, story.id)
        assert row is not None
        row.text = row.text.replace("ferry", "zeppelin")
    assert urls(archive, q="zeppelin") == [STORY_URL] and urls(archive, q="ferry") == []
    capture = archive.captures["photo"]
    with archive.index.session() as s:
        s.add(Article(capture_id=capture.id, url="https://news.example/x", canonical_url="https://news.example/x",
                      site="news", status="ok", title="Quokka parade", text="A quokka parade crossed the bridge.",
                      fetched_at=capture.fetched_at))
    assert urls(archive, q="quokka") == ["https://news.example/x"]
    with archive.index.session() as s:
        s.execute(text("DELETE FROM articles WHERE url = 'https://news.example/x'"))
    assert urls(archive, q="quokka") == []


def test_failed_extractions_are_not_found(archive: BuiltArchive) -> None:
    with archive.index.session() as s:
        row = s.get(Article, archive.articles["story"].id)
        assert row is not None
        row.status = "failed"
    assert urls(archive, q="bridge") == []


def test_index_created_after_articles_exist_is_filled(tmp_path: Path) -> None:
    built = build_archive(tmp_path / "late")
    with built.index.engine.connect() as conn:
        assert not conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='articles_fts'")).first()
    ensure_search_index(built.index.engine)
    ensure_search_index(built.index.engine)  # idempotent
    assert urls(built, q="bridge") == [STORY_URL]


@pytest.fixture
def pg_archive(tmp_path: Path) -> Iterator[BuiltArchive]:
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with temp_pg_database() as url:
        built = build_archive(tmp_path / "pg", index_url=url)
        ensure_search_index(built.index.engine)
        yield built
        built.index.close()


def test_postgresql_full_text(pg_archive: BuiltArchive) -> None:
    with pg_archive.index.engine.connect() as conn:
        indexes = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_fulltext'")).all()
    assert indexes and "gin" in indexes[0][0].lower() and "to_tsvector" in indexes[0][0]
    results = search_articles(pg_archive.index, SearchQuery(q="steel cables"))
    assert [h.url for h in results.hits] == [STORY_URL]
    assert f"{MARK_START}steel{MARK_END}" in results.hits[0].snippet
    assert urls(pg_archive, q="Hafenbrücke") == [BERICHT_URL]
    assert urls(pg_archive, q="bridge -steel") == []  # websearch syntax
    assert urls(pg_archive, q="", language="de") == [BERICHT_URL]
    assert urls(pg_archive, q="repairs", site="zeitung") == []
    capture = pg_archive.captures["photo"]
    with pg_archive.index.session() as s:
        s.add(Article(capture_id=capture.id, url="https://news.example/q", canonical_url="https://news.example/q",
                      site="news", status="ok", title="Quokka", text="quokka", fetched_at=capture.fetched_at))
    assert urls(pg_archive, q="quokka") == ["https://news.example/q"]


def test_cli(archive: BuiltArchive) -> None:
    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    result = CliRunner().invoke(cli, ["search", "steel", "--home", str(archive.root)])
    assert result.exit_code == 0 and STORY_URL in result.stdout and "[steel]" in result.stdout
    result = CliRunner().invoke(cli, ["search", "--lang", "de", "--to", "2024-03-02", "--home", str(archive.root)])
    assert result.exit_code == 0 and BERICHT_URL in result.stdout and STORY_URL not in result.stdout
    assert "1 article(s)" in result.stderr
