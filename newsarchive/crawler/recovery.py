"""After a killed crawl: index what reached the WARC but not the index, and find unfinished extractions.

A crawl killed between writing a record and committing the index row that points at it leaves records the
index does not know (the rows are committed in batches, so up to one batch). When the next crawl starts,
the ``.open`` files are cut after their last complete record (:func:`recover_open_files`) and then
:func:`index_unindexed` adds rows for their records that no row points at: captures, and articles from the
extracted-fields ``metadata`` records. Captures of articles that have neither an article row nor a metadata
record were killed during extraction: :meth:`ArchiveIndex.orphan_captures` lists them and the spider
extracts them from the WARC before it fetches anything (:func:`read_orphan`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from newsarchive.archive.charset import decode_html
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture, WarcRef
from newsarchive.archive.reindex import article_from, capture_from, parse_warc_date
from newsarchive.archive.warc import OPEN_SUFFIX, StoredRecord, WarcReadError, decoded_body, read_record
from newsarchive.archive.warcscan import Damage, scan

logger = logging.getLogger(__name__)

SITE_HEADER = "Newsarchive-Site"


@dataclass(frozen=True)
class TailReport:
    path: str
    records: int
    captures: int
    articles: int


def index_unindexed(index: ArchiveIndex, path: str | Path, run_id: int | None = None) -> TailReport:
    """Add index rows for the records of one (closed) WARC file that no index row points at."""
    path = Path(path)
    name = path.name.removesuffix(OPEN_SUFFIX)
    known = index.indexed_records(name)
    captures: dict[str, Capture] = {}
    sites: dict[str, str] = {}
    requests: dict[str, tuple[str, str]] = {}
    metadata: dict[str, tuple[datetime, str, dict[str, Any]]] = {}
    records = 0
    try:
        for item in scan(path):  # each record decompressed once; a damaged region is skipped, not the rest
            if isinstance(item, Damage):
                logger.warning("%s; the records around it are indexed", item)
                continue
            records += 1
            _collect(*item, known, captures, sites, requests, metadata)
    except (ValueError, UnicodeDecodeError) as exc:
        logger.warning("%s: %s; the records before it are indexed", path, exc)
    for record_id, new in captures.items():
        new.run_id = run_id
        if record_id in requests:
            new.method, new.request_record_id = requests[record_id]
    articles = 0
    with index.session() as s:
        s.add_all(captures.values())
        s.flush()
        targets = set(metadata) - set(captures)
        existing = {rid: (cid, has) for rid, cid, has in s.execute(
            select(Capture.record_id, Capture.id, Article.id.is_not(None))
            .outerjoin(Article, Article.capture_id == Capture.id)
            .where(Capture.record_id.in_(sorted(targets))))} if targets else {}
        for target, (written, meta_id, fields) in metadata.items():
            capture = captures.get(target)
            if capture is None:
                found = existing.get(target)
                if found is None or found[1]:
                    continue  # not ours to fix, or it already has its article
                capture = s.get(Capture, found[0])
            if capture is None:
                continue
            article = article_from(fields, capture, meta_id, written, sites.get(target))
            article.capture_id = capture.id
            s.add(article)
            articles += 1
    if captures or articles:
        logger.warning("%s: indexed %d capture(s) and %d article(s) the killed crawl had not committed",
                       path, len(captures), articles)
    return TailReport(str(path), records, len(captures), articles)


def _collect(ref: WarcRef, record: StoredRecord, known: set[str], captures: dict[str, Capture],
             sites: dict[str, str], requests: dict[str, tuple[str, str]],
             metadata: dict[str, tuple[datetime, str, dict[str, Any]]]) -> None:
    record_id = record.warc_header("WARC-Record-ID") or ""
    if record.rec_type in ("response", "revisit"):
        if record_id not in known:
            captures[record_id] = capture_from(ref, record)
            if site := record.warc_header(SITE_HEADER):
                sites[record_id] = site
    elif record.rec_type == "request":
        target = record.warc_header("WARC-Concurrent-To") or ""
        requests[target] = (record.protocol or "GET", record_id)
    elif record.rec_type == "metadata" and "json" in (record.warc_header("Content-Type") or ""):
        target = record.warc_header("WARC-Concurrent-To") or ""
        written = parse_warc_date(record.warc_header("WARC-Date"))
        previous = metadata.get(target)
        if previous is None or written >= previous[0]:
            try:
                fields = json.loads(record.payload.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                logger.warning("%s@%d: unreadable metadata record, skipped", ref.path, ref.offset)
                return
            metadata[target] = (written, record_id, fields)


@dataclass(frozen=True)
class OrphanPage:
    """An archived article response whose extraction never finished, read back from its WARC record."""

    capture: Capture
    html: str


def read_orphan(warc_dir: str | Path, capture: Capture) -> OrphanPage | None:
    """The page as the spider saw it (Content-Encoding undone, charset decoded); None if unreadable."""
    try:
        record = read_record(warc_dir, WarcRef(capture.warc_file, capture.warc_offset, capture.warc_length))
        html, _encoding = decode_html(decoded_body(record), record.http_header("Content-Type"))
    except (WarcReadError, OSError, ValueError) as exc:
        logger.warning("cannot read the archived page %s to extract it: %s", capture.url, exc)
        return None
    return OrphanPage(capture, html)
