"""warcscan.scan: every intact record of a damaged WARC, each damaged region reported with path and offset."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from newsarchive.archive.warc import StoredRecord, WarcRef, iter_records, read_record
from newsarchive.archive.warcscan import Damage, scan
from tests.archive_builder import BuiltArchive, build_archive

Item = tuple[WarcRef, StoredRecord] | Damage


@pytest.fixture
def archive(tmp_path: Path) -> BuiltArchive:
    return build_archive(tmp_path / "home")


def only_file(archive: BuiltArchive) -> Path:
    files = list(archive.warc_dir.glob("*.warc.gz"))
    assert len(files) == 1
    return files[0]


def split(items: list[Item]) -> tuple[list[tuple[WarcRef, StoredRecord]], list[Damage]]:
    return [i for i in items if not isinstance(i, Damage)], [i for i in items if isinstance(i, Damage)]


def ids(records: list[tuple[WarcRef, StoredRecord]]) -> list[str | None]:
    return [r.warc_header("WARC-Record-ID") for _, r in records]


def test_intact_file_reads_like_warcio(archive: BuiltArchive) -> None:
    path = only_file(archive)
    expected = list(iter_records(path))
    records, damage = split(list(scan(path)))
    assert damage == []
    assert records == expected
    assert len(records) == 19


def test_flipped_bytes_cost_only_their_records(archive: BuiltArchive) -> None:
    path = only_file(archive)
    intact = list(iter_records(path))
    hit = (3, 8, 14)
    data = bytearray(path.read_bytes())
    for i in hit:
        ref = intact[i][0]
        data[ref.offset + ref.length // 2] ^= 0x10
    path.write_bytes(bytes(data))
    records, damage = split(list(scan(path)))
    assert [(d.path, d.offset) for d in damage] == [(str(path), intact[i][0].offset) for i in hit]
    assert all("corrupt gzip member" in d.reason and "resumed at offset" in d.reason for d in damage)
    assert records == [r for i, r in enumerate(intact) if i not in hit]
    for ref, record in records:  # the refs address the records in place
        assert read_record(archive.warc_dir, ref) == record


def test_garbage_between_members_and_a_non_warc_member(archive: BuiltArchive) -> None:
    path = only_file(archive)
    intact = list(iter_records(path))
    data = path.read_bytes()
    at, later = intact[5][0].offset, intact[12][0].offset
    junk = b"\x1f\x8b\x08 not really gzip \x1f\x8b" + bytes(range(256))
    foreign = gzip.compress(b"<html>not a WARC record</html>")
    path.write_bytes(data[:at] + junk + data[at:later] + foreign + data[later:])
    records, damage = split(list(scan(path)))
    assert [d.offset for d in damage] == [at, later + len(junk)]
    assert "does not hold a WARC record" in damage[1].reason
    assert ids(records) == ids(intact)


def test_truncated_file_reports_the_cut_member(archive: BuiltArchive) -> None:
    path = only_file(archive)
    intact = list(iter_records(path))
    last = intact[-1][0]
    path.write_bytes(path.read_bytes()[: last.offset + last.length // 2])
    records, damage = split(list(scan(path)))
    assert [(d.offset, d.reason.split(":")[0]) for d in damage] == [(last.offset, "truncated")]
    assert "no record after it" in damage[0].reason
    assert ids(records) == ids(intact[:-1])


def uncompressed(path: Path, intact: list[tuple[WarcRef, StoredRecord]]) -> bytes:
    data = path.read_bytes()
    return b"".join(gzip.decompress(data[ref.offset:ref.offset + ref.length]) for ref, _ in intact)


def test_uncompressed_warc_with_a_damaged_record(archive: BuiltArchive, tmp_path: Path) -> None:
    intact = list(iter_records(only_file(archive)))
    plain = bytearray(uncompressed(only_file(archive), intact))
    target = tmp_path / "plain.warc"
    target.write_bytes(bytes(plain))
    records, damage = split(list(scan(target)))
    assert damage == [] and ids(records) == ids(intact)
    starts = [ref.offset for ref, _ in records]
    plain[starts[4]:starts[4] + 12] = b"XXXX garbage"  # the record header is gone
    cut = starts[9] + 40
    target.write_bytes(bytes(plain[:cut]) + b"\r\n" + bytes(plain[starts[10]:]))  # record 9 ends early
    records, damage = split(list(scan(target)))
    assert [d.offset for d in damage] == [starts[4], starts[9]]
    assert ids(records) == [i for n, i in enumerate(ids(intact)) if n not in (4, 9)]
    for ref, record in records:
        assert read_record(tmp_path, ref) == record


def test_whole_file_gzip(archive: BuiltArchive, tmp_path: Path) -> None:
    intact = list(iter_records(only_file(archive)))
    plain = uncompressed(only_file(archive), intact)
    target = tmp_path / "whole.warc.gz"
    target.write_bytes(gzip.compress(plain))
    records, damage = split(list(scan(target)))
    assert damage == [] and [r for _, r in records] == [r for _, r in intact]
    # refs are positions in the decompressed stream
    assert [plain[ref.offset:ref.offset + 5] for ref, _ in records] == [b"WARC/"] * len(records)
    # damage near the end: deflate cannot resync inside one member, but what came before it is proven whole
    data = bytearray(target.read_bytes())
    data[len(data) - 200] ^= 0xFF
    target.write_bytes(bytes(data))
    records, damage = split(list(scan(target)))
    assert len(damage) == 1 and damage[0].offset == 0
    assert 10 <= len(records) < len(intact)
    assert ids(records) == ids(intact)[: len(records)]


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    assert list(scan(tmp_path / "empty.warc.gz")) == []


def test_record_whole_before_a_cut_gzip_trailer_is_kept(archive: BuiltArchive) -> None:
    """Only the member's CRC and size are missing: the block digest proves the record whole."""
    path = only_file(archive)
    intact = list(iter_records(path))
    last = intact[-1][0]
    path.write_bytes(path.read_bytes()[: last.offset + last.length - 6])
    records, damage = split(list(scan(path)))
    assert [d.offset for d in damage] == [last.offset] and "truncated" in damage[0].reason
    assert ids(records) == ids(intact)
