"""Copy archived WARC records, byte for byte, into a new ``.warc.gz`` (a warcinfo record first).

Every record is one gzip member, so copying ``length`` bytes from ``offset`` and appending them to another
file makes a valid WARC: gzip members concatenate. For each capture the response (or revisit) record is
at the index's offset; its request record is written right after it (:meth:`WarcWriter.write_exchange`),
and the metadata record with the extracted fields usually follows soon after in the same file, or in a
later file when ``reextract`` wrote it. Records not found next to the response are found by scanning
the archive's files once (an id -> location table kept for the run).
"""

from __future__ import annotations

import gzip
import logging
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from newsarchive import __version__
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Capture
from newsarchive.archive.warc import OPEN_SUFFIX, WARC_SUFFIX, WarcReadError, WarcRef, iter_records, warc_date

logger = logging.getLogger(__name__)

CHUNK = 1 << 20


class RecordNotFound(WarcReadError):
    """A record the index names is in none of the archive's WARC files."""


class WarcCopier:
    """Appends the records of exported captures to one new WARC file."""

    def __init__(self, warc_dir: Path, out_path: Path, index: ArchiveIndex):
        self.warc_dir = warc_dir
        self.out_path = out_path
        self.index = index
        self.records = 0
        self._out: BinaryIO = open(out_path, "xb")
        self._sources: dict[str, BinaryIO] = {}
        self._located: dict[str, WarcRef] = {}  # record id -> where, from file scans
        self._scanned: set[str] = set()
        self._originals: set[str] = set()
        self._write_warcinfo()

    def _write_warcinfo(self) -> None:
        from newsarchive.archive.models import utcnow

        writer = WARCWriter(self._out, gzip=True, warc_version="1.1")
        record = writer.create_warcinfo_record(self.out_path.name, {
            "software": f"newsarchive/{__version__}",
            "format": "WARC File Format 1.1",
            "hostname": socket.gethostname(),
            "description": "Records of the captures in a newsarchive dataset export, copied byte for byte",
        })
        record.rec_headers.replace_header("WARC-Date", warc_date(utcnow()))
        writer.write_record(record)

    # -- sources ------------------------------------------------------------------------------------------------
    def _source(self, name: str) -> BinaryIO:
        fh = self._sources.get(name)
        if fh is None:
            path = self.warc_dir / name
            if not path.exists() and (self.warc_dir / (name + OPEN_SUFFIX)).exists():
                path = self.warc_dir / (name + OPEN_SUFFIX)
            if len(self._sources) >= 16:
                self._sources.pop(next(iter(self._sources))).close()
            try:
                fh = self._sources[name] = open(path, "rb")
            except OSError as exc:
                raise WarcReadError(path, 0, exc.strerror or str(exc)) from exc
        return fh

    def _copy(self, ref: WarcRef) -> None:
        fh = self._source(ref.path)
        fh.seek(ref.offset)
        left, plain = ref.length, bytearray()
        while left:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                raise WarcReadError(self.warc_dir / ref.path, ref.offset, f"truncated: {left} bytes missing")
            if plain or (left == ref.length and chunk[:2] != b"\x1f\x8b"):  # an uncompressed (imported) record
                plain += chunk
            else:
                self._out.write(chunk)
            left -= len(chunk)
        if plain:
            self._out.write(gzip.compress(bytes(plain)))  # its own gzip member, as the output's other records
        self.records += 1

    def _record_at(self, name: str, offset: int) -> tuple[str, WarcRef] | None:
        """(record id, where) of the record starting at ``offset``, if there is one."""
        fh = self._source(name)
        fh.seek(offset)
        iterator = ArchiveIterator(fh)
        try:
            record = next(iterator)
            record_id = record.rec_headers.get_header("WARC-Record-ID") or ""
            record.raw_stream.read()
            return record_id, WarcRef(name, iterator.get_record_offset(), iterator.get_record_length())
        except (StopIteration, Exception):  # end of file or not a record there: fall back to scanning
            return None

    def _scan(self, name: str) -> None:
        if name in self._scanned:
            return
        self._scanned.add(name)
        path = self.warc_dir / name
        if not path.exists():
            path = self.warc_dir / (name + OPEN_SUFFIX)
        for ref, stored in iter_records(path):
            if stored.rec_type in ("request", "metadata"):  # named as the index names it (imported/... too)
                self._located[stored.warc_header("WARC-Record-ID") or ""] = WarcRef(name, ref.offset, ref.length)

    def _archive_files(self) -> list[str]:
        names = (p.name for p in self.warc_dir.iterdir() if p.name.endswith((WARC_SUFFIX, WARC_SUFFIX + OPEN_SUFFIX)))
        return sorted(n[: -len(OPEN_SUFFIX)] if n.endswith(OPEN_SUFFIX) else n for n in names)

    def locate(self, record_id: str, name: str, after: int) -> WarcRef:
        """Where ``record_id`` is: at ``after`` in ``name``, elsewhere in ``name``, or in another file."""
        found = self._located.get(record_id) or self._next_to(record_id, name, after)
        if found is not None:
            return found
        for candidate in [name, *self._archive_files()]:
            self._scan(candidate)
            if record_id in self._located:
                return self._located[record_id]
        raise RecordNotFound(self.warc_dir, 0, f"record {record_id} is in no WARC file")

    def _next_to(self, record_id: str, name: str, after: int) -> WarcRef | None:
        at = self._record_at(name, after)
        return at[1] if at is not None and at[0] == record_id else None

    # -- captures -----------------------------------------------------------------------------------------------
    def copy_capture(self, row: dict[str, Any]) -> None:
        """Response (or revisit), request and metadata record of one exported row (export query columns)."""
        ref = WarcRef(row["warc_file"], int(row["warc_offset"]), int(row["warc_length"]))
        self._copy(ref)
        end = ref.offset + ref.length
        if row.get("request_record_id"):
            request = self.locate(row["request_record_id"], ref.path, end)
            self._copy(request)
            end = request.offset + request.length if request.path == ref.path else end
        if row.get("metadata_record_id"):
            self._copy(self.locate(row["metadata_record_id"], ref.path, end))
        if row.get("record_type") == "revisit" and row.get("refers_to_record_id"):
            self._copy_original(row["refers_to_record_id"])

    def _copy_original(self, record_id: str) -> None:
        """A revisit replays only with its original: copy that response and its request too (once)."""
        if record_id in self._originals:
            return
        self._originals.add(record_id)
        with self.index.sessions() as s:
            original = s.scalars(select(Capture).where(Capture.record_id == record_id)).first()
        if original is None:
            logger.warning("revisit refers to %s, which is not in the index: not copied", record_id)
            return
        self.copy_capture({"warc_file": original.warc_file, "warc_offset": original.warc_offset,
                           "warc_length": original.warc_length, "request_record_id": original.request_record_id,
                           "record_type": original.record_type, "refers_to_record_id": original.refers_to_record_id})

    def copy_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.copy_capture(row)

    def close(self) -> tuple[str, ...]:
        for fh in self._sources.values():
            fh.close()
        self._sources.clear()
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        return (self.out_path.name,)
