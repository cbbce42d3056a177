"""The relational index (SQLAlchemy 2.x): crawl runs, captures and articles, each pointing at a WARC record.

SQLite by default (a file under the archive home, WAL mode), PostgreSQL when scaled. The index is derived
data: every row can be rebuilt from the WARC files (``newsarchive reindex``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    create_engine,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from newsarchive.archive.models import Article, Capture, CrawlRun, FetchFailure, utcnow
from newsarchive.archive.owner import OWNER_KEY, process_owner

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


def _on_domains(domains: Iterable[str]) -> Any:
    """Captures whose host is one of ``domains`` (with or without ``www.``) or a subdomain of one."""
    names: set[str] = set()
    for domain in domains:
        name = domain.split(":")[0].lower().rstrip(".")
        names |= {name, name[4:] if name.startswith("www.") else name}
    names.discard("")
    if not names:
        return Capture.host.is_(None)
    return or_(Capture.host.in_(sorted(names)), *(Capture.host.like(f"%.{n}") for n in sorted(names)))


def _redirect_key(url: str, location: str) -> str:
    from urllib.parse import urljoin

    from newsarchive.archive.urls import url_key as key_of

    return key_of(urljoin(url, location))


class KeySet:
    """A set of strings (URLs, URL keys) that keeps 64-bit hashes of them, not the strings: ~80 bytes a
    member instead of ~150 or more (100,000 URL keys of 60 characters), for the sets a crawl fills with
    every URL it meets (requested, fetched) and keeps to its end. Two strings with one hash would be taken
    for one: for 10 million members the odds of that happening at all are ~1 in 370,000. Membership only:
    the strings cannot be listed back.
    """

    __slots__ = ("_hashes",)

    def __init__(self, members: Iterable[str] = ()):
        self._hashes = {hash(m) for m in members}

    def add(self, member: str) -> None:
        self._hashes.add(hash(member))

    def update(self, members: Iterable[str]) -> None:
        self._hashes.update(hash(m) for m in members)

    def __contains__(self, member: object) -> bool:
        return isinstance(member, str) and hash(member) in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)


@dataclass
class ArchivedKeys:
    """The archive as a crawl's recrawl decisions see it, loaded once per crawl (no query per link).

    ``responses``: URL keys with a full 200 response; ``with_article``: keys with an article row (also those
    whose extraction is being finished from the WARC at start); ``redirects``: keys whose newest capture is a
    redirect, to the key it points at. Keys absent from all three were never archived.
    """

    responses: frozenset[str] = frozenset()
    with_article: set[str] = field(default_factory=set)
    redirects: dict[str, str] = field(default_factory=dict)

    def resolve(self, key: str, max_redirects: int = 5) -> str:
        """Where ``key`` ends after the archived redirects (as :meth:`ArchiveIndex.prior_capture` follows them)."""
        for _ in range(max_redirects):
            target = self.redirects.get(key)
            if target is None or target == key:
                return key
            key = target
        return key

    def archived(self, key: str) -> bool:
        """Whether ``key`` (after archived redirects) has a full 200 response in the archive."""
        return self.resolve(key) in self.responses

    def has_article(self, key: str) -> bool:
        return self.resolve(key) in self.with_article


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
            run = CrawlRun(spider=spider, args=args, site=site, started_at=utcnow(),
                           stats={OWNER_KEY: process_owner()})  # see runs.mark_interrupted
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

    def prior_captures(self, url_keys: Iterable[str], chunk: int = 500) -> dict[str, PriorCapture]:
        """What ``_prior`` gives for each of many keys (no redirects followed), three queries per ``chunk``
        keys; keys never archived with a full 200 response are absent."""
        keys = sorted(set(url_keys))
        found: dict[str, PriorCapture] = {}
        with self.sessions() as s:
            for start in range(0, len(keys), chunk):
                part = keys[start:start + chunk]
                last: dict[str, Capture] = {}
                for capture in s.scalars(select(Capture).where(Capture.url_key.in_(part), Capture.status == 200,
                                                               Capture.record_type == "response")
                                         .order_by(Capture.fetched_at)):
                    last[capture.url_key] = capture
                first = {k: v for k, v in s.execute(select(Capture.url_key, func.min(Capture.fetched_at))
                                                    .where(Capture.url_key.in_(part)).group_by(Capture.url_key))}
                with_article = set(s.scalars(select(Capture.url_key).join(Article, Article.capture_id == Capture.id)
                                             .where(Capture.url_key.in_(part)).distinct()))
                for key, row in last.items():
                    found[key] = PriorCapture(row.url, row.fetched_at, first.get(key) or row.fetched_at, row.record_id,
                                              row.payload_digest, row.etag, row.last_modified, key in with_article)
        return found

    def archived_keys(self, hosts: Iterable[str] | None = None) -> ArchivedKeys:
        """What the recrawl decisions of a crawl need to know of the archive, in one pass (see ArchivedKeys);
        with ``hosts``, only captures on those domains (their subdomains and www variants included)."""
        stmt = (select(Capture.url_key, Capture.url, Capture.status, Capture.record_type, Capture.location,
                       Article.id.is_not(None))
                .outerjoin(Article, Article.capture_id == Capture.id)
                .order_by(Capture.fetched_at, Capture.id))
        if hosts is not None:
            stmt = stmt.where(_on_domains(hosts))
        newest_redirect: dict[str, str | None] = {}
        responses: set[str] = set()
        with_article: set[str] = set()
        with self.sessions() as s:
            for key, url, status, record_type, location, has_article in s.execute(stmt.execution_options(yield_per=5000)):
                if has_article:
                    with_article.add(key)
                if status == 200 and record_type == "response":
                    responses.add(key)
                newest_redirect[key] = location and _redirect_key(url, location) if 300 <= status < 400 else None
        redirects = {k: v for k, v in newest_redirect.items() if v}
        return ArchivedKeys(frozenset(responses), set(with_article), redirects)

    def orphan_captures(self, hosts: Iterable[str] | None = None) -> list[Capture]:
        """Archived article responses (200, HTML or untyped) that have no article row: their extraction
        did not finish (the crawl was killed; runs still ``running`` are left to their own process, so call
        this after ``runs.mark_interrupted``). Oldest first."""
        stmt = (select(Capture).outerjoin(Article, Article.capture_id == Capture.id)
                .outerjoin(CrawlRun, CrawlRun.id == Capture.run_id)
                .where(Article.id.is_(None), Capture.kind == "article", Capture.status == 200,
                       Capture.record_type == "response",
                       # a run still running (another worker) is extracting its pages itself
                       or_(Capture.run_id.is_(None), CrawlRun.status != "running"))
                .order_by(Capture.fetched_at, Capture.id))
        if hosts is not None:
            stmt = stmt.where(_on_domains(hosts))
        with self.sessions() as s:
            rows = list(s.scalars(stmt))
        return [c for c in rows if not c.content_type or "html" in c.content_type.lower()]

    def indexed_records(self, warc_file: str) -> set[str]:
        """The record ids of one WARC file that index rows point at (captures and metadata records)."""
        with self.sessions() as s:
            ids = set(s.scalars(select(Capture.record_id).where(Capture.warc_file == warc_file)))
            ids |= set(s.scalars(select(Capture.request_record_id).where(Capture.warc_file == warc_file,
                                                                         Capture.request_record_id.is_not(None))))
        return {i for i in ids if i}

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


# -- batched writes -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PendingArticle:
    """An article row waiting for its capture's id (the capture may sit in the same batch)."""

    article: Article
    capture: Capture


@dataclass
class WriterStats:
    batches: int = 0
    rows: int = 0
    failed_rows: int = 0
    seconds: float = 0.0


class IndexWriter:
    """Index rows written by one background thread, one transaction per batch.

    ``add`` queues a row and returns at once (the crawl's reactor thread never waits for the database). A batch
    is committed when ``batch_size`` rows wait or ``interval`` seconds passed since the first of them, and at
    :meth:`flush` / :meth:`close`. Callers queue a row only after the WARC record it points at was written and
    flushed, so rows never point at bytes that are not on disk. A batch that fails is retried row by row; a
    row that fails alone is logged and counted (``stats.failed_rows``), never raised into the crawl.
    """

    def __init__(self, index: ArchiveIndex, *, batch_size: int = 500, interval: float = 0.5,
                 on_error: Callable[[str], None] | None = None):
        self.index = index
        self.batch_size = max(1, batch_size)
        self.interval = interval
        self.on_error = on_error
        self.stats = WriterStats()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="index-writer", daemon=True)
        self._thread.start()

    def add(self, row: Capture | Article | FetchFailure | PendingArticle) -> None:
        if self._closed:
            raise RuntimeError("index writer is closed")
        self._queue.put(row)

    def flush(self, timeout: float | None = None) -> bool:
        """Commit everything queued so far; False if that did not happen within ``timeout`` seconds."""
        return self.committed_marker().wait(timeout)

    def committed_marker(self) -> threading.Event:
        """An event set once every row queued so far is committed (a flush nobody waits for)."""
        done = threading.Event()
        self._queue.put(done)
        return done

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        batch: list[Any] = []
        waiting: list[threading.Event] = []
        deadline = 0.0
        stop = False
        while not stop:
            timeout = None if not batch else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = ...
            if item is None:
                stop = True
            elif isinstance(item, threading.Event):
                waiting.append(item)
            elif item is not ...:
                if not batch:
                    deadline = time.monotonic() + self.interval
                batch.append(item)
                if len(batch) < self.batch_size:
                    continue
            if batch and (stop or waiting or len(batch) >= self.batch_size or time.monotonic() >= deadline):
                self._commit(batch)
                batch = []
            for done in waiting:
                done.set()
            waiting = []

    def _commit(self, batch: list[Any]) -> None:
        started = time.perf_counter()
        try:
            with self.index.session() as s:
                self._write(s, batch)
            self.stats.rows += len(batch)
        except SQLAlchemyError as exc:
            logger.warning("index batch of %d rows failed (%s); writing them one by one", len(batch),
                           str(getattr(exc, "orig", exc)).splitlines()[0])
            for row in batch:
                self._commit_one(row)
        self.stats.batches += 1
        self.stats.seconds += time.perf_counter() - started

    def _commit_one(self, row: Any) -> None:
        try:
            with self.index.session() as s:
                self._write(s, [row])
            self.stats.rows += 1
        except SQLAlchemyError as exc:
            self.stats.failed_rows += 1
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            logger.error("index row for %s not written: %s", _row_url(row), reason)
            if self.on_error is not None:
                self.on_error(reason)

    @staticmethod
    def _write(s: Session, batch: list[Any]) -> None:
        for row in batch:
            if isinstance(row, PendingArticle):
                if row.capture.id is None:  # its capture is in this batch: give it an id first
                    s.flush()
                if row.capture.id is None:
                    raise _MissingCapture(row.article.url)
                row.article.capture_id = row.capture.id
                s.add(row.article)
            else:
                s.add(row)
        s.flush()


class _MissingCapture(SQLAlchemyError):
    def __init__(self, url: str):
        super().__init__(f"the capture of {url} was not written")


def _row_url(row: Any) -> str:
    target = row.article if isinstance(row, PendingArticle) else row
    return str(getattr(target, "url", "?"))
