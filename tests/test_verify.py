"""verify: digests, whole gzip members, index/file agreement; problems carry path and offset."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from newsarchive.archive.models import Article, Capture
from newsarchive.archive.verify import digest_matches, scan_members, verify_archive
from newsarchive.archive.warc import WarcReadError
from tests.archive_builder import BuiltArchive, build_archive


@pytest.fixture
def archive(tmp_path: Path) -> BuiltArchive:
    return build_archive(tmp_path / "home")


def only_file(archive: BuiltArchive) -> Path:
    files = list(archive.warc_dir.glob("*.warc.gz"))
    assert len(files) == 1
    return files[0]


def test_intact_archive_passes(archive: BuiltArchive) -> None:
    report = verify_archive(archive.index, archive.warc_dir)
    assert report.problems == []
    assert (report.files, report.captures) == (1, 8)
    assert report.records == 1 + 8 * 2 + 2  # warcinfo, response/revisit + request each, two metadata


def test_digest_forms() -> None:
    assert digest_matches("sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", b"")
    assert digest_matches("sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709", b"")
    assert not digest_matches("sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", b"x")


def test_truncated_copy_is_reported_with_path_and_offset(archive: BuiltArchive) -> None:
    path = only_file(archive)
    members = list(scan_members(path))
    cut = members[-3].offset + members[-3].length // 2
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(WarcReadError, match="truncated"):
        list(scan_members(path))
    report = verify_archive(archive.index, archive.warc_dir)
    truncated = [p for p in report.problems if p.kind == "truncated"]
    assert [(p.path, p.offset) for p in truncated] == [(str(path), members[-3].offset)]
    # the index rows after the cut point at records that are no longer there
    assert any(p.kind == "no-record" for p in report.problems)
    assert not report.ok


def test_flipped_byte_is_reported_at_its_record(archive: BuiltArchive) -> None:
    path = only_file(archive)
    story = archive.captures["story"]
    data = bytearray(path.read_bytes())
    data[story.warc_offset + story.warc_length // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_archive(archive.index, archive.warc_dir)
    assert report.problems and report.problems[0].path == str(path)
    assert report.problems[0].offset == story.warc_offset
    assert report.problems[0].kind == "corrupt"
    assert str(path) in str(report.problems[0]) and str(story.warc_offset) in str(report.problems[0])


def test_payload_changed_inside_a_valid_gzip_member(archive: BuiltArchive) -> None:
    """Recompressed after a change: the gzip CRC is fine, the WARC digests are not."""
    path = only_file(archive)
    css = archive.captures["css"]
    data = path.read_bytes()
    record = gzip.decompress(data[css.warc_offset:css.warc_offset + css.warc_length])
    tampered = gzip.compress(record.replace(b"#fff", b"#000"))
    path.write_bytes(data[:css.warc_offset] + tampered + data[css.warc_offset + css.warc_length:])
    report = verify_archive(archive.index, archive.warc_dir)
    kinds = {(p.kind, p.offset) for p in report.problems}
    assert ("block-digest", css.warc_offset) in kinds and ("payload-digest", css.warc_offset) in kinds
    if len(tampered) != css.warc_length:  # later records moved: the index no longer agrees with the file
        assert any(p.kind == "no-record" for p in report.problems)


def test_index_disagreeing_with_files(archive: BuiltArchive, tmp_path: Path) -> None:
    with archive.index.session() as s:
        photo = s.get(Capture, archive.captures["photo"].id)
        css = s.get(Capture, archive.captures["css"].id)
        assert photo is not None and css is not None
        photo.payload_digest = "sha1:AAAA"
        css.warc_offset += 1
    report = verify_archive(archive.index, archive.warc_dir)
    kinds = {(p.kind, p.offset) for p in report.problems}
    assert ("index-mismatch", archive.captures["photo"].warc_offset) in kinds
    assert ("no-record", archive.captures["css"].warc_offset + 1) in kinds
    assert ("unindexed", archive.captures["css"].warc_offset) in kinds


def test_missing_file(archive: BuiltArchive, tmp_path: Path) -> None:
    path = only_file(archive)
    shutil.move(path, tmp_path / "elsewhere.warc.gz")
    report = verify_archive(archive.index, archive.warc_dir)
    assert {p.kind for p in report.problems} == {"missing-file", "missing-record"}  # + the articles' metadata
    assert all(p.path == str(path) for p in report.problems if p.kind == "missing-file")


def test_cli_reports_problems_and_exit_status(archive: BuiltArchive) -> None:
    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    runner = CliRunner()
    ok = runner.invoke(cli, ["verify", "--home", str(archive.root)])
    assert ok.exit_code == 0 and "0 problem(s)" in ok.stderr
    path = only_file(archive)
    path.write_bytes(path.read_bytes()[:-100])
    bad = runner.invoke(cli, ["verify", "--home", str(archive.root)])
    assert bad.exit_code == 1 and f"{path} @ " in bad.stdout and "truncated" in bad.stdout
    assert "Traceback" not in bad.output


def test_reading_resumes_after_a_corrupt_member(archive: BuiltArchive) -> None:
    """Flipped bytes cost their own records only: later intact records are neither missing nor unindexed."""
    path = only_file(archive)
    members = list(scan_members(path))
    hit = [archive.captures["story"].warc_offset, archive.captures["css"].warc_offset]
    data = bytearray(path.read_bytes())
    for offset in hit:
        length = next(m.length for m in members if m.offset == offset)
        data[offset + length // 2] ^= 0x04
    path.write_bytes(bytes(data))
    report = verify_archive(archive.index, archive.warc_dir)
    assert report.records == len(members) - 2
    linked = ("missing-record", "missing-original")  # links to the damaged records (revisits, articles)
    assert sorted((p.kind, p.offset) for p in report.problems if p.kind not in linked) == sorted(
        [("corrupt", o) for o in hit] + [("no-record", o) for o in hit])
    corrupt = [p for p in report.problems if p.kind == "corrupt"]
    assert all(p.path == str(path) and "resumed at offset" in p.detail for p in corrupt)
    lost = {archive.captures["story"].record_id, archive.captures["css"].record_id}
    with archive.index.sessions() as s:
        lost |= {a.metadata_record_id for a in s.scalars(select(Article)) if a.capture_id in
                 {archive.captures["story"].id, archive.captures["css"].id}}
    assert all(any(str(i) in p.detail for i in lost) for p in report.problems if p.kind in linked)
