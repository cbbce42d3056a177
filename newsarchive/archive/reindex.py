"""Rebuild the index from the WARC files alone (``newsarchive reindex``).

Every ``response``/``revisit`` record becomes a :class:`Capture`, its ``request`` record (linked by
``WARC-Concurrent-To``) gives the method and request record id, and the ``metadata`` record with the
extracted fields (JSON, see :meth:`WarcWriter.write_metadata`) becomes the :class:`Article`; when an
article was re-extracted, the newest metadata record wins.

Not in the WARCs, so not restored: the crawl run of a capture; the crawl's label of a page (feed, sitemap,
section...) and the site's name from sites.toml, unless the writer recorded them (``Newsarchive-Kind`` and
``Newsarchive-Site`` extension fields on the response/revisit record, ``newsarchive_site`` in the metadata
JSON); without them a page comes back as ``page``, ``article`` or ``robots`` and a site as its host name.
A 304 is stored as an empty-block revisit (so replay tools show the original page), so its own ``etag``
and ``last_modified`` stay empty; the original capture keeps them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.progress import FileBytes, ProgressCallback
from newsarchive.archive.urls import canonicalize, host_of, url_key
from newsarchive.archive.warc import OPEN_SUFFIX, REVISIT_NOT_MODIFIED, WARC_SUFFIX, StoredRecord, WarcRef
from newsarchive.archive.warcscan import Damage, scan

logger = logging.getLogger(__name__)


MAX_ID = 64  # captures.record_id is VARCHAR(64)
KIND_HEADER = "Newsarchive-Kind"  # optional WARC extension fields on response/revisit records
SITE_HEADER = "Newsarchive-Site"


class ReindexError(Exception):
    """The target index cannot be rebuilt into (it is not empty)."""


@dataclass(frozen=True)
class ReadProblem:
    path: str
    offset: int
    reason: str


@dataclass
class ReindexReport:
    files: int = 0
    records: int = 0
    captures: int = 0
    articles: int = 0
    problems: list[ReadProblem] = field(default_factory=list)


def warc_files(warc_dir: str | Path) -> list[Path]:
    """The WARC files of a directory in name order (names start with the writer's timestamp), and those of
    its sub-directories (``imported/``: other tools' files that ``newsarchive import`` linked or unpacked)."""
    root = Path(warc_dir)
    found = [p for p in root.rglob("*") if p.name.endswith((WARC_SUFFIX, WARC_SUFFIX + OPEN_SUFFIX, ".warc"))
             and p.is_file()]
    return sorted(found, key=lambda p: (len(p.relative_to(root).parts), p.name))


def fit_id(record_id: str | None) -> str | None:
    """A record id that fits the index's column (64): another tool's longer id becomes a hash of itself."""
    if record_id is None or len(record_id) <= MAX_ID:
        return record_id
    return "<urn:sha1:" + hashlib.sha1(record_id.encode("utf-8")).hexdigest() + ">"


def target_uri(record: StoredRecord) -> str:
    """``WARC-Target-URI`` without the ``<...>`` that WARC/1.0 writers (wget) put around it."""
    url = (record.warc_header("WARC-Target-URI") or "").strip()
    return url[1:-1] if url[:1] == "<" and url[-1:] == ">" else url


def parse_warc_date(value: str | None) -> datetime:
    if not value:
        raise ValueError("record without WARC-Date")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def capture_from(ref: WarcRef, record: StoredRecord) -> Capture:
    url = target_uri(record)

    def header(name: str, size: int = 255) -> str | None:
        value = record.http_header(name)
        return value[:size] if value else None

    status = record.status
    if not status and record.warc_header("WARC-Profile") == REVISIT_NOT_MODIFIED:
        status = 304  # written as an empty block, so that replay tools show the original
    return Capture(
        run_id=None, url=url, canonical_url=canonicalize(url), url_key=url_key(url), host=host_of(url)[:255],
        method="GET", status=status, fetched_at=parse_warc_date(record.warc_header("WARC-Date")),
        content_type=header("Content-Type"), content_length=len(record.payload),
        payload_digest=(record.warc_header("WARC-Payload-Digest") or "")[:64], record_type=record.rec_type,
        record_id=fit_id(record.warc_header("WARC-Record-ID")) or "", warc_file=ref.path, warc_offset=ref.offset,
        warc_length=ref.length, refers_to_record_id=fit_id(record.warc_header("WARC-Refers-To")),
        etag=header("ETag"), last_modified=header("Last-Modified", 64), location=header("Location"),
        kind=record.warc_header(KIND_HEADER) or ("robots" if url.endswith("/robots.txt") else "page"),
        truncated=(record.warc_header("WARC-Truncated") or "")[:32] or None,
    )


def article_from(fields: dict[str, Any], capture: Capture, metadata_record_id: str, written: datetime,
                 site: str | None = None) -> Article:
    """The article row IndexPipeline wrote for these extracted fields (``Extraction.as_record``)."""
    def when(key: str) -> datetime | None:
        value = fields.get(key)
        return datetime.fromisoformat(value) if value else None

    text = fields.get("text") or ""
    return Article(
        url=fields.get("url") or capture.url, canonical_url=canonicalize(fields.get("canonical_url") or capture.url),
        site=fields.get("newsarchive_site") or site or capture.host, status=fields.get("status", "failed"),
        reason=fields.get("reason"), title=fields.get("title"), author=fields.get("author"),
        published=when("published"), modified=when("modified"), date_source=fields.get("date_source"),
        language=fields.get("language"), section=fields.get("section"), description=fields.get("description"),
        text=text, word_count=int(fields.get("word_count") or 0), text_hash=fields.get("text_hash") if text else None,
        extractor=fields.get("extractor", ""), extractor_version=fields.get("extractor_version", ""),
        metadata_record_id=metadata_record_id, extracted_at=written, fetched_at=capture.fetched_at,
        authors=_strings(fields.get("authors")), agencies=_strings(fields.get("agencies")),
        tags=_strings(fields.get("tags")), image_url=fields.get("image_url"), markdown=fields.get("markdown") or "",
        paywalled=fields["paywalled"] if isinstance(fields.get("paywalled"), bool) else None,
    )


def _strings(value: Any) -> list[str]:
    """A list field of the metadata record (absent in records written before it existed: empty)."""
    return [str(v) for v in value] if isinstance(value, list) else []


class _Rebuild:
    """State across files: captures by record id, requests and metadata waiting for their capture."""

    def __init__(self) -> None:
        self.captures: dict[str, Capture] = {}
        self.requests: dict[str, tuple[str, str]] = {}  # concurrent-to -> (method, request record id)
        self.metadata: dict[str, tuple[datetime, str, dict[str, Any]]] = {}  # concurrent-to -> newest
        self.length_by_digest: dict[str, int] = {}
        self.sites: dict[str, str] = {}  # record id -> Newsarchive-Site

    def add(self, ref: WarcRef, record: StoredRecord) -> None:
        if record.rec_type in ("response", "revisit"):
            capture = capture_from(ref, record)
            if record.rec_type == "response":
                self.length_by_digest.setdefault(capture.payload_digest, capture.content_length or 0)
            elif capture.status != 304:  # identical payload: the body received was the original's
                capture.content_length = self.length_by_digest.get(capture.payload_digest, 0)
            self.captures[capture.record_id] = capture
            if site := record.warc_header(SITE_HEADER):
                self.sites[capture.record_id] = site
        elif record.rec_type == "request":
            target = record.warc_header("WARC-Concurrent-To") or ""
            method = record.protocol or "GET"  # warcio keeps a request line's method as its "protocol"
            self.requests[target] = (method, record.warc_header("WARC-Record-ID") or "")
        elif record.rec_type == "metadata" and "json" in (record.warc_header("Content-Type") or ""):
            self._add_metadata(record)

    def _add_metadata(self, record: StoredRecord) -> None:
        target = record.warc_header("WARC-Concurrent-To") or ""
        written = parse_warc_date(record.warc_header("WARC-Date"))
        previous = self.metadata.get(target)
        if previous is None or written >= previous[0]:
            fields = json.loads(record.payload.decode("utf-8"))
            self.metadata[target] = (written, record.warc_header("WARC-Record-ID") or "", fields)

    def rows(self) -> tuple[list[Capture], list[tuple[str, Article]]]:
        for record_id, capture in self.captures.items():
            if record_id in self.requests:
                capture.method, capture.request_record_id = self.requests[record_id]
            if record_id in self.metadata and capture.kind == "page":
                capture.kind = "article"
        articles = [(rid, article_from(fields, self.captures[rid], meta_id, written, self.sites.get(rid)))
                    for rid, (written, meta_id, fields) in self.metadata.items() if rid in self.captures]
        return sorted(self.captures.values(), key=lambda c: (c.fetched_at, c.warc_file, c.warc_offset)), articles


def _read_file(path: Path, state: _Rebuild, report: ReindexReport, at: Callable[[int], None],
               name: str | None = None) -> None:
    """Every intact record (:func:`warcscan.scan` checks each gzip member whole and resumes after damage);
    ``name``: the file's path relative to the WARC directory, when it is in a sub-directory."""
    try:
        for item in scan(path):
            if isinstance(item, Damage):
                logger.warning("%s: damaged at offset %d: %s", path, item.offset, item.reason)
                report.problems.append(ReadProblem(str(path), item.offset, item.reason))
                continue
            ref, record = item
            ref = WarcRef(name, ref.offset, ref.length) if name else ref
            at(ref.offset + ref.length)
            try:
                state.add(ref, record)
            except (ValueError, UnicodeDecodeError) as exc:  # a bad date or metadata JSON: skip that record
                logger.warning("%s: record at offset %d skipped: %s", path, ref.offset, exc)
                report.problems.append(ReadProblem(str(path), ref.offset, f"unreadable record: {exc}"))
                continue
            report.records += 1
    except OSError as exc:
        report.problems.append(ReadProblem(str(path), 0, exc.strerror or str(exc)))


def reindex(index: ArchiveIndex, warc_dir: str | Path, *, files: Iterable[Path] | None = None,
            progress: ProgressCallback | None = None) -> ReindexReport:
    """Read every WARC file of ``warc_dir`` and fill the (empty) ``index`` with captures and articles.

    ``progress(bytes read, bytes of all the files)`` is called as records are read.
    """
    with index.sessions() as s:
        if s.scalar(select(func.count()).select_from(Capture)):
            raise ReindexError(f"the index {index.url.split('@')[-1]} is not empty; reindex into an empty one")
    report, state = ReindexReport(), _Rebuild()
    paths = list(files) if files is not None else warc_files(warc_dir)
    done = FileBytes(paths, progress)
    base = Path(warc_dir).absolute()
    for path in paths:
        rel = path.absolute().relative_to(base) if path.absolute().is_relative_to(base) else None
        name = rel.as_posix().removesuffix(OPEN_SUFFIX) if rel is not None and len(rel.parts) > 1 else None
        _read_file(path, state, report, done.at, name)  # a sub-directory's file is named by its relative path
        done.finished(path)
        report.files += 1
    captures, articles = state.rows()
    with index.session() as s:
        s.add_all(captures)
        s.flush()
        for record_id, article in articles:
            article.capture_id = state.captures[record_id].id
        s.add_all(a for _, a in articles)
    report.captures, report.articles = len(captures), len(articles)
    return report
