"""CDXJ for our WARCs: agrees with the index and with cdxj-indexer, and pywb replays the archive from it.

pywb is looked up in NEWSARCHIVE_PYWB_BIN (a bin directory, e.g. a separate venv's) or on PATH; its test is
skipped when it is absent. The steps are the ones the README documents.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsarchive.archive.cdxj import write_cdxj
from tests.archive_builder import (
    BERICHT_URL,
    OLD_URL,
    PHOTO,
    PHOTO_URL,
    STORY_HTML,
    STORY_URL,
    BuiltArchive,
    build_archive,
)
from tests.pywb import require_pywb, running_wayback


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return build_archive(tmp_path_factory.mktemp("cdxj") / "home", max_size=3000)


def cdxj_lines(text: str) -> list[tuple[str, str, dict[str, str]]]:
    out = []
    for line in text.splitlines():
        key, ts, data = line.split(" ", 2)
        out.append((key, ts, json.loads(data)))
    return out


def test_cdxj_agrees_with_the_index(archive: BuiltArchive) -> None:
    out = io.StringIO()
    summary = write_cdxj(archive.warc_dir, out)
    lines = cdxj_lines(out.getvalue())
    assert summary.lines == len(lines) == len(archive.captures) == 8
    assert summary.files == len(list(archive.warc_dir.glob("*.warc.gz"))) > 1
    assert [(k, t) for k, t, _ in lines] == sorted((k, t) for k, t, _ in lines)  # pywb binary-searches
    by_place = {(d["filename"], int(d["offset"])): (t, d) for _, t, d in lines}
    for capture in archive.captures.values():
        ts, data = by_place[(capture.warc_file, capture.warc_offset)]
        assert int(data["length"]) == capture.warc_length
        assert data["digest"] == capture.payload_digest and data["url"] == capture.url
        assert ts == capture.fetched_at.strftime("%Y%m%d%H%M%S")
        assert data.get("mime") == "warc/revisit" if capture.record_type == "revisit" else data["status"] == str(
            capture.status)
    assert lines[0][0].startswith("example,news)/")


def test_cdxj_indexer_cli_indexes_our_files(archive: BuiltArchive) -> None:
    indexer = shutil.which("cdxj-indexer") or str(Path(sys.executable).with_name("cdxj-indexer"))
    if not Path(indexer).exists():
        pytest.skip("cdxj-indexer is not installed")
    files = sorted(str(p) for p in archive.warc_dir.glob("*.warc.gz"))
    proc = subprocess.run([indexer, "--sort", "--records", "response,revisit", *files], capture_output=True,
                          text=True, timeout=60, check=True)
    ours = io.StringIO()
    write_cdxj(archive.warc_dir, ours)
    assert proc.stdout == ours.getvalue()
    everything = subprocess.run([indexer, *files], capture_output=True, text=True, timeout=60, check=True).stdout
    metadata = [d for _, _, d in cdxj_lines(everything) if d.get("mime") == "application/json"]
    assert len(metadata) == 2  # the metadata records it would list too, which write_cdxj leaves out


@pytest.fixture(scope="module")
def wayback(archive: BuiltArchive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    manager, server = require_pywb()
    root = tmp_path_factory.mktemp("pywb")
    subprocess.run([manager, "init", "news"], cwd=root, check=True, capture_output=True, timeout=60)
    collection = root / "collections" / "news"
    for warc in archive.warc_dir.glob("*.warc.gz"):
        shutil.copy(warc, collection / "archive" / warc.name)
    with open(collection / "indexes" / "index.cdxj", "w", encoding="utf-8") as fh:
        write_cdxj(archive.warc_dir, fh)
    with running_wayback(server, root, "news") as base:
        yield base


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=15) as resp:
            body, headers = resp.read(), {k.lower(): v for k, v in resp.headers.items()}
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, headers, status = exc.read(), {k.lower(): v for k, v in exc.headers.items()}, exc.code
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return status, body, headers


@pytest.mark.slow
def test_pywb_replays_from_our_cdxj(wayback: str) -> None:
    status, body, _ = fetch(f"{wayback}/20240301100000id_/{STORY_URL}")
    assert status == 200 and body.decode("utf-8") == STORY_HTML
    status, body, headers = fetch(f"{wayback}/20240301100100id_/{PHOTO_URL}")
    assert (status, body) == (200, PHOTO)
    status, body, _ = fetch(f"{wayback}/20240302id_/{BERICHT_URL}")
    assert status == 200 and "Hafenbrücke".encode("iso-8859-1") in body
    status, body, headers = fetch(f"{wayback}/20240305100000id_/{STORY_URL}")  # identical-payload revisit
    assert status == 200 and body.decode("utf-8") == STORY_HTML
    assert "05 Mar 2024" in headers.get("memento-datetime", "")
    status, _, headers = fetch(f"{wayback}/20240301095900id_/{OLD_URL}")
    assert status in (301, 302) and "story-1.html" in headers["location"]


def test_cli_writes_the_same_cdxj(archive: BuiltArchive, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    out = tmp_path / "index.cdxj"
    result = CliRunner().invoke(cli, ["cdxj", "--home", str(archive.root), "-o", str(out)])
    assert result.exit_code == 0 and "8 records of" in result.stderr
    expected = io.StringIO()
    write_cdxj(archive.warc_dir, expected)
    assert out.read_text(encoding="utf-8") == expected.getvalue()
