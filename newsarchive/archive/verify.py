"""Check the archive (``newsarchive verify``): WARC files whole, digests right, index and files agreeing.

``warcio check`` validates digests only and passes a truncated file; here every gzip member is
decompressed strictly (a member cut short or a flipped byte fails its CRC), every record's
``WARC-Block-Digest`` and ``WARC-Payload-Digest`` are recomputed, and every index row is compared with the
record at its offset. Problems name the file and the offset of the record they concern; after a damaged
region reading resumes at the next record start (:mod:`newsarchive.archive.warcscan`).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.progress import FileBytes, ProgressCallback
from newsarchive.archive.reindex import fit_id
from newsarchive.archive.warc import OPEN_SUFFIX, WARC_SUFFIX, WarcReadError
from newsarchive.archive.warcscan import Damage, digest_matches, scan_raw

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
WARC_NAMES = (WARC_SUFFIX, WARC_SUFFIX + OPEN_SUFFIX, ".warc")  # ".warc": plain files of other tools, imported


@dataclass(frozen=True)
class Member:
    """One gzip member of a WARC file: where it is and what it decompresses to (one record)."""

    offset: int
    length: int
    data: bytes


@dataclass(frozen=True)
class RecordFacts:
    rec_type: str
    record_id: str
    target_uri: str
    length: int
    payload_digest: str


@dataclass(frozen=True)
class Problem:
    path: str
    offset: int
    kind: str  # missing-file truncated corrupt block-digest payload-digest index-mismatch no-record unindexed ...
    detail: str

    def __str__(self) -> str:
        return f"{self.path} @ {self.offset}: {self.kind}: {self.detail}"


@dataclass
class VerifyReport:
    files: int = 0
    records: int = 0
    captures: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def scan_members(path: str | Path) -> Iterator[Member]:
    """Every gzip member of ``path``, strictly: raises :class:`WarcReadError` at a truncated or corrupt one."""
    with open(path, "rb") as fh:
        offset, buf = 0, fh.read(CHUNK)
        while buf:
            decomp, out, used = zlib.decompressobj(16 + zlib.MAX_WBITS), [], 0
            while not decomp.eof:
                if not buf:
                    buf = fh.read(CHUNK)
                    if not buf:
                        raise WarcReadError(path, offset, f"truncated: gzip member cut after {used} bytes")
                try:
                    out.append(decomp.decompress(buf))
                except zlib.error as exc:
                    raise WarcReadError(path, offset, f"corrupt gzip member: {exc}") from exc
                used += len(buf) - len(decomp.unused_data)
                buf = decomp.unused_data
            yield Member(offset, used, b"".join(out))
            offset += used
            if not buf:
                buf = fh.read(CHUNK)


def _headers(text: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.decode("utf-8", "replace").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def check_record(path: str, member: Member) -> tuple[RecordFacts | None, list[Problem]]:
    """Parse one record and check its length and digests."""
    head_end = member.data.find(b"\r\n\r\n")
    if not member.data.startswith(b"WARC/") or head_end < 0:
        return None, [Problem(path, member.offset, "corrupt", "no WARC record header")]
    headers = _headers(member.data[:head_end])
    block = member.data[head_end + 4:]
    length = int(headers.get("content-length", "-1") or -1)
    if length < 0 or len(block) < length:
        return None, [Problem(path, member.offset, "truncated", f"block has {len(block)} of {length} bytes")]
    block = block[:length]
    facts = RecordFacts(headers.get("warc-type", ""), headers.get("warc-record-id", ""),
                        headers.get("warc-target-uri", ""), member.length, headers.get("warc-payload-digest", ""))
    problems = []
    if "warc-block-digest" in headers and not digest_matches(headers["warc-block-digest"], block):
        problems.append(Problem(path, member.offset, "block-digest", f"{facts.record_id} does not match its block"))
    if facts.payload_digest and facts.rec_type != "revisit":
        is_http = "application/http" in headers.get("content-type", "")
        split = block.find(b"\r\n\r\n")
        payload = block[split + 4:] if is_http and split >= 0 else block
        if not digest_matches(facts.payload_digest, payload):
            problems.append(Problem(path, member.offset, "payload-digest", f"{facts.record_id} payload differs"))
    return facts, problems


def scan_file(path: Path, report: VerifyReport, at: Callable[[int], None] | None = None) -> dict[int, RecordFacts]:
    """Records of one file by offset; problems go to ``report``; ``at(offset)`` after each record read.

    A damaged region is reported and reading resumes at the next record start (:func:`warcscan.scan_raw`),
    so the records after it are still found.
    """
    found: dict[int, RecordFacts] = {}
    try:
        for item in scan_raw(path):
            if isinstance(item, Damage):
                kind = "truncated" if item.reason.startswith("truncated") else "corrupt"
                report.problems.append(Problem(str(path), item.offset, kind, item.reason))
                continue
            if at is not None:
                at(item.ref.offset + item.ref.length)
            facts, problems = check_record(str(path), Member(item.ref.offset, item.ref.length, item.data))
            report.problems += problems
            report.records += 1
            if facts is not None:
                found[item.ref.offset] = facts
    except OSError as exc:
        report.problems.append(Problem(str(path), 0, "unreadable", exc.strerror or str(exc)))
    return found


def _compare(path: str, capture: Capture, facts: RecordFacts | None) -> list[Problem]:
    if facts is None:
        return [Problem(path, capture.warc_offset, "no-record", f"capture {capture.id} ({capture.url}) points at no "
                        "record start")]
    expected = (capture.record_type, capture.record_id, capture.url, capture.warc_length, capture.payload_digest)
    target = facts.target_uri[1:-1] if facts.target_uri[:1] == "<" and facts.target_uri[-1:] == ">" else facts.target_uri
    actual = (facts.rec_type, fit_id(facts.record_id), target, facts.length, facts.payload_digest[:64])
    names = ("type", "record id", "URL", "length", "payload digest")
    wrong = [f"{n}: index {e!r}, file {a!r}" for n, e, a in zip(names, expected, actual, strict=True) if e != a]
    return [Problem(path, capture.warc_offset, "index-mismatch", "; ".join(wrong))] if wrong else []


def verify_archive(index: ArchiveIndex, warc_dir: str | Path,
                   progress: ProgressCallback | None = None) -> VerifyReport:
    """Scan every WARC file of ``warc_dir``, then check every index row against the records found.

    ``progress(bytes read, bytes of all WARC files)`` is called as records are read.
    """
    root, report = Path(warc_dir), VerifyReport()
    files: dict[str, dict[int, RecordFacts]] = {}
    # sub-directories too: `newsarchive import` links or unpacks other tools' files under warcs/imported/
    paths = sorted(p for p in root.rglob("*") if p.name.endswith(WARC_NAMES) and p.is_file())
    done = FileBytes(paths, progress)
    for path in paths:
        name = path.relative_to(root).as_posix().removesuffix(OPEN_SUFFIX)
        files[name] = scan_file(path, report, done.at)
        done.finished(path)
        report.files += 1
    ids = {f.record_id for records in files.values() for f in records.values()}
    indexed: set[tuple[str, int]] = set()
    with index.sessions() as s:
        for capture in s.scalars(select(Capture).order_by(Capture.warc_file, Capture.warc_offset)):
            report.captures += 1
            where = str(root / capture.warc_file)
            indexed.add((capture.warc_file, capture.warc_offset))
            if capture.warc_file not in files:
                report.problems.append(Problem(where, capture.warc_offset, "missing-file", "the index points here"))
                continue
            report.problems += _compare(where, capture, files[capture.warc_file].get(capture.warc_offset))
            report.problems += _links(where, capture, ids)
        for article in s.scalars(select(Article).where(Article.metadata_record_id.is_not(None))):
            if article.metadata_record_id not in ids:
                report.problems.append(Problem(str(root), 0, "missing-record",
                                               f"article {article.id}: metadata record {article.metadata_record_id}"))
    report.problems += _unindexed(root, files, indexed)
    return report


def _links(path: str, capture: Capture, ids: set[str]) -> list[Problem]:
    out = []
    if capture.request_record_id and capture.request_record_id not in ids:
        out.append(Problem(path, capture.warc_offset, "missing-record", f"request {capture.request_record_id}"))
    if capture.refers_to_record_id and capture.refers_to_record_id not in ids:
        out.append(Problem(path, capture.warc_offset, "missing-original",
                           f"revisit refers to {capture.refers_to_record_id}"))
    return out


def _unindexed(root: Path, files: dict[str, dict[int, RecordFacts]], indexed: set[tuple[str, int]]) -> list[Problem]:
    return [Problem(str(root / name), offset, "unindexed", f"{facts.rec_type} {facts.target_uri} is not in the index")
            for name, records in files.items() for offset, facts in records.items()
            if facts.rec_type in ("response", "revisit") and (name, offset) not in indexed]
