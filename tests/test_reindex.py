"""reindex: an index rebuilt from the WARC files alone equals the one the crawl wrote."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.reindex import ReindexError, reindex
from newsarchive.archive.verify import scan_members
from tests.archive_builder import BuiltArchive, build_archive

CAPTURE_FIELDS = ("url", "canonical_url", "url_key", "host", "method", "status", "fetched_at", "content_type",
                  "content_length", "payload_digest", "record_type", "record_id", "warc_file", "warc_offset",
                  "warc_length", "request_record_id", "refers_to_record_id", "etag", "last_modified", "location",
                  "kind")
ARTICLE_FIELDS = ("url", "canonical_url", "site", "status", "reason", "title", "author", "published", "modified",
                  "date_source", "language", "section", "description", "text", "word_count", "text_hash",
                  "extractor", "extractor_version", "metadata_record_id", "fetched_at")


def snapshot(index: ArchiveIndex) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
    """Captures and articles keyed by WARC record id (row ids may differ)."""
    with index.sessions() as s:
        captures = {c.record_id: tuple(getattr(c, f) for f in CAPTURE_FIELDS) for c in s.scalars(select(Capture))}
        for c in s.scalars(select(Capture).where(Capture.status == 304)):
            # a 304 is stored as an empty-block revisit: its own response headers are not in the WARC
            captures[c.record_id] = tuple(None if f in ("etag", "last_modified", "content_type") else getattr(c, f)
                                          for f in CAPTURE_FIELDS)
        articles = {}
        for a, record_id in s.execute(select(Article, Capture.record_id).join(Capture)):
            articles[record_id] = tuple(getattr(a, f) for f in ARTICLE_FIELDS)
    return captures, articles


@pytest.fixture
def archive(tmp_path: Path) -> BuiltArchive:
    # small files: records of one exchange end up in different files, so links cross files
    return build_archive(tmp_path / "home", max_size=3000)


def test_rebuilt_index_equals_original(archive: BuiltArchive, tmp_path: Path) -> None:
    assert len(list(archive.warc_dir.iterdir())) > 2
    rebuilt = ArchiveIndex(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    report = reindex(rebuilt, archive.warc_dir)
    assert report.problems == []
    assert (report.captures, report.articles) == (8, 2)
    original, again = snapshot(archive.index), snapshot(rebuilt)
    assert again[0] == original[0]
    assert again[1] == original[1]
    assert {a.site for a in rebuilt.articles()} == {"news", "zeitung"}


def test_refuses_a_non_empty_index(archive: BuiltArchive) -> None:
    with pytest.raises(ReindexError, match="not empty"):
        reindex(archive.index, archive.warc_dir)


def test_truncated_file_keeps_records_before_the_cut(archive: BuiltArchive, tmp_path: Path) -> None:
    warcs = tmp_path / "cut"
    shutil.copytree(archive.warc_dir, warcs)
    biggest = max(warcs.iterdir(), key=lambda p: p.stat().st_size)
    data = biggest.read_bytes()
    biggest.write_bytes(data[: len(data) - 40])
    last = list(scan_members(archive.warc_dir / biggest.name))[-1]
    total = sum(len(list(scan_members(p))) for p in archive.warc_dir.iterdir())
    rebuilt = ArchiveIndex(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    report = reindex(rebuilt, warcs)
    assert [(p.path, p.offset) for p in report.problems] == [(str(biggest), last.offset)]
    assert "truncated" in report.problems[0].reason
    assert report.records == total - 1  # every record before the cut, in that file and the others


def test_newest_metadata_record_wins(archive: BuiltArchive, tmp_path: Path) -> None:
    from datetime import timedelta

    from newsarchive.archive.warc import WarcWriter, WarcWriterOptions

    story = archive.captures["story"]
    fields = {"url": story.url, "status": "ok", "title": "Re-extracted title", "text": "new text " * 20,
              "word_count": 40, "text_hash": "x", "extractor": "e", "extractor_version": "99",
              "newsarchive_site": "news"}
    with WarcWriter(archive.warc_dir, WarcWriterOptions(prefix="zz-reextract")) as writer:
        writer.write_metadata(story.url, story.record_id, fields, moment=story.fetched_at + timedelta(days=30))
    rebuilt = ArchiveIndex(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    reindex(rebuilt, archive.warc_dir)
    titles = {a.title for a in rebuilt.articles()}
    assert "Re-extracted title" in titles and len(titles) == 2


def test_cli(archive: BuiltArchive, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    result = CliRunner().invoke(cli, ["reindex", "--home", str(archive.root), "--index-url", url])
    assert result.exit_code == 0, result.output
    assert "8 captures, 2 articles indexed" in result.stdout
    again = CliRunner().invoke(cli, ["reindex", "--home", str(archive.root), "--index-url", url])
    assert again.exit_code == 2 and "not empty" in again.stderr and "Traceback" not in again.output


def test_kind_and_site_extension_fields(tmp_path: Path) -> None:
    """When the writer records the crawl's page kind and site name in the WARC, reindex restores them."""
    import io
    import json

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    warcs = tmp_path / "warcs"
    warcs.mkdir()
    with open(warcs / "x-20240101000000000-00001-h.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        http = StatusAndHeaders("200 OK", [("Content-Type", "application/rss+xml")], protocol="HTTP/1.1")
        feed = writer.create_warc_record("https://n.example/feed.xml", "response", payload=io.BytesIO(b"<rss/>"),
                                         http_headers=http, warc_headers_dict={"Newsarchive-Kind": "feed"})
        writer.write_record(feed)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        page = writer.create_warc_record("https://n.example/a.html", "response", payload=io.BytesIO(b"<p>x</p>"),
                                         http_headers=http, warc_headers_dict={"Newsarchive-Kind": "article",
                                                                               "Newsarchive-Site": "n-site"})
        writer.write_record(page)
        fields = {"url": "https://n.example/a.html", "status": "ok", "text": "x", "word_count": 1}
        meta = writer.create_warc_record("https://n.example/a.html", "metadata",
                                         payload=io.BytesIO(json.dumps(fields).encode()),
                                         warc_content_type="application/json",
                                         warc_headers_dict={"WARC-Concurrent-To":
                                                            page.rec_headers.get_header("WARC-Record-ID")})
        writer.write_record(meta)
    index = ArchiveIndex(f"sqlite:///{tmp_path / 'x.sqlite'}")
    report = reindex(index, warcs)
    assert (report.captures, report.articles) == (2, 1)
    with index.sessions() as s:
        assert {c.url: c.kind for c in s.scalars(select(Capture))} == {
            "https://n.example/feed.xml": "feed", "https://n.example/a.html": "article"}
    assert [a.site for a in index.articles()] == ["n-site"]


def test_corrupt_members_cost_only_their_records(archive: BuiltArchive, tmp_path: Path) -> None:
    """Flipped bytes in two records of a file: every other record of that file is still rebuilt."""
    from newsarchive.archive.warc import iter_records

    warcs = tmp_path / "flipped"
    shutil.copytree(archive.warc_dir, warcs)
    path = max(warcs.iterdir(), key=lambda p: len(list(scan_members(p))))
    records = list(iter_records(path))
    assert len(records) >= 4
    hit = [records[1], records[-2]]
    data = bytearray(path.read_bytes())
    for ref, _ in hit:
        data[ref.offset + ref.length // 2] ^= 0x08
    path.write_bytes(bytes(data))
    total = sum(len(list(scan_members(p))) for p in archive.warc_dir.iterdir())
    rebuilt = ArchiveIndex(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    report = reindex(rebuilt, warcs)
    assert [(p.path, p.offset) for p in report.problems] == [(str(path), ref.offset) for ref, _ in hit]
    assert report.records == total - 2
    lost_ids = {r.warc_header("WARC-Record-ID") for _, r in hit}
    original, again = snapshot(archive.index), snapshot(rebuilt)
    assert set(again[0]) == set(original[0]) - lost_ids
    lost_articles = {r.warc_header("WARC-Concurrent-To") for _, r in hit if r.rec_type == "metadata"} | lost_ids
    assert set(again[1]) == set(original[1]) - lost_articles


def test_cli_reports_each_damaged_region(archive: BuiltArchive, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsarchive.archive.warc import iter_records
    from newsarchive.cli.main import cli

    path = max(archive.warc_dir.iterdir(), key=lambda p: len(list(scan_members(p))))
    ref = list(iter_records(path))[1][0]
    data = bytearray(path.read_bytes())
    data[ref.offset + ref.length // 2] ^= 0x08
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["reindex", "--home", str(archive.root), "--index-url",
                                      f"sqlite:///{tmp_path / 'rebuilt.sqlite'}"])
    assert result.exit_code == 1, result.output
    assert f"damaged: {path} at offset {ref.offset}: corrupt gzip member" in result.stderr
    assert "1 damaged region(s) skipped" in result.stderr and "Traceback" not in result.output
