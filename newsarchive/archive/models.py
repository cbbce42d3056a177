"""The index's tables: every ORM model of newsarchive in one module that imports nothing of ours.

Importing this module registers all tables on :class:`Base` (so Alembic and ``create_all`` see the whole
schema) without loading the code that works with them: crawl runs, captures and articles
(:mod:`newsarchive.archive.index`), story clusters and their LSH bands (:mod:`newsarchive.archive.dedup`), scheduler runs
(:mod:`newsarchive.archive.runs`) and learned site templates (:mod:`newsarchive.extract.learning`).
:class:`WarcRef`, the pointer from an index row to its WARC record, lives here too because
:class:`Capture` hands one out; the WARC reader and writer (:mod:`newsarchive.archive.warc`) use the same
class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy import (
    Index as SqlIndex,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# schedule_runs.status while the crawl subprocess runs (the other values: newsarchive.archive.runs)
SCHEDULE_RUNNING = "running"
TEMPLATE_MIN_PAGES = 5
TEMPLATE_MIN_SHARE = 0.3


@dataclass(frozen=True)
class WarcRef:
    """Where one record lives: ``path`` is the file name relative to the WARC directory."""

    path: str
    offset: int
    length: int


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
    # why the stored body is incomplete (the record carries WARC-Truncated): length, time, disconnect, ...
    truncated: Mapped[str | None] = mapped_column(String(32))

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
    author: Mapped[str | None] = mapped_column(Text)  # the authors joined by "; " (see ``authors``)
    # the server defaults of the columns migration 0003 added to existing rows; so a database created from
    # the models equals a migrated one (tests/test_migrations.py)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    agencies: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))  # dpa, AFP, ...
    image_url: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    paywalled: Mapped[bool | None] = mapped_column(Boolean)  # the page declares isAccessibleForFree=false
    markdown: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_source: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    section: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # the text's shingle count and MinHash signature (newsarchive.archive.minhash.text_signature), made by the
    # extraction worker so that story clustering at the crawl's close need not shingle and hash the text; the
    # signature moves to the article's story_clusters row when it is clustered (and is None here then)
    shingles: Mapped[int | None] = mapped_column(Integer)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
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


class StoryCluster(Base):
    """The story an ``ok`` article belongs to, and how it got there."""

    __tablename__ = "story_clusters"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[int] = mapped_column(Integer, index=True)
    method: Mapped[str] = mapped_column(String(16))  # first | exact | near | short
    matched_article_id: Mapped[int | None] = mapped_column(Integer)
    similarity: Mapped[float] = mapped_column(Float, default=1.0)
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    shingles: Mapped[int] = mapped_column(Integer, default=0)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    clustered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StoryBand(Base):
    """One LSH band key of a stored signature: the on-disk index that finds near-duplicate candidates.

    A new article's candidates are the clustered articles that share a key in some band
    (``ix_story_bands_band_key``), so a crawl's close reads the signatures of its candidates only, never every
    signature of the index. Rows go with their ``story_clusters`` row (``rebuild`` clears both). A SQLite
    table without rowid: the rows are clustered by the primary key and the band index carries the article id,
    so a lookup reads the index alone.
    """

    __tablename__ = "story_bands"
    __table_args__ = (
        SqlIndex("ix_story_bands_band_key", "band", "key"),
        {"sqlite_with_rowid": False},
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("story_clusters.article_id", ondelete="CASCADE"),
                                            primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[int] = mapped_column(Integer)  # newsarchive.archive.minhash.band_keys: a signed 32-bit value


class ScheduleRun(Base):
    """One crawl subprocess launched by the scheduler."""

    __tablename__ = "schedule_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(255))
    site: Mapped[str] = mapped_column(String(255), index=True)
    trigger: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | once
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=SCHEDULE_RUNNING)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    pid: Mapped[int | None] = mapped_column(Integer)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    log_path: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)


class SiteTemplate(Base):
    """One learned model: how many pages it was learned from, when, with which thresholds."""

    __tablename__ = "site_templates"

    site: Mapped[str] = mapped_column(String(255), primary_key=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    min_pages: Mapped[int] = mapped_column(Integer, default=TEMPLATE_MIN_PAGES)
    min_share: Mapped[float] = mapped_column(Float, default=TEMPLATE_MIN_SHARE)
    learned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TemplateLine(Base):
    """A line of one site's template: its fingerprint, on how many pages it was seen, and its text."""

    __tablename__ = "template_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("site_templates.site", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
