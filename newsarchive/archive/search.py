"""Full-text search over extracted articles: SQLite FTS5, or PostgreSQL ``to_tsvector`` with a GIN index.

SQLite: ``articles_fts`` is an external-content FTS5 table over ``articles`` (title, text, author,
description), kept in sync by triggers, so rows written by any process (the crawler too) are searchable;
created and filled on first use by :func:`ensure_search_index`. PostgreSQL: an expression GIN index on
``to_tsvector('simple', title || text)`` ('simple': the archive is multilingual, no stemming).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, table, text
from sqlalchemy.engine import Engine

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article

logger = logging.getLogger(__name__)

MARK_START = "\x02"  # snippet highlight markers: the web page turns them into <mark> after escaping
MARK_END = "\x03"
FTS_TABLE = "articles_fts"
_FTS_COLUMNS = "title, text, author, description"
_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({_FTS_COLUMNS}, content='articles', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS articles_fts_ai AFTER INSERT ON articles BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_FTS_COLUMNS}) VALUES (new.id, new.title, new.text, new.author, "
    "new.description); END",
    f"CREATE TRIGGER IF NOT EXISTS articles_fts_ad AFTER DELETE ON articles BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.id, old.title, "
    "old.text, old.author, old.description); END",
    f"CREATE TRIGGER IF NOT EXISTS articles_fts_au AFTER UPDATE ON articles BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_FTS_COLUMNS}) VALUES ('delete', old.id, old.title, "
    f"old.text, old.author, old.description); INSERT INTO {FTS_TABLE}(rowid, {_FTS_COLUMNS}) "
    "VALUES (new.id, new.title, new.text, new.author, new.description); END",
)
_PG_DOC = "to_tsvector('simple', coalesce(articles.title, '') || ' ' || coalesce(articles.text, ''))"
_PG_DDL = f"CREATE INDEX IF NOT EXISTS ix_articles_fulltext ON articles USING GIN (({_PG_DOC}))"


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    site: str | None = None
    language: str | None = None
    date_from: datetime | None = None  # on the published date, or the fetch time when there is none
    date_to: datetime | None = None
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    capture_id: int
    url: str
    title: str
    site: str
    language: str | None
    published: datetime | None
    fetched_at: datetime | None
    snippet: str  # plain text with MARK_START/MARK_END around matches


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    total: int
    hits: list[SearchHit]


def ensure_search_index(engine: Engine) -> None:
    """Create the full-text index (and fill it from existing articles) if it is not there yet."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            exists = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = :n"), {"n": FTS_TABLE}).first()
            for ddl in _SQLITE_DDL:
                conn.execute(text(ddl))
            if not exists:
                conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))
                logger.info("built the full-text index over existing articles")
        elif engine.dialect.name == "postgresql":
            conn.execute(text(_PG_DDL))


def fts5_query(q: str) -> str:
    """User words as an FTS5 query: every word must occur; ``word*`` is a prefix; no syntax errors possible."""
    terms = [f'"{word}"' + ("*" if star else "") for word, star in re.findall(r"(\w+)(\*?)", q)]
    return " ".join(terms)


def _filtered(stmt: Select[Article, str], query: SearchQuery) -> Select[Article, str]:
    stmt = stmt.where(Article.status == "ok")
    if query.site:
        stmt = stmt.where(Article.site == query.site)
    if query.language:
        stmt = stmt.where(Article.language == query.language)
    when = func.coalesce(Article.published, Article.fetched_at)
    if query.date_from:
        stmt = stmt.where(when >= query.date_from)
    if query.date_to:
        stmt = stmt.where(when <= query.date_to)
    return stmt


def _matching(dialect: str, query: SearchQuery) -> Select[Article, str]:
    snip: ColumnElement[str]
    terms = fts5_query(query.q) if dialect == "sqlite" else query.q.strip()
    if not terms:
        snip = func.substr(Article.text, 1, 240)
        return select(Article, snip).order_by(func.coalesce(Article.published, Article.fetched_at).desc(),
                                                  Article.id.desc())
    if dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        snip = literal_column(f"snippet({FTS_TABLE}, 1, char(2), char(3), '…', 24)")
        return (select(Article, snip).join(fts, fts.c.rowid == Article.id)
                .where(text(f"{FTS_TABLE} MATCH :terms").bindparams(terms=terms))
                .order_by(literal_column(f"bm25({FTS_TABLE})"), Article.id))
    tsq = func.websearch_to_tsquery("simple", terms)
    doc: ColumnElement[Any] = literal_column(_PG_DOC)
    snip = func.ts_headline("simple", Article.text, tsq,
                            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=40, MinWords=15")
    return select(Article, snip).where(doc.op("@@")(tsq)).order_by(func.ts_rank(doc, tsq).desc(), Article.id)


def search_articles(index: ArchiveIndex, query: SearchQuery) -> SearchResults:
    """Articles matching ``query.q`` (every word; empty: all), best first, with the filters applied."""
    dialect = index.engine.dialect.name
    stmt = _filtered(_matching(dialect, query), query)
    with index.sessions() as s:
        total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = s.execute(stmt.limit(query.limit).offset(query.offset)).all()
    hits = [SearchHit(a.id, a.capture_id, a.url, a.title or a.url, a.site, a.language, a.published, a.fetched_at,
                      str(snip or "")) for a, snip in rows]
    return SearchResults(query, int(total), hits)


@dataclass(frozen=True)
class Facets:
    sites: list[str]
    languages: list[str]


def facets(index: ArchiveIndex) -> Facets:
    """The sites and languages there are articles of (for the search form's filters)."""
    with index.sessions() as s:
        sites = s.scalars(select(Article.site).where(Article.status == "ok").distinct().order_by(Article.site))
        langs = s.scalars(select(Article.language).where(Article.status == "ok", Article.language.is_not(None))
                          .distinct().order_by(Article.language))
        return Facets([x for x in sites if x], [x for x in langs if x])
