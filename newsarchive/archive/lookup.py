"""Finding archived captures: by URL and time, revisits resolved to their originals, records read by offset.

Used by replay (:mod:`newsarchive.web.replay`), re-extraction and the crawl's offline mode alike.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Capture, WarcRef
from newsarchive.archive.urls import url_key
from newsarchive.archive.warc import StoredRecord, WarcReadError, read_record


class NotArchived(Exception):
    """No usable capture for this URL (never archived, or its record cannot be read)."""


def parse_timestamp(ts: str) -> datetime:
    """``2024``, ``20240315``, ``20240315120000``... as a UTC datetime (missing month/day are 01)."""
    digits = ts[:14]
    padded = digits + "0101000000"[len(digits) - 4:] if len(digits) >= 4 else "19700101000000"
    try:
        return datetime.strptime(padded[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return datetime(int(digits[:4] or 1970), 1, 1, tzinfo=UTC)


class ArchiveLookup:
    """Captures by URL and time, revisits resolved to their originals, records read safely by offset."""

    def __init__(self, index: ArchiveIndex, warc_dir: str | Path):
        self.index = index
        self.warc_dir = Path(warc_dir).resolve()

    def captures(self, url: str) -> list[Capture]:
        key = url_key(url)
        with self.index.sessions() as s:
            stmt = select(Capture).where((Capture.url_key == key) | (Capture.url == url))
            return list(s.scalars(stmt.order_by(Capture.fetched_at, Capture.id)))

    def nearest(self, url: str, at: datetime | None = None) -> Capture:
        found = self.captures(url)
        if not found:
            raise NotArchived(f"{url} is not in the archive")
        if at is None:
            return found[-1]
        exact = [c for c in found if c.url == url] or found
        return min(exact, key=lambda c: (abs((c.fetched_at - at).total_seconds()), c.id))

    def original(self, capture: Capture) -> Capture:
        """The capture holding the payload: the capture itself, or what its revisit refers to."""
        if capture.record_type != "revisit":
            return capture
        with self.index.sessions() as s:
            if capture.refers_to_record_id:
                found = s.scalars(select(Capture).where(Capture.record_id == capture.refers_to_record_id)).first()
                if found is not None and found.record_type == "response":
                    return found
            stmt = (select(Capture).where(Capture.payload_digest == capture.payload_digest,
                                          Capture.record_type == "response", Capture.fetched_at <= capture.fetched_at)
                    .order_by((Capture.url_key == capture.url_key).desc(), Capture.fetched_at.desc()))
            found = s.scalars(stmt).first()
        if found is not None:
            return found
        return self._by_refers_to_target(capture)

    def _by_refers_to_target(self, capture: Capture) -> Capture:
        record = self.read(capture)
        uri, date = record.warc_header("WARC-Refers-To-Target-URI"), record.warc_header("WARC-Refers-To-Date")
        if not uri or not date:
            raise NotArchived(f"revisit of {capture.url} refers to nothing in the archive")
        moment = datetime.fromisoformat(date.replace("Z", "+00:00"))
        target = self.nearest(uri, moment)
        if target.record_type != "response":
            raise NotArchived(f"revisit of {capture.url}: original {uri} @ {date} is not archived")
        return target

    def read(self, capture: Capture) -> StoredRecord:
        # lexically normalised, not resolved: `..` and absolute paths in a row are refused, while the links
        # `newsarchive import` places under warcs/imported/ to WARC files kept elsewhere are followed
        path = Path(os.path.normpath(self.warc_dir / capture.warc_file))
        if not path.is_relative_to(self.warc_dir):
            raise NotArchived(f"index row {capture.id} points outside the WARC directory")
        try:
            return read_record(self.warc_dir, WarcRef(capture.warc_file, capture.warc_offset, capture.warc_length))
        except WarcReadError as exc:
            raise NotArchived(str(exc)) from exc
