"""The relational index (SQLAlchemy 2.x): crawl runs, captures and articles, each pointing at a WARC record.

SQLite by default (a file under the archive home, WAL mode), PostgreSQL when scaled. The index is derived
data: every row can be rebuilt from the WARC files (``newsarchive reindex``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy import (
    Index as SqlIndex,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.types import TypeDecorator

from newsarchive.archive.warc import WarcRef

logger = logging.getLogger(__name__)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(32), default="running")
    spider: Mapped[str] = mapped_column(String(64), default="")
    site: Mapped[str | None] = mapped_column(String(255))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    articles: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Capture(Base):
    """One archived HTTP response (or revisit) and where its record is."""

    __tablename__ = "captures"
    __table_args__ = (
        SqlIndex("ix_captures_url_time", "url", "fetched_at"),
        SqlIndex("ix_captures_canonical", "canonical_url", "fetched_at"),
        SqlIndex("ix_captures_digest", "payload_digest"),
        SqlIndex("ix_captures_key", "url_key", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(Text, default="")  # folds http/https, www, tracking params
    host: Mapped[str] = mapped_column(String(255), index=True)
    method: Mapped[str] = mapped_column(String(16), default="GET")
    status: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_type: Mapped[str | None] = mapped_column(String(255))
    content_length: Mapped[int | None] = mapped_column(BigInteger)
    payload_digest: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(16), default="response")
    record_id: Mapped[str] = mapped_column(String(64), unique=True)
    warc_file: Mapped[str] = mapped_column(String(255))
    warc_offset: Mapped[int] = mapped_column(BigInteger)
    warc_length: Mapped[int] = mapped_column(BigInteger)
    request_record_id: Mapped[str | None] = mapped_column(String(64))
    refers_to_record_id: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="page")

    article: Mapped[Article | None] = relationship(back_populates="capture", uselist=False)

    @property
    def warc_ref(self) -> WarcRef:
        return WarcRef(self.warc_file, self.warc_offset, self.warc_length)


class Article(Base):
    """What extraction made of one capture. ``status`` is ``ok`` or ``failed`` (``reason`` says why)."""

    __tablename__ = "articles"
    __table_args__ = (
        SqlIndex("ix_articles_canonical", "canonical_url"),
        SqlIndex("ix_articles_site_published", "site", "published"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), unique=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    site: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="ok")
    reason: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_source: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    section: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    extractor: Mapped[str] = mapped_column(String(64), default="")
    extractor_version: Mapped[str] = mapped_column(String(64), default="")
    metadata_record_id: Mapped[str | None] = mapped_column(String(64))
    extracted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    capture: Mapped[Capture] = relationship(back_populates="article")


class FetchFailure(Base):
    """A request that got no response at all (DNS, refused, timeout): nothing to archive, but not lost."""

    __tablename__ = "fetch_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    url: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


from newsarchive.archive import dedup as _dedup  # noqa: E402,F401  (registers story_clusters on Base)
from newsarchive.archive import runs as _runs  # noqa: E402,F401  (registers schedule_runs on Base)
from newsarchive.archive import templates as _templates  # noqa: E402,F401
