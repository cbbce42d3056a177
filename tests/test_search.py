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
    QueryError,
    SearchQuery,
    Term,
    ensure_search_index,
    facets,
    fts5_query,
    parse_query,
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
    assert fts5_query('bridge" OR (NEAR') == '("bridge") OR ("NEAR")'
    assert fts5_query("near NEAR bridge AND x") == '"near" AND "NEAR" AND "bridge" AND "x"'  # AND: the default
    assert urls(archive, q='"") * :(-') == [BERICHT_URL, STORY_URL]  # no words: everything
    assert urls(archive, q="OR") == [BERICHT_URL, STORY_URL]


def test_parse_query() -> None:
    assert parse_query('a b OR "c d" -e f* NOT g') == (
        (Term(("a",)), Term(("b",))),
        (Term(("c", "d")), Term(("e",), negated=True), Term(("f",), prefix=True), Term(("g",), negated=True)),
    )
    assert parse_query("e-mail or") == ((Term(("e", "mail")), Term(("or",))),)  # lower-case "or" is a word
    with pytest.raises(QueryError, match="not excluded"):
        parse_query("bridge OR -steel")


# (query, expected URLs): the same answers from SQLite FTS5 and PostgreSQL
SYNTAX_CASES: tuple[tuple[str, list[str]], ...] = (
    ("Reichweite OR Wladiwostok", []),
    ("ferry OR Fähre", [STORY_URL, BERICHT_URL]),
    ("ferry OR quokka", [STORY_URL]),
    ("steel cables OR Stahlseile", [STORY_URL, BERICHT_URL]),
    ("bridge -steel", []),
    ("bridge NOT steel", []),
    ("bridge -quokka", [STORY_URL]),
    ('"steel cables"', [STORY_URL]),
    ('"cables steel"', []),
    ('-"cables steel" bridge', [STORY_URL]),
    ("Korros*", [BERICHT_URL]),
    ("Korros* OR engineer*", [STORY_URL, BERICHT_URL]),
    ("Korros", []),
)


def check_syntax(archive: BuiltArchive) -> None:
    for q, expected in SYNTAX_CASES:
        assert sorted(urls(archive, q=q)) == sorted(expected), q


def test_or_not_phrases_prefixes(archive: BuiltArchive) -> None:
    check_syntax(archive)


def test_datasette_detects_the_full_text_table(archive: BuiltArchive) -> None:
    """datasette finds articles_fts for the articles table (its detect_fts) and its search answers."""
    import asyncio

    datasette_app = pytest.importorskip("datasette.app")
    db_path = archive.root / "index.sqlite"
    assert db_path.exists()
    ds = datasette_app.Datasette([str(db_path)])

    async def ask() -> tuple[object, list[object]]:
        db = ds.get_database()
        fts = await db.fts_table("articles")
        response = await ds.client.get("/index/articles.json?_search=steel&_shape=array&_col=url")
        return fts, [row["url"] for row in response.json()]

    fts, found = asyncio.run(ask())
    assert fts == "articles_fts"
    assert found == [STORY_URL]


def test_old_declaration_is_rebuilt_for_datasette(tmp_path: Path) -> None:
    built = build_archive(tmp_path / "old")
    with built.index.engine.begin() as conn:  # what earlier versions created
        conn.execute(text("CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, author, description, "
                          "content='articles', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"))
    ensure_search_index(built.index.engine)
    with built.index.engine.connect() as conn:
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'")).scalar()
    assert 'content="articles"' in str(sql)
    assert urls(built, q="steel") == [STORY_URL]


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


def test_postgresql_same_syntax(pg_archive: BuiltArchive) -> None:
    check_syntax(pg_archive)


def test_cli(archive: BuiltArchive) -> None:
    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    result = CliRunner().invoke(cli, ["search", "steel", "--home", str(archive.root)])
    assert result.exit_code == 0 and STORY_URL in result.stdout and "[steel]" in result.stdout
    result = CliRunner().invoke(cli, ["search", "--lang", "de", "--to", "2024-03-02", "--home", str(archive.root)])
    assert result.exit_code == 0 and BERICHT_URL in result.stdout and STORY_URL not in result.stdout
    assert "1 article(s)" in result.stderr
    result = CliRunner().invoke(cli, ["search", "bridge OR -steel", "--home", str(archive.root)])
    assert result.exit_code == 2 and "not excluded" in result.stderr
    result = CliRunner().invoke(cli, ["search", "--home", str(archive.root), "--", "bridge", "-steel"])
    assert result.exit_code == 0 and "0 article(s)" in result.stderr


def test_cli_json(archive: BuiltArchive) -> None:
    import json

    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    result = CliRunner().invoke(cli, ["search", "ferry", "OR", "Fähre", "--json", "--home", str(archive.root)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 2 and {h["url"] for h in data["hits"]} == {STORY_URL, BERICHT_URL}
    assert data["query"]["q"] == "ferry OR Fähre"
    hit = next(h for h in data["hits"] if h["url"] == STORY_URL)
    assert hit["fetched_at"].endswith("+00:00") and "<mark>" not in hit["snippet"] and "[" in hit["snippet"]
