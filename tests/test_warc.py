from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import subprocess
import sys
from base64 import b32encode
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newsarchive.archive.warc import (
    REVISIT_NOT_MODIFIED,
    HttpExchange,
    Revisit,
    WarcReadError,
    WarcRef,
    WarcWriter,
    WarcWriterOptions,
    decoded_body,
    iter_records,
    read_record,
    recover_open_files,
)

HTML = b"<html><body><p>Putin will Nordkorea besuchen.</p></body></html>"


def fixed_options(**kw: object) -> WarcWriterOptions:
    clock = itertools.count()
    ids = itertools.count(1)
    start = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)
    return WarcWriterOptions(
        host="test", clock=lambda: start + timedelta(seconds=next(clock)),
        make_record_id=lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(ids):012d}>", **kw,  # type: ignore[arg-type]
    )


def exchange(url: str = "http://127.0.0.1/a.html", body: bytes = HTML, **kw: object) -> HttpExchange:
    headers = kw.pop("headers", [("Content-Type", "text/html; charset=utf-8"), ("X-Odd-Case", "Keep")])
    return HttpExchange(url=url, status=200, response_headers=headers, body=body,  # type: ignore[arg-type]
                        request_headers=[("Host", "127.0.0.1"), ("User-Agent", "t")], ip_address="127.0.0.1",
                        fetched_at=datetime(2024, 1, 15, 10, 0, 1, tzinfo=UTC), **kw)  # type: ignore[arg-type]


def sha1(data: bytes) -> str:
    return "sha1:" + b32encode(hashlib.sha1(data).digest()).decode()


def test_gzip_body_is_stored_as_received(tmp_path: Path) -> None:
    raw = gzip.compress(HTML)
    with WarcWriter(tmp_path, fixed_options()) as writer:
        rec = writer.write_exchange(exchange(body=raw, headers=[("Content-Type", "text/html"),
                                                                ("Content-Encoding", "gzip")]))
    stored = read_record(tmp_path, rec.ref)
    assert stored.payload == raw  # still compressed, header kept
    assert stored.http_header("Content-Encoding") == "gzip"
    assert decoded_body(stored) == HTML
    assert rec.payload_digest == sha1(raw) == stored.warc_header("WARC-Payload-Digest")
    assert stored.warc_header("WARC-IP-Address") == "127.0.0.1"


def test_file_layout_warcinfo_first_and_linked_records(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, fixed_options())
    rec = writer.write_exchange(exchange())
    assert list(tmp_path.glob("*.warc.gz.open")), "written to .open while in use"
    meta_ref, meta_id = writer.write_metadata(rec.ref.path and "http://127.0.0.1/a.html", rec.record_id, {"title": "T"})
    writer.close()
    assert not list(tmp_path.glob("*.open"))
    (path,) = tmp_path.glob("*.warc.gz")
    assert path.name.startswith("newsarchive-20240115100000") and path.name.endswith("-00001-test.warc.gz")
    records = list(iter_records(path))
    types = [r.rec_type for _, r in records]
    assert types == ["warcinfo", "response", "request", "metadata"]
    assert all(r.warc_header("WARC-Type") for _, r in records)
    request = records[2][1]
    assert request.warc_header("WARC-Concurrent-To") == rec.record_id
    assert f"{request.protocol} {request.status_line}" == "GET /a.html HTTP/1.1"
    meta = records[3][1]
    assert json.loads(meta.payload) == {"title": "T"} and meta.warc_header("WARC-Concurrent-To") == rec.record_id
    assert records[0][1].warc_header("WARC-Filename") == path.name
    for ref, stored in records:  # every offset the iterator reports reads back alone
        assert read_record(tmp_path, ref).warc_header("WARC-Record-ID") == stored.warc_header("WARC-Record-ID")
    assert read_record(tmp_path, meta_ref).warc_header("WARC-Record-ID") == meta_id
    for member in _gzip_members(path.read_bytes()):
        assert member.startswith(b"WARC/1.1\r\n")  # one gzip member per record


def _gzip_members(data: bytes) -> list[bytes]:
    import zlib

    out = []
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out.append(d.decompress(data))
        data = d.unused_data
    return out


def test_warcio_check_passes_and_order_of_headers_kept(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, fixed_options()) as writer:
        rec = writer.write_exchange(exchange(headers=[("Zeta", "1"), ("alpha", "2"), ("Set-Cookie", "a=1"),
                                                      ("Set-Cookie", "b=2")]))
    stored = read_record(tmp_path, rec.ref)
    assert stored.http_headers == [("Zeta", "1"), ("alpha", "2"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    (path,) = tmp_path.glob("*.warc.gz")
    out = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
                         capture_output=True, text=True)
    if "No module named warcio.cli" in out.stderr:
        out = subprocess.run([str(Path(sys.executable).with_name("warcio")), "check", "-v", str(path)],
                             capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("digest pass") >= 2


def test_injected_clock_and_ids_make_output_reproducible(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        directory = tmp_path / name
        with WarcWriter(directory, fixed_options(software="newsarchive/test")) as writer:
            writer.write_exchange(exchange())
        (path,) = directory.glob("*.warc.gz")
        outputs.append(path.read_bytes())
    # warcinfo carries the machine's host name; everything after it must be byte-identical
    assert outputs[0].split(b"\x1f\x8b")[2:] == outputs[1].split(b"\x1f\x8b")[2:]


def test_rotation_by_size(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, fixed_options(max_size=2000)) as writer:
        refs = [writer.write_exchange(exchange(url=f"http://127.0.0.1/{i}", body=HTML * 10)).ref for i in range(12)]
    files = sorted(p.name for p in tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3 and not list(tmp_path.glob("*.open"))
    assert [f.split("-")[2] for f in files] == [f"{i:05d}" for i in range(1, len(files) + 1)]
    for ref in refs:
        assert read_record(tmp_path, ref).payload == HTML * 10
    for name in files:  # every file starts with its own warcinfo
        first = next(iter(ArchiveIterator(open(tmp_path / name, "rb"))))
        assert first.rec_type == "warcinfo"


def test_revisit_not_modified_has_empty_block_and_refers_to_original(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, fixed_options()) as writer:
        original = writer.write_exchange(exchange())
        revisit = writer.write_exchange(
            HttpExchange(url="http://127.0.0.1/a.html", status=304, response_headers=[("ETag", '"x"')], body=b""),
            revisit=Revisit("http://127.0.0.1/a.html", original.fetched_at, original.record_id,
                            original.payload_digest, REVISIT_NOT_MODIFIED),
        )
    stored = read_record(tmp_path, revisit.ref)
    assert stored.rec_type == "revisit" and stored.payload == b"" and stored.http_headers == []
    assert stored.warc_header("Content-Length") == "0", "a 304 is an empty-block revisit"
    assert stored.warc_header("WARC-Profile") == REVISIT_NOT_MODIFIED
    assert stored.warc_header("WARC-Refers-To") == original.record_id
    assert stored.warc_header("WARC-Refers-To-Target-URI") == "http://127.0.0.1/a.html"
    assert stored.warc_header("WARC-Payload-Digest") == original.payload_digest


def test_read_errors_name_path_and_offset(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, fixed_options()) as writer:
        rec = writer.write_exchange(exchange())
    with pytest.raises(WarcReadError, match="offset 3"):
        read_record(tmp_path, WarcRef(rec.ref.path, 3, rec.ref.length))
    with pytest.raises(WarcReadError, match="truncated"):
        read_record(tmp_path, WarcRef(rec.ref.path, rec.ref.offset, 10**7))
    with pytest.raises(WarcReadError, match="No such file"):
        read_record(tmp_path, WarcRef("missing.warc.gz", 0, 10))


def test_recover_open_file_after_crash(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, fixed_options())
    refs = [writer.write_exchange(exchange(url=f"http://127.0.0.1/{i}")).ref for i in range(3)]
    assert writer._fh is not None
    writer._fh.flush()
    (open_path,) = tmp_path.glob("*.open")
    size = open_path.stat().st_size
    with open(open_path, "r+b") as fh:  # a kill mid-record: the last record is cut in half
        fh.truncate(size - 100)
    other = tmp_path / "newsarchive-20240101000000000-00001-otherworker.warc.gz.open"
    other.write_bytes(b"live file of another worker")
    done = recover_open_files(tmp_path, host="test")
    assert len(done) == 1 and other.exists(), "another worker's file is never touched"
    (path,) = tmp_path.glob("*-test.warc.gz")
    records = list(iter_records(path))
    # warcinfo + 2 complete exchanges + the response of the third (its request was cut)
    assert [r.rec_type for _, r in records] == ["warcinfo"] + ["response", "request"] * 2 + ["response"]
    assert read_record(tmp_path, refs[1]).payload == HTML
    gzip.decompress(path.read_bytes())  # the whole file is valid gzip again
