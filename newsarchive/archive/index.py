"""The relational index (SQLAlchemy 2.x): crawl runs, captures and articles, each pointing at a WARC record.

SQLite by default (a file under the archive home, WAL mode), PostgreSQL when scaled. The index is derived
data: every row can be rebuilt from the WARC files (``newsarchive reindex``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from newsarchive.archive.models import Article, Capture, CrawlRun, FetchFailure, utcnow

logger = logging.getLogger(__name__)


class IndexUnavailable(Exception):
    """The index database cannot be used (bad URL, server unreachable, missing driver)."""


@dataclass(frozen=True)
class PriorCapture:
    """What a recrawl needs to know of the last archived capture of a URL."""

    url: str
    fetched_at: datetime
    first_fetched_at: datetime
    record_id: str
    payload_digest: str
    etag: str | None
    last_modified: str | None
    has_article: bool


@dataclass(frozen=True)
class ArchiveStats:
    runs: int
    captures: int
    articles_ok: int
    articles_failed: int
    warc_files: int
    warc_bytes: int
    by_site: list[tuple[str, int]]
    by_status: list[tuple[int, int]]
    first_fetch: datetime | None
    last_fetch: datetime | None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; raises :class:`IndexUnavailable` with one clear line when it cannot connect."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise IndexUnavailable(f"invalid index URL {url!r}: {exc}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite") and parsed.database and parsed.database != ":memory:":
        from pathlib import Path

        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise IndexUnavailable(f"cannot use index {redact(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except (OperationalError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise IndexUnavailable(f"cannot connect to index {redact(url)}: {reason}") from exc
    return engine


class ArchiveIndex:
    """Thin, typed access to the index. One instance per process; sessions are short-lived."""

    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if create:  # Alembic migrations to the newest schema (newsarchive.archive.schema; `newsarchive db upgrade`)
            from newsarchive.archive.schema import ensure_schema

            ensure_schema(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    # -- runs -----------------------------------------------------------------------------------------------
    def start_run(self, spider: str, args: dict[str, Any], site: str | None = None) -> int:
        with self.session() as s:
            run = CrawlRun(spider=spider, args=args, site=site, started_at=utcnow())
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, *, status: str, stats: dict[str, Any]) -> None:
        with self.session() as s:
            run = s.get(CrawlRun, run_id)
            if run is None:
                return
            run.finished_at = utcnow()
            run.status = status
            run.stats = stats
            run.pages = s.scalar(select(func.count()).where(Capture.run_id == run_id)) or 0
            run.articles = s.scalar(
                select(func.count()).select_from(Article).join(Capture)
                .where(Capture.run_id == run_id, Article.status == "ok")
            ) or 0
            run.errors = int(stats.get("newsarchive/errors", 0))

    # -- writes ---------------------------------------------------------------------------------------------
    def add_capture(self, capture: Capture) -> int:
        with self.session() as s:
            s.add(capture)
            s.flush()
            return capture.id

    def add_article(self, article: Article) -> int:
        with self.session() as s:
            s.add(article)
            s.flush()
            return article.id

    def add_failure(self, run_id: int | None, url: str, reason: str) -> None:
        with self.session() as s:
            s.add(FetchFailure(run_id=run_id, url=url, reason=reason))

    # -- reads ----------------------------------------------------------------------------------------------
    def captures_of(self, url: str) -> list[Capture]:
        with self.sessions() as s:
            stmt = select(Capture).where((Capture.url == url) | (Capture.canonical_url == url))
            return list(s.scalars(stmt.order_by(Capture.fetched_at)))

    def prior_capture(self, url_key: str, max_redirects: int = 5) -> PriorCapture | None:
        """The newest full (200, non-revisit) capture with this URL key, following archived redirects.

        None if the URL (or where it last redirected to) was never archived with a 200.
        """
        from urllib.parse import urljoin

        from newsarchive.archive.urls import url_key as key_of

        with self.sessions() as s:
            for _ in range(max_redirects + 1):
                newest = s.scalars(select(Capture).where(Capture.url_key == url_key)
                                   .order_by(Capture.fetched_at.desc()).limit(1)).first()
                if newest is None:
                    return None
                if 300 <= newest.status < 400 and newest.location:
                    url_key = key_of(urljoin(newest.url, newest.location))
                    continue
                return self._prior(s, url_key)
        return None

    @staticmethod
    def _prior(s: Session, url_key: str) -> PriorCapture | None:
        last = s.scalars(select(Capture).where(Capture.url_key == url_key, Capture.status == 200,
                                               Capture.record_type == "response")
                         .order_by(Capture.fetched_at.desc()).limit(1)).first()
        if last is None:
            return None
        first = s.scalar(select(func.min(Capture.fetched_at)).where(Capture.url_key == url_key))
        has_article = s.scalar(select(func.count()).select_from(Article).join(Capture)
                               .where(Capture.url_key == url_key))
        return PriorCapture(last.url, last.fetched_at, first or last.fetched_at, last.record_id,
                            last.payload_digest, last.etag, last.last_modified, bool(has_article))

    def payload_original(self, url_key: str, payload_digest: str) -> Capture | None:
        """The newest full response of this URL with this payload digest (for identical-payload revisits)."""
        with self.sessions() as s:
            stmt = (select(Capture).where(Capture.url_key == url_key, Capture.payload_digest == payload_digest,
                                          Capture.record_type == "response")
                    .order_by(Capture.fetched_at.desc()).limit(1))
            return s.scalars(stmt).first()

    def article_versions(self, url: str) -> list[Article]:
        """Every successfully extracted version of an article (by URL, canonical URL or URL key), oldest first."""
        from newsarchive.archive.urls import url_key

        key = url_key(url)
        with self.sessions() as s:
            stmt = (select(Article).join(Capture)
                    .where((Capture.url_key == key) | (Article.canonical_url == url) | (Article.url == url),
                           Article.status == "ok")
                    .order_by(Article.fetched_at, Article.id))
            return list(s.scalars(stmt))

    def capture(self, capture_id: int) -> Capture | None:
        with self.sessions() as s:
            return s.get(Capture, capture_id)

    def latest_article(self, url: str) -> Article | None:
        """The newest successfully extracted article for ``url`` (exact or canonical)."""
        with self.sessions() as s:
            stmt = (
                select(Article)
                .where((Article.url == url) | (Article.canonical_url == url), Article.status == "ok")
                .order_by(Article.fetched_at.desc(), Article.id.desc())
                .limit(1)
            )
            return s.scalars(stmt).first()

    def articles(self, *, site: str | None = None, status: str | None = "ok") -> list[Article]:
        with self.sessions() as s:
            stmt = select(Article)
            if site:
                stmt = stmt.where(Article.site == site)
            if status:
                stmt = stmt.where(Article.status == status)
            return list(s.scalars(stmt.order_by(Article.id)))

    def stats(self) -> ArchiveStats:
        with self.sessions() as s:
            by_site = s.execute(
                select(Article.site, func.count()).where(Article.status == "ok")
                .group_by(Article.site).order_by(func.count().desc())
            ).all()
            by_status = s.execute(
                select(Capture.status, func.count()).group_by(Capture.status).order_by(Capture.status)
            ).all()
            files = s.execute(
                select(Capture.warc_file, func.max(Capture.warc_offset + Capture.warc_length))
                .group_by(Capture.warc_file)
            ).all()
            return ArchiveStats(
                runs=s.scalar(select(func.count()).select_from(CrawlRun)) or 0,
                captures=s.scalar(select(func.count()).select_from(Capture)) or 0,
                articles_ok=s.scalar(select(func.count()).where(Article.status == "ok")) or 0,
                articles_failed=s.scalar(select(func.count()).where(Article.status != "ok")) or 0,
                warc_files=len(files),
                warc_bytes=sum(int(end or 0) for _, end in files),
                by_site=[(str(site), int(n)) for site, n in by_site],
                by_status=[(int(code), int(n)) for code, n in by_status],
                first_fetch=s.scalar(select(func.min(Capture.fetched_at))),
                last_fetch=s.scalar(select(func.max(Capture.fetched_at))),
            )
