"""The search UI's view of a result set: facet counts, newest-first order, and the rows of a download.

Matching uses the query syntax of :mod:`newsarchive.archive.search` (``parse_query``, ``fts5_query``,
``pg_tsquery``); relevance order and snippets come from :func:`~newsarchive.archive.search.search_articles`
itself. What lives here is what the web page needs beyond one page of hits: counts by site, language and
month over the whole result set, the result set sorted by date, and all its rows for a JSONL/CSV download.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any

from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, table, text

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article
from newsarchive.archive.search import (
    FTS_TABLE,
    MARK_END,
    MARK_START,
    SearchHit,
    SearchQuery,
    SearchResults,
    fts5_query,
    parse_query,
    pg_tsquery,
    search_articles,
)

SORTS = ("relevance", "date")
EXPORT_LIMIT = 50_000  # rows in one download; the `newsarchive export` command has no limit
EXPORT_FIELDS = ("id", "url", "canonical_url", "site", "language", "title", "author", "published", "fetched_at",
                 "section", "word_count", "text")
_PG_DOC = "to_tsvector('simple', coalesce(articles.title, '') || ' ' || coalesce(articles.text, ''))"


@dataclass(frozen=True)
class FacetCounts:
    """(value, number of matching articles) per site, language and month (``YYYY-MM``), largest first."""

    sites: list[tuple[str, int]]
    languages: list[tuple[str, int]]
    months: list[tuple[str, int]]


def _when() -> ColumnElement[Any]:
    return func.coalesce(Article.published, Article.fetched_at)


def _matched(dialect: str, query: SearchQuery) -> Select[Any]:
    """``articles.id`` of every article the query's words match (all articles when it has none)."""
    if not parse_query(query.q):
        return select(Article.id)
    if dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        return (select(fts.c.rowid)
                .where(text(f"{FTS_TABLE} MATCH :terms").bindparams(terms=fts5_query(query.q))))
    doc: ColumnElement[Any] = literal_column(_PG_DOC)
    return select(Article.id).where(doc.op("@@")(pg_tsquery(query.q)))


def _filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Article.status == "ok"]
    if query.site:
        conditions.append(Article.site == query.site)
    if query.language:
        conditions.append(Article.language == query.language)
    if query.date_from:
        conditions.append(_when() >= query.date_from)
    if query.date_to:
        conditions.append(_when() <= query.date_to)
    return conditions


def _month(dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return func.strftime("%Y-%m", _when())
    return func.to_char(func.timezone("UTC", _when()), "YYYY-MM")


def facet_counts(index: ArchiveIndex, query: SearchQuery) -> FacetCounts:
    """How the articles matching ``query`` (words and filters) divide by site, language and month."""
    dialect = index.engine.dialect.name
    where = [Article.id.in_(_matched(dialect, query)), *_filters(query)]

    def counts(key: Any, newest_first: bool = False) -> list[tuple[str, int]]:
        n = func.count().label("n")
        order = (key.desc(),) if newest_first else (n.desc(), key)
        stmt = select(key, n).where(*where, key.is_not(None)).group_by(key).order_by(*order)
        with index.sessions() as s:
            return [(str(value), int(count)) for value, count in s.execute(stmt) if value]

    return FacetCounts(counts(Article.site), counts(Article.language), counts(_month(dialect), newest_first=True))


def _with_snippets(dialect: str, query: SearchQuery, ids: list[int]) -> Select[Any]:
    """The articles ``ids`` with a snippet around the query's matches (the text's start without words)."""
    snip: ColumnElement[Any]
    if not parse_query(query.q):
        snip = func.substr(Article.text, 1, 240)
        stmt = select(Article, snip)
    elif dialect == "sqlite":
        fts = table(FTS_TABLE, column("rowid"))
        snip = literal_column(f"snippet({FTS_TABLE}, 1, char(2), char(3), '…', 24)")
        stmt = (select(Article, snip).join(fts, fts.c.rowid == Article.id)
                .where(text(f"{FTS_TABLE} MATCH :terms").bindparams(terms=fts5_query(query.q))))
    else:
        snip = func.ts_headline("simple", Article.text, pg_tsquery(query.q),
                                f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=40, MinWords=15")
        stmt = select(Article, snip)
    return stmt.where(Article.id.in_(ids))


def find(index: ArchiveIndex, query: SearchQuery, sort: str = "relevance") -> SearchResults:
    """One page of results: by relevance (``search_articles``; newest first without words) or by date.

    By date, the page's ids come first and snippets are made for those rows only (SQLite would make one
    for every match before sorting).
    """
    if sort != "date" or not parse_query(query.q):
        return search_articles(index, query)
    dialect = index.engine.dialect.name
    where = [Article.id.in_(_matched(dialect, query)), *_filters(query)]
    page = (select(Article.id).where(*where).order_by(_when().desc(), Article.id.desc())
            .limit(query.limit).offset(query.offset))
    with index.sessions() as s:
        total = s.scalar(select(func.count(Article.id)).where(*where)) or 0
        ids = list(s.scalars(page))
        rows = {a.id: (a, snip) for a, snip in s.execute(_with_snippets(dialect, query, ids))}
    hits = [SearchHit(a.id, a.capture_id, a.url, a.title or a.url, a.site, a.language, a.published, a.fetched_at,
                      str(snip or "")) for a, snip in (rows[i] for i in ids if i in rows)]
    return SearchResults(query, int(total), hits)


def _row(article: Article) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.astimezone(UTC).isoformat() if value is not None else None

    return {"id": article.id, "url": article.url, "canonical_url": article.canonical_url, "site": article.site,
            "language": article.language, "title": article.title, "author": article.author,
            "published": iso(article.published), "fetched_at": iso(article.fetched_at), "section": article.section,
            "word_count": article.word_count, "text": article.text}


def result_rows(index: ArchiveIndex, query: SearchQuery, sort: str = "relevance") -> Iterator[dict[str, Any]]:
    """Every article of the result set (up to :data:`EXPORT_LIMIT`) in the page's order, as export rows."""
    whole = replace(query, limit=EXPORT_LIMIT, offset=0)
    ids = [hit.article_id for hit in find(index, whole, sort).hits]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        with index.sessions() as s:
            by_id = {a.id: a for a in s.scalars(select(Article).where(Article.id.in_(chunk)))}
            rows = [_row(by_id[i]) for i in chunk if i in by_id]
        yield from rows


def jsonl(rows: Iterator[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n" for row in rows)


def csv_bytes(rows: Iterator[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
