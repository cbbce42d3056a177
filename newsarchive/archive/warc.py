"""WARC/1.1 writing and reading, shaped like warcio (no Scrapy here).

Facts this module keeps (see DESIGN.md):

* one gzip member per record, ``warcinfo`` first in every file;
* request + response (+ metadata) records linked with ``WARC-Concurrent-To``;
* ``WARC-Block-Digest`` and ``WARC-Payload-Digest`` on every record that has a block;
* the response is stored as received: a gzip ``Content-Encoding`` body stays compressed;
* files rotate by size and are written as ``<name>.warc.gz.open``, renamed when closed, so a crash
  never leaves a file that looks complete; :func:`recover_open_files` closes them on the next start.

Clock and record ids are injectable so that output is comparable in tests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import re
import socket
import uuid
import zlib
from base64 import b32encode
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsarchive import __version__
from newsarchive.archive.models import WarcRef

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
DEFAULT_MAX_SIZE = 1_000_000_000
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

Headers = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class HttpExchange:
    """One HTTP request/response pair as it went over the wire (as far as the client lets us see)."""

    url: str
    status: int
    response_headers: Headers
    body: bytes
    method: str = "GET"
    request_headers: Headers = ()
    request_body: bytes = b""
    reason: str = ""
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None
    fetched_at: datetime | None = None
    warc_headers: Headers = ()  # extension fields for the response/revisit record (e.g. Newsarchive-Kind)


@dataclass(frozen=True)
class Revisit:
    """What a revisit record refers to: the original capture of the same payload."""

    refers_to_uri: str
    refers_to_date: datetime
    refers_to_record_id: str | None
    payload_digest: str
    profile: str = REVISIT_IDENTICAL


@dataclass(frozen=True)
class CaptureRecord:
    """What was written for one exchange: enough for the index to point at it."""

    ref: WarcRef
    record_id: str
    request_ref: WarcRef
    request_record_id: str
    payload_digest: str
    fetched_at: datetime
    record_type: str = "response"


@dataclass
class WarcWriterOptions:
    prefix: str = "newsarchive"
    host: str = field(default_factory=lambda: _safe_name(socket.gethostname()))
    max_size: int = DEFAULT_MAX_SIZE
    fsync: bool = False
    operator: str = ""
    software: str = f"newsarchive/{__version__}"
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    make_record_id: Callable[[], str] = lambda: f"<urn:uuid:{uuid.uuid4()}>"


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text) or "host"


def warc_date(moment: datetime) -> str:
    """WARC/1.1 date with microseconds, always UTC."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha1_digest(data: bytes) -> str:
    """``sha1:<base32>``, the form warcio and pywb use."""
    return "sha1:" + b32encode(hashlib.sha1(data).digest()).decode("ascii")


def reason_phrase(status: int, reason: str = "") -> str:
    if reason:
        return reason
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def request_target(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target


class WarcWriter:
    """Appends records to size-rotated ``.warc.gz`` files in one directory.

    Not thread-safe: one writer per process (workers write files of their own, with their id in ``host``).
    """

    def __init__(self, directory: str | os.PathLike[str], options: WarcWriterOptions | None = None):
        self.directory = Path(directory)
        self.options = options or WarcWriterOptions()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name = ""
        self._serial = 0
        self.files_closed: list[str] = []

    # -- file lifecycle ---------------------------------------------------------------------------------
    @property
    def current_name(self) -> str:
        return self._name

    def _next_name(self) -> str:
        stamp = self.options.clock().astimezone(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
        while True:
            self._serial += 1
            name = f"{self.options.prefix}-{stamp}-{self._serial:05d}-{self.options.host}{WARC_SUFFIX}"
            if not (self.directory / name).exists() and not (self.directory / (name + OPEN_SUFFIX)).exists():
                return name

    def _ensure_open(self) -> WARCWriter:
        if self._writer is not None:
            return self._writer
        self._name = self._next_name()
        self._fh = open(self.directory / (self._name + OPEN_SUFFIX), "xb")
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        info = {
            "software": self.options.software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
        }
        if self.options.operator:
            info["operator"] = self.options.operator
        record = self._writer.create_warcinfo_record(self._name, info)
        self._stamp(record, self.options.clock())
        self._write(record)
        return self._writer

    def close(self) -> None:
        """Close the current file and rename it from ``.open`` to its final name."""
        if self._fh is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        final = self.directory / self._name
        os.replace(self.directory / (self._name + OPEN_SUFFIX), final)
        logger.info("closed WARC %s (%d bytes)", final, final.stat().st_size)
        self.files_closed.append(self._name)
        self._fh = None
        self._writer = None

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rotate_if_full(self) -> None:
        if self._fh is not None and self._fh.tell() >= self.options.max_size:
            self.close()

    # -- records ---------------------------------------------------------------------------------------
    def _stamp(self, record: ArcWarcRecord, moment: datetime, record_id: str | None = None) -> str:
        rid = record_id or self.options.make_record_id()
        record.rec_headers.replace_header("WARC-Record-ID", rid)
        record.rec_headers.replace_header("WARC-Date", warc_date(moment))
        return rid

    def _write(self, record: ArcWarcRecord) -> WarcRef:
        assert self._fh is not None and self._writer is not None
        offset = self._fh.tell()
        self._writer.write_record(record)
        self._fh.flush()
        if self.options.fsync:
            os.fsync(self._fh.fileno())
        return WarcRef(self._name, offset, self._fh.tell() - offset)

    def write_exchange(self, exchange: HttpExchange, revisit: Revisit | None = None) -> CaptureRecord:
        """Write response (or revisit) then request, linked, and return where they are.

        With ``revisit`` the response is written as a revisit record: no payload, and for the
        server-not-modified profile (a 304) no HTTP headers either (an empty block).
        """
        writer = self._ensure_open()
        fetched_at = exchange.fetched_at or self.options.clock()
        http_headers = StatusAndHeaders(
            f"{exchange.status} {reason_phrase(exchange.status, exchange.reason)}",
            list(exchange.response_headers),
            protocol=exchange.protocol or "HTTP/1.1",
        )
        extra: dict[str, str] = dict(exchange.warc_headers)
        if exchange.ip_address:
            extra["WARC-IP-Address"] = exchange.ip_address
        if revisit is None:
            payload_digest = sha1_digest(exchange.body)
            record = writer.create_warc_record(
                exchange.url, "response", payload=io.BytesIO(exchange.body), http_headers=http_headers,
                warc_headers_dict=extra,
            )
            rec_type = "response"
        else:
            payload_digest = revisit.payload_digest
            # a 304 is an empty-block revisit: replay tools (pywb) then take status and headers from the
            # original, so the page replays as it was; an identical payload keeps its own (new) headers
            record = writer.create_revisit_record(
                exchange.url, revisit.payload_digest, revisit.refers_to_uri, warc_date(revisit.refers_to_date),
                http_headers=None if revisit.profile == REVISIT_NOT_MODIFIED else http_headers,
            )
            record.rec_headers.replace_header("WARC-Profile", revisit.profile)
            if revisit.refers_to_record_id:
                record.rec_headers.replace_header("WARC-Refers-To", revisit.refers_to_record_id)
            for key, value in extra.items():
                record.rec_headers.replace_header(key, value)
            rec_type = "revisit"
        record_id = self._stamp(record, fetched_at)
        ref = self._write(record)
        request_ref, request_id = self._write_request(exchange, fetched_at, record_id)
        self._rotate_if_full()
        return CaptureRecord(ref, record_id, request_ref, request_id, payload_digest, fetched_at, rec_type)

    def _write_request(self, exchange: HttpExchange, fetched_at: datetime, concurrent_to: str) -> tuple[WarcRef, str]:
        assert self._writer is not None
        req_headers = StatusAndHeaders(
            f"{exchange.method} {request_target(exchange.url)} {exchange.protocol or 'HTTP/1.1'}",
            list(exchange.request_headers),
            is_http_request=True,
        )
        record = self._writer.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(exchange.request_body), http_headers=req_headers,
            warc_headers_dict={"WARC-Concurrent-To": concurrent_to},
        )
        record_id = self._stamp(record, fetched_at)
        return self._write(record), record_id

    def write_metadata(self, url: str, concurrent_to: str, fields: dict[str, Any],
                       moment: datetime | None = None) -> tuple[WarcRef, str]:
        """A ``metadata`` record (JSON) linked to a response record, e.g. the extracted article fields.

        It links to the response by ``WARC-Concurrent-To`` only and carries no ``WARC-Target-URI`` (optional
        for metadata records in WARC/1.1): replay tools that index every record with a target URI (pywb's
        ``wb-manager add``) would otherwise serve this JSON, which has the page's URL and time and sorts
        before ``text/html``, instead of the page. ``url`` is the page the fields describe (the response's
        target URI); readers find it there.
        """
        writer = self._ensure_open()
        body = json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        record = writer.create_warc_record(
            url, "metadata", payload=io.BytesIO(body), warc_content_type="application/json",
            warc_headers_dict={"WARC-Concurrent-To": concurrent_to},
        )
        record.rec_headers.remove_header("WARC-Target-URI")
        record_id = self._stamp(record, moment or self.options.clock())
        ref = self._write(record)
        self._rotate_if_full()
        return ref, record_id

    def write_conversion(self, url: str, refers_to: str, body: bytes, content_type: str,
                         moment: datetime | None = None) -> tuple[WarcRef, str]:
        """A ``conversion`` record: ``body`` derived from the record ``refers_to`` (a browser's rendered DOM of
        the archived document). Replay tools skip it; it keeps what the article was extracted from."""
        writer = self._ensure_open()
        record = writer.create_warc_record(
            url, "conversion", payload=io.BytesIO(body), warc_content_type=content_type,
            warc_headers_dict={"WARC-Refers-To": refers_to},
        )
        record_id = self._stamp(record, moment or self.options.clock())
        ref = self._write(record)
        self._rotate_if_full()
        return ref, record_id


# -- reading ----------------------------------------------------------------------------------------------
class WarcReadError(Exception):
    """A record could not be read: the file is missing, truncated or corrupt at that offset."""

    def __init__(self, path: str | os.PathLike[str], offset: int, reason: str):
        super().__init__(f"{path} at offset {offset}: {reason}")
        self.path = str(path)
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True)
class StoredRecord:
    """A record read back: WARC headers, HTTP status line and headers, and the payload as stored."""

    rec_type: str
    warc_headers: list[tuple[str, str]]
    status_line: str
    http_headers: list[tuple[str, str]]
    payload: bytes
    protocol: str = ""

    def warc_header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.warc_headers if k.lower() == lname), None)

    def http_header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.http_headers if k.lower() == lname), None)

    @property
    def status(self) -> int:
        try:
            return int(self.status_line.split(" ", 1)[0])
        except ValueError:
            return 0


def _stored(record: ArcWarcRecord) -> StoredRecord:
    payload = record.raw_stream.read()
    http = record.http_headers
    return StoredRecord(
        rec_type=record.rec_type,
        warc_headers=list(record.rec_headers.headers),
        status_line=http.statusline if http else "",
        http_headers=list(http.headers) if http else [],
        payload=payload,
        protocol=http.protocol if http else "",
    )


def read_record(directory: str | os.PathLike[str], ref: WarcRef) -> StoredRecord:
    """Read the record at ``ref`` (by offset, one gzip member) without scanning the file."""
    path = Path(directory) / ref.path
    if not path.exists() and (path.parent / (path.name + OPEN_SUFFIX)).exists():
        path = path.parent / (path.name + OPEN_SUFFIX)
    try:
        with open(path, "rb") as fh:
            fh.seek(ref.offset)
            data = fh.read(ref.length)
    except OSError as exc:
        raise WarcReadError(path, ref.offset, exc.strerror or str(exc)) from exc
    if len(data) != ref.length:
        raise WarcReadError(path, ref.offset, f"truncated: wanted {ref.length} bytes, file has {len(data)}")
    try:
        for record in ArchiveIterator(io.BytesIO(data), no_record_parse=False):
            return _stored(record)
    except Exception as exc:  # warcio raises assorted errors on corrupt input
        raise WarcReadError(path, ref.offset, f"corrupt record: {exc}") from exc
    raise WarcReadError(path, ref.offset, "no record at offset")


def find_conversion(directory: str | os.PathLike[str], ref: WarcRef, record_id: str, *,
                    max_records: int = 1000) -> StoredRecord | None:
    """The ``conversion`` record (a rendered DOM, :meth:`WarcWriter.write_conversion`) that refers to the
    record ``record_id`` at ``ref``: written after it in the same file, before the page's ``metadata``
    record, so the search stops there (or after ``max_records``). None: the page was not rendered."""
    path = Path(directory) / ref.path
    if not path.exists() and (path.parent / (path.name + OPEN_SUFFIX)).exists():
        path = path.parent / (path.name + OPEN_SUFFIX)
    try:
        with open(path, "rb") as fh:
            fh.seek(ref.offset + ref.length)
            for seen, record in enumerate(ArchiveIterator(fh)):
                if seen >= max_records:
                    break
                if record.rec_type == "conversion" and record.rec_headers.get_header("WARC-Refers-To") == record_id:
                    return _stored(record)
                if record.rec_type == "metadata" and record.rec_headers.get_header("WARC-Concurrent-To") == record_id:
                    return None  # the extraction's record: a DOM would have come before it
    except (OSError, ValueError, EOFError) as exc:
        logger.debug("no conversion record of %s in %s: %s", record_id, path, exc)
    return None


def iter_records(path: str | os.PathLike[str]) -> Iterator[tuple[WarcRef, StoredRecord]]:
    """Every record of one file with its offset and length; raises :class:`WarcReadError` where it breaks."""
    path = Path(path)
    name = path.name[: -len(OPEN_SUFFIX)] if path.name.endswith(OPEN_SUFFIX) else path.name
    with open(path, "rb") as fh:
        iterator = ArchiveIterator(fh)
        try:
            for record in iterator:
                stored = _stored(record)  # read the payload before asking for offsets (they read to the end)
                offset = iterator.get_record_offset()
                length = iterator.get_record_length()
                yield WarcRef(name, offset, length), stored
        except Exception as exc:
            raise WarcReadError(path, fh.tell(), f"corrupt or truncated: {exc}") from exc


def dechunk(body: bytes) -> bytes:
    """A ``Transfer-Encoding: chunked`` body as sent (wget and proxies store it so) joined into the entity;
    a body that does not parse as chunks is returned as it is."""
    out, pos = bytearray(), 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            return bytes(out) if out else body
        try:
            size = int(body[pos:eol].split(b";", 1)[0].strip(), 16)
        except ValueError:
            return bytes(out) if out else body
        if size == 0:
            return bytes(out)
        out += body[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2


def decoded_body(record: StoredRecord) -> bytes:
    """The payload with ``Transfer-Encoding: chunked`` and ``Content-Encoding`` undone (gzip, deflate, br)."""
    body = record.payload
    if "chunked" in (record.http_header("Transfer-Encoding") or "").lower():
        body = dechunk(body)
    encoding = (record.http_header("Content-Encoding") or "").strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
        if encoding == "br":
            import brotli  # type: ignore[import-not-found]

            return bytes(brotli.decompress(body))
    except Exception as exc:
        logger.warning("could not undo Content-Encoding %s: %s", encoding, exc)
    return body


# -- crash recovery -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recovery:
    path: str
    records: int
    truncated_bytes: int


def _last_good_end(path: Path) -> tuple[int, int]:
    """(end offset of the last complete record, number of complete records)."""
    good_end, count = 0, 0
    with open(path, "rb") as fh, open(path, "rb") as member:
        iterator = ArchiveIterator(fh)
        try:
            for record in iterator:
                record.raw_stream.read()
                offset = iterator.get_record_offset()
                length = iterator.get_record_length()
                # a record only counts when its gzip member is complete on disk (warcio reads cut ones too)
                member.seek(offset)
                gzip.decompress(member.read(length))
                good_end, count = offset + length, count + 1
        except Exception as exc:
            logger.warning("%s: stops being readable after %d records (%s)", path, count, exc)
    return good_end, count


def recover_open_files(directory: str | os.PathLike[str], host: str | None = None) -> list[Recovery]:
    """Close ``.open`` files left by a killed process: cut them after their last complete record, rename.

    With ``host`` only that writer's files (``*-<host>.warc.gz.open``) are touched, so one worker never
    closes another live worker's file. A file with no complete record is removed. Returns what was done.
    """
    done: list[Recovery] = []
    pattern = f"*-{host}{WARC_SUFFIX}{OPEN_SUFFIX}" if host else f"*{WARC_SUFFIX}{OPEN_SUFFIX}"
    for path in sorted(Path(directory).glob(pattern)):
        size = path.stat().st_size
        good_end, count = _last_good_end(path)
        if count == 0:
            path.unlink()
            logger.warning("removed %s: no complete record", path)
            done.append(Recovery(str(path), 0, size))
            continue
        if good_end < size:
            with open(path, "r+b") as fh:
                fh.truncate(good_end)
        final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
        os.replace(path, final)
        logger.warning("recovered %s: %d records kept, %d bytes cut", final, count, size - good_end)
        done.append(Recovery(str(final), count, size - good_end))
    return done
