"""Full-text search over extracted articles: SQLite FTS5, or PostgreSQL ``to_tsvector`` with a GIN index.

SQLite: ``articles_fts`` is an external-content FTS5 table over ``articles`` (title, text, author,
description), kept in sync by triggers, so rows written by any process (the crawler too) are searchable;
created and filled on first use by :func:`ensure_search_index`. It is declared ``content="articles"``
(double quotes), the form datasette looks for, so ``datasette index.sqlite`` offers search on ``articles``.
PostgreSQL: an expression GIN index on ``to_tsvector('simple', title || text)`` ('simple': the archive is
multilingual, no stemming).

One query syntax on both (:func:`parse_query`): words must all occur, ``OR`` between alternatives,
``-word`` or ``NOT word`` excludes, ``"a phrase"`` matches the words in a row, ``word*`` matches a prefix.
It is compiled to an FTS5 expression on SQLite and to ``websearch_to_tsquery`` terms (``to_tsquery`` with
``:*`` for prefixes) joined by ``&&``, ``||`` and ``!!`` on PostgreSQL, so both find the same articles.
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
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({_FTS_COLUMNS}, content=\"articles\", "
    "content_rowid=\"id\", tokenize='unicode61 remove_diacritics 2')",
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


def _declared_for_datasette(conn: Any) -> bool | None:
    """Whether the FTS5 table exists (None: not) with the ``content="articles"`` form datasette detects."""
    sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": FTS_TABLE}).scalar()
    return None if sql is None else 'content="articles"' in sql


def ensure_search_index(engine: Engine) -> None:
    """Create the full-text index (and fill it from existing articles) if it is not there yet.

    A table declared by older versions (``content='articles'``, which datasette does not detect) is
    dropped and built again once.
    """
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            declared = _declared_for_datasette(conn)
            if declared is False:
                conn.execute(text(f"DROP TABLE {FTS_TABLE}"))
                for trigger in ("ai", "ad", "au"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS articles_fts_{trigger}"))
            for ddl in _SQLITE_DDL:
                conn.execute(text(ddl))
            if not declared:
                conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))
                logger.info("built the full-text index over existing articles")
        elif engine.dialect.name == "postgresql":
            conn.execute(text(_PG_DDL))


# -- query syntax ---------------------------------------------------------------------------------------------
class QueryError(ValueError):
    """A search query that cannot match anything as written (e.g. only excluded words)."""


@dataclass(frozen=True)
class Term:
    """One word (``prefix``: it ends in ``*``) or a phrase (several words in a row); ``negated``: excluded."""

    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False


# One alternative: terms that must all match (the negated ones must not); a query: alternatives joined by OR.
Query = tuple[tuple[Term, ...], ...]

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def _term(sign: str, phrase: str | None, bare: str | None) -> Term | None:
    if phrase is not None:
        words = tuple(re.findall(r"\w+", phrase))
        return Term(words, negated=bool(sign)) if words else None
    assert bare is not None
    negated = bare.startswith("-")
    words = tuple(re.findall(r"\w+", bare))
    if not words:
        return None
    return Term(words, prefix=bare.rstrip().endswith("*") and len(words) == 1, negated=negated)


def parse_query(q: str) -> Query:
    """``q`` in the search syntax as alternatives of terms; never fails on stray punctuation.

    ``OR``, ``NOT`` (and ``AND``, the default) are operators only in capitals (``or`` is a word); a word that punctuation splits
    (``e-mail``, ``U.S.``) becomes a phrase of its parts, as both databases tokenize it.
    """
    groups: list[list[Term]] = [[]]
    negate_next = False
    for match in _TOKEN.finditer(q):
        sign, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare == "OR":
            if groups[-1]:
                groups.append([])
            continue
        if bare == "NOT":
            negate_next = True
            continue
        if bare == "AND":  # what juxtaposition means anyway
            continue
        term = _term(sign, phrase, bare)
        if term is not None:
            if negate_next and not term.negated:
                term = Term(term.words, term.prefix, negated=True)
            groups[-1].append(term)
        negate_next = False
    alternatives = tuple(tuple(g) for g in groups if g)
    for group in alternatives:
        if all(t.negated for t in group):
            raise QueryError("every part of a search needs a word that is not excluded "
                             f"({' '.join('-' + ' '.join(t.words) for t in group)} alone matches nothing)")
    return alternatives


def _fts5_term(term: Term) -> str:
    return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")


def fts5_query(q: str) -> str:
    """``q`` as an FTS5 expression (every word quoted, so FTS5 syntax in the input cannot break it)."""
    parts = []
    for group in parse_query(q):
        wanted = " AND ".join(_fts5_term(t) for t in group if not t.negated)
        excluded = "".join(f" NOT {_fts5_term(t)}" for t in group if t.negated)
        parts.append(f"({wanted}){excluded}" if excluded else wanted)
    if len(parts) == 1:
        return parts[0]
    return " OR ".join(f"({p})" for p in parts)


def _pg_term(term: Term) -> ColumnElement[Any]:
    if term.prefix:
        return func.to_tsquery("simple", term.words[0] + ":*")
    return func.websearch_to_tsquery("simple", '"' + " ".join(term.words) + '"')


def pg_tsquery(q: str) -> ColumnElement[Any] | None:
    """``q`` as a PostgreSQL tsquery (``tsquery_and/or/not`` are the ``&& || !!`` operators); None: no words."""
    result: ColumnElement[Any] | None = None
    for group in parse_query(q):
        expr: ColumnElement[Any] | None = None
        for term in sorted(group, key=lambda t: t.negated):  # a wanted term first: the group has one
            tsq = _pg_term(term)
            expr = tsq if expr is None else func.tsquery_and(expr, func.tsquery_not(tsq) if term.negated else tsq)
        result = expr if result is None else func.tsquery_or(result, expr)
    return result


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


def _newest_first() -> Select[Article, str]:
    snip: ColumnElement[str] = func.substr(Article.text, 1, 240)
    return select(Article, snip).order_by(func.coalesce(Article.published, Article.fetched_at).desc(),
                                          Article.id.desc())


def _matching(dialect: str, query: SearchQuery) -> Select[Article, str]:
    snip: ColumnElement[str]
    if not parse_query(query.q):
        return _newest_first()
    if dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        snip = literal_column(f"snippet({FTS_TABLE}, 1, char(2), char(3), '…', 24)")
        return (select(Article, snip).join(fts, fts.c.rowid == Article.id)
                .where(text(f"{FTS_TABLE} MATCH :terms").bindparams(terms=fts5_query(query.q)))
                .order_by(literal_column(f"bm25({FTS_TABLE})"), Article.id))
    tsq = pg_tsquery(query.q)
    doc: ColumnElement[Any] = literal_column(_PG_DOC)
    snip = func.ts_headline("simple", Article.text, tsq,
                            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=40, MinWords=15")
    return select(Article, snip).where(doc.op("@@")(tsq)).order_by(func.ts_rank(doc, tsq).desc(), Article.id)


def search_articles(index: ArchiveIndex, query: SearchQuery) -> SearchResults:
    """Articles matching ``query.q`` (the syntax of :func:`parse_query`; no words: all), best first, filtered.

    Raises :class:`QueryError` for a query that cannot match (only excluded words).
    """
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
