"""Read every record of a WARC file, surviving damage: :func:`scan`.

``warcio`` (and :func:`newsarchive.archive.warc.iter_records`) stops at the first corrupt gzip member, so
one flipped byte hides every record after it. :func:`scan` reports each damaged region as a
:class:`Damage` (path, offset, reason) and resumes at the next record start: for a gzip file the next
gzip member whose decompressed data starts with ``WARC/``, for an uncompressed ``.warc`` the next line
``WARC/1.x`` that begins a parseable record header. Every intact record is recovered.
:func:`scan_raw` gives the same records as their uncompressed bytes (``verify`` checks digests on them).

Three layouts are read:

* one gzip member per record (what we write, the WARC standard's recommendation): a record's
  :class:`WarcRef` is its member's offset and length in the file, readable by ``read_record``;
* uncompressed ``.warc``: offsets and lengths in the file (also readable by ``read_record``);
* whole-file gzip (``gzip x.warc``: one member holding many records): no compressed offset addresses one
  record, so a record's ``WarcRef`` gives its offset and length in the *decompressed* stream. When such a
  member is corrupt, the records decompressed before the damage are kept if their ``WARC-Block-Digest``
  proves them whole; the rest of that member is lost (deflate cannot resync inside a member).

A member is decompressed in memory, so a whole-file gzip WARC needs memory for its decompressed size.
"""

from __future__ import annotations

import hashlib
import io
import logging
import mmap
import os
import re
import zlib
from base64 import b32encode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.models import WarcRef
from newsarchive.archive.warc import OPEN_SUFFIX, StoredRecord, _stored

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 16
SMALL_CHUNK = 256  # step when decompressing a damaged member again, to keep what precedes the damage
MAX_HEADER = 1 << 20  # a WARC header block longer than this is not a header
_RECORD_START = re.compile(rb"WARC/1\.[0-9]\r?\n")


@dataclass(frozen=True)
class Damage:
    """A damaged region of a WARC file: where it starts and why it could not be read."""

    path: str
    offset: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path} @ {self.offset}: {self.reason}"


@dataclass(frozen=True)
class RawRecord:
    """One record as stored, uncompressed (WARC header, block, trailer), and where it is."""

    ref: WarcRef
    data: bytes


Item = tuple[WarcRef, StoredRecord] | Damage


class _Bad(Exception):
    """One record cannot be parsed at this position (internal: becomes a :class:`Damage`)."""


@dataclass(frozen=True)
class _Member:
    offset: int
    length: int  # compressed bytes consumed (up to the error when ``error`` is set)
    data: bytes  # decompressed (only what came before the error when ``error`` is set)
    error: str | None


def digest_matches(declared: str, data: bytes) -> bool:
    """``sha1:BASE32`` (or hex, or another hashlib algorithm) against ``data``."""
    algorithm, _, value = declared.partition(":")
    try:
        raw = hashlib.new(algorithm.lower().replace("-", ""), data).digest()
    except ValueError:
        return True  # an algorithm we cannot compute is not evidence of damage
    return value.upper() in (b32encode(raw).decode("ascii"), raw.hex().upper())


def scan(path: str | os.PathLike[str]) -> Iterator[Item]:
    """Every readable record of ``path`` with where it is, and a :class:`Damage` for each region that is not.

    Raises ``OSError`` only when the file cannot be opened at all.
    """
    for item in scan_raw(path):
        if isinstance(item, Damage):
            yield item
            continue
        try:
            yield item.ref, _parse(item.data)
        except _Bad as exc:  # framed correctly (the next record follows) but its content does not parse
            yield Damage(str(path), item.ref.offset, str(exc))


def scan_raw(path: str | os.PathLike[str]) -> Iterator[RawRecord | Damage]:
    """Like :func:`scan`, but each record as its uncompressed bytes (to check digests over the block)."""
    path = Path(path)
    name = path.name.removesuffix(OPEN_SUFFIX)
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            if mm[:2] == GZIP_MAGIC[:2]:
                yield from _scan_gzip(mm, str(path), name)
            else:
                yield from _scan_plain(mm, str(path), name)


# -- uncompressed ---------------------------------------------------------------------------------------------
def _scan_plain(data: mmap.mmap | bytes, path: str, name: str, base: int = 0) -> Iterator[RawRecord | Damage]:
    """Records laid end to end in ``data``; ``base`` is added to offsets (a position in a bigger stream)."""
    pos, size = 0, len(data)
    while pos < size:
        if not data[pos:pos + 4].strip(b"\r\n"):  # stray blank lines between records are harmless
            pos += 1
            continue
        try:
            end = _record_end(data, pos)
        except _Bad as exc:
            resume = _next_plain_start(data, pos + 1)
            yield Damage(path, base + pos, _skipped(str(exc), resume - pos, base + resume, resume < size))
            pos = resume
            continue
        yield RawRecord(WarcRef(name, base + pos, end - pos), bytes(data[pos:end]))
        pos = end


def _record_end(data: mmap.mmap | bytes, pos: int) -> int:
    """End of the record starting at ``pos`` (after its ``\\r\\n\\r\\n`` trailer), or :class:`_Bad`."""
    if not _RECORD_START.match(data[pos:pos + 16]):
        raise _Bad("no WARC record header")
    head_end = data.find(b"\r\n\r\n", pos, pos + MAX_HEADER)
    if head_end < 0:
        raise _Bad("WARC header without an end")
    if data.find(b"\nWARC/1.", pos, head_end) >= 0:
        raise _Bad("WARC header cut short by the next record")
    match = re.search(rb"(?im)^content-length:[ \t]*([0-9]+)[ \t]*\r?$", data[pos:head_end])
    if not match:
        raise _Bad("WARC header without Content-Length")
    end = head_end + 4 + int(match.group(1))
    if end > len(data):
        raise _Bad(f"truncated: block has {len(data) - head_end - 4} of {int(match.group(1))} bytes")
    trailer = data[end:end + 4]
    if trailer == b"\r\n\r\n":
        return end + 4
    if trailer[:2] == b"\r\n" or end == len(data):  # lenient about a short or missing trailer
        return end + (2 if trailer[:2] == b"\r\n" else 0)
    raise _Bad("record longer than its Content-Length")


def _parse(raw: bytes) -> StoredRecord:
    try:
        for record in ArchiveIterator(io.BytesIO(raw), no_record_parse=False):
            return _stored(record)
    except Exception as exc:  # warcio raises assorted errors on corrupt input
        raise _Bad(f"unparsable record: {exc}") from exc
    raise _Bad("no record")


def _next_plain_start(data: mmap.mmap | bytes, pos: int) -> int:
    """The next position at or after ``pos`` where a whole record header parses (or the end of data)."""
    while True:
        found = data.find(b"WARC/1.", pos)
        if found < 0:
            return len(data)
        if found == 0 or data[found - 1:found] == b"\n":
            try:
                _record_end(data, found)
                return found
            except _Bad:
                pass
        pos = found + 1


def _skipped(reason: str, skipped: int, resume: int, resumed: bool) -> str:
    where = f"resumed at offset {resume}" if resumed else "no record after it"
    return f"{reason}; {skipped} bytes skipped, {where}"


# -- gzip -----------------------------------------------------------------------------------------------------
def _scan_gzip(mm: mmap.mmap, path: str, name: str) -> Iterator[RawRecord | Damage]:
    pos, size, stream = 0, len(mm), 0  # stream: offset in the decompressed data (for whole-file gzip refs)
    while pos < size:
        member = _inflate(mm, pos)
        records = list(_member_records(member, path, name, stream))
        if member.error is None and records and not isinstance(records[0], Damage):
            yield from records
            pos, stream = pos + member.length, stream + len(member.data)
            continue
        yield from (r for r in records if not isinstance(r, Damage))  # proven whole by their digest
        reason = member.error or (records[0].reason if records and isinstance(records[0], Damage) else "empty")
        resume = _next_member(mm, pos + 1)
        yield Damage(path, pos, _skipped(reason, resume - pos, resume, resume < size))
        pos, stream = resume, stream + len(member.data)


def _inflate(mm: mmap.mmap, pos: int, chunk_size: int = CHUNK) -> _Member:
    """The gzip member at ``pos``, decompressed strictly (a cut member or a bad CRC is an error).

    On an error the member is decompressed again in small steps, to keep as much as came before it.
    """
    if mm[pos:pos + 3] != GZIP_MAGIC:
        return _Member(pos, 0, b"", "not a gzip member")
    decomp, at = zlib.decompressobj(16 + zlib.MAX_WBITS), pos
    out: list[bytes] = []
    while not decomp.eof:
        if at >= len(mm):
            return _Member(pos, at - pos, b"".join(out), f"truncated: gzip member cut after {at - pos} bytes")
        chunk = mm[at:at + chunk_size]
        try:
            out.append(decomp.decompress(chunk))
        except zlib.error as exc:
            if chunk_size > SMALL_CHUNK:
                return _inflate(mm, pos, SMALL_CHUNK)
            return _Member(pos, at - pos, b"".join(out), f"corrupt gzip member: {exc}")
        at += len(chunk) - len(decomp.unused_data)
    return _Member(pos, at - pos, b"".join(out), None)


def _member_records(member: _Member, path: str, name: str,
                    stream: int) -> Iterator[RawRecord | Damage]:
    """Records of one member: the member itself is the ref of a lone record, else decompressed positions.

    Of a damaged member only records whose block digest matches are yielded (plus a leading Damage when
    even the first record cannot be read, so that the caller knows the reason).
    """
    if not member.data.startswith(b"WARC/"):
        if member.error is None:
            yield Damage(path, member.offset, "gzip member does not hold a WARC record")
        return
    found = list(_scan_plain(member.data, path, name, stream))
    if member.error is None:
        if len(found) == 1 and not isinstance(found[0], Damage):
            yield RawRecord(WarcRef(name, member.offset, member.length), found[0].data)
        else:
            yield from found
        return
    yield from (item for item in found if not isinstance(item, Damage) and _block_proven(item.data))


def _block_proven(raw: bytes) -> bool:
    """A record read from a damaged member counts only when its block digest says it is whole."""
    head_end = raw.find(b"\r\n\r\n")
    declared = re.search(rb"(?im)^warc-block-digest:[ \t]*(\S+)", raw[:head_end])
    length = re.search(rb"(?im)^content-length:[ \t]*([0-9]+)", raw[:head_end])
    if not declared or not length:
        return False
    block = raw[head_end + 4:head_end + 4 + int(length.group(1))]
    return digest_matches(declared.group(1).decode("ascii", "replace"), block)


def _next_member(mm: mmap.mmap, pos: int) -> int:
    """The next gzip member at or after ``pos`` whose decompressed data starts with ``WARC/`` (or the end)."""
    while True:
        found = mm.find(GZIP_MAGIC, pos)
        if found < 0:
            return len(mm)
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(mm[found:found + 4096], 16)
        except zlib.error:
            head = b""
        if head.startswith(b"WARC/"):
            return found
        pos = found + 1
