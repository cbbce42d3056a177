"""reextract: extraction re-run from the archive alone, extractor version recorded, WARCs stay the truth."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.lookup import ArchiveLookup
from newsarchive.archive.models import Article
from newsarchive.archive.reindex import reindex
from newsarchive.extract.reextract import ReextractOptions, archived_html, reextract
from newsarchive.extract.result import EXTRACTOR_VERSION
from tests.archive_builder import STORY_HTML, BuiltArchive, build_archive


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BuiltArchive:
    built = build_archive(tmp_path / "home")

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("reextract must not use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    return built


def stale(archive: BuiltArchive) -> None:
    with archive.index.session() as s:
        for article in s.query(Article):
            article.text, article.title, article.extractor_version = "stale", "stale", "0-old"


def test_reextract_restores_and_records_version(archive: BuiltArchive, tmp_path: Path) -> None:
    original = {a.url: (a.title, a.text) for a in archive.index.articles()}
    stale(archive)
    report = reextract(archive.index, archive.warc_dir)
    assert (report.articles, report.changed, report.ok, report.failed, report.unreadable) == (2, 2, 2, 0, 0)
    again = archive.index.articles()
    assert {a.url: (a.title, a.text) for a in again} == original
    assert {a.extractor_version for a in again} == {EXTRACTOR_VERSION}
    # the new fields are in the WARCs too: an index rebuilt from them has them
    assert any(p.name.startswith("newsarchive-reextract-") for p in archive.warc_dir.iterdir())
    rebuilt = ArchiveIndex(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    reindex(rebuilt, archive.warc_dir)
    assert {a.metadata_record_id for a in rebuilt.articles()} == {a.metadata_record_id for a in again}


def test_site_filter_and_no_warc(archive: BuiltArchive) -> None:
    stale(archive)
    before = sorted(p.name for p in archive.warc_dir.iterdir())
    report = reextract(archive.index, archive.warc_dir, ReextractOptions(sites=("zeitung",), write_warc=False))
    assert report.articles == 1
    titles = {a.site: a.title for a in archive.index.articles(status=None)}
    assert titles["news"] == "stale" and titles["zeitung"] == "Hafenbrücke wieder geöffnet"
    assert sorted(p.name for p in archive.warc_dir.iterdir()) == before


def test_revisit_resolves_to_the_original_payload(archive: BuiltArchive) -> None:
    lookup = ArchiveLookup(archive.index, archive.warc_dir)
    assert archived_html(lookup, archive.captures["story_304"]) == STORY_HTML
    assert archived_html(lookup, archive.captures["story_revisit"]) == STORY_HTML


def test_unreadable_record_is_counted_not_fatal(archive: BuiltArchive) -> None:
    for path in archive.warc_dir.iterdir():
        path.write_bytes(b"")
    report = reextract(archive.index, archive.warc_dir, ReextractOptions(write_warc=False))
    assert (report.articles, report.unreadable) == (2, 2)


def test_cli(archive: BuiltArchive) -> None:
    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    stale(archive)
    result = CliRunner().invoke(cli, ["reextract", "--home", str(archive.root), "--site", "news", "--no-warc"])
    assert result.exit_code == 0, result.output
    assert f"1 articles re-extracted with {EXTRACTOR_VERSION}: 1 changed, 1 ok" in result.stdout
