"""``newsarchive wacz``: the package passes py-wacz's ``wacz validate``, lists the article pages, carries the
originals of its revisits, and importing it back gives the same articles."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.wacz import WaczError, WaczSelection, iter_pages, write_wacz
from newsarchive.archive.warcscan import scan
from newsarchive.cli.main import cli
from newsarchive.service.importer import ImportOptions, import_archives
from tests.archive_builder import BERICHT_URL, STORY_URL, BuiltArchive, at, build_archive


@pytest.fixture
def archive(tmp_path: Path) -> BuiltArchive:
    return build_archive(tmp_path / "src")


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("wacz") or str(Path(sys.executable).parent / "wacz")
    if not Path(tool).exists():
        pytest.skip("py-wacz is not installed (pip install wacz; it is in the test extra)")
    return subprocess.run([tool, "validate", "-f", str(path)], capture_output=True, text=True, timeout=300)


def record_ids(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        data = zf.read("archive/data.warc.gz")
    warc = path.with_suffix(".warc.gz")
    warc.write_bytes(data)
    return [item[1].warc_header("WARC-Record-ID") or "" for item in scan(warc) if isinstance(item, tuple)]


def test_package_validates_and_imports_back_to_the_same_articles(archive: BuiltArchive, tmp_path: Path) -> None:
    out = tmp_path / "all.wacz"
    result = write_wacz(archive.index, archive.warc_dir, out, title="test archive")
    checked = validate(out)
    assert checked.returncode == 0 and "Validation succeeded" in checked.stdout, checked.stdout
    assert result.captures == len(archive.captures) and result.pages == 2
    with zipfile.ZipFile(out) as zf:
        names = {i.filename: i for i in zf.infolist()}
        package = json.loads(zf.read("datapackage.json"))
        digest = json.loads(zf.read("datapackage-digest.json"))
    assert names["archive/data.warc.gz"].compress_type == zipfile.ZIP_STORED
    assert {r["path"] for r in package["resources"]} == {"archive/data.warc.gz", "indexes/index.cdxj",
                                                         "pages/pages.jsonl"}
    assert package["wacz_version"] == "1.1.1" and digest["path"] == "datapackage.json"
    pages = {p["url"]: p for p in iter_pages(out)}
    assert set(pages) == {STORY_URL, BERICHT_URL} and pages[STORY_URL]["title"] == archive.articles["story"].title

    back = ArchiveIndex(f"sqlite:///{tmp_path / 'back.sqlite'}")
    report = import_archives(back, tmp_path / "back", [out], ImportOptions(workers=0))
    assert report.captures == len(archive.captures) and not report.damaged

    def articles(index: ArchiveIndex) -> set[tuple[str, str | None, str]]:
        return {(a.url, a.title, a.text) for a in index.articles()}

    assert articles(back) == articles(archive.index) and len(articles(back)) == 2
    back.close()


def test_selection_by_site_and_time_keeps_revisit_originals(archive: BuiltArchive, tmp_path: Path) -> None:
    zeitung = write_wacz(archive.index, archive.warc_dir, tmp_path / "zeitung.wacz", WaczSelection(sites=("zeitung",)))
    assert zeitung.captures == 1 and [p["url"] for p in iter_pages(zeitung.path)] == [BERICHT_URL]
    late = write_wacz(archive.index, archive.warc_dir, tmp_path / "late.wacz", WaczSelection(since=at(days=3)))
    ids = record_ids(Path(late.path))
    story, revisit, not_modified = (archive.captures[k] for k in ("story", "story_revisit", "story_304"))
    assert {story.record_id, revisit.record_id, not_modified.record_id} <= set(ids) and late.captures == 3
    assert validate(Path(late.path)).returncode == 0
    with pytest.raises(WaczError, match="no captures"):
        write_wacz(archive.index, archive.warc_dir, tmp_path / "none.wacz", WaczSelection(sites=("nobody",)))


def test_cli(archive: BuiltArchive, tmp_path: Path) -> None:
    out = tmp_path / "cli.wacz"
    args = ["wacz", str(out), "--home", str(archive.root), "--index-url", archive.index_url, "--site", "news"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0 and "captures" in first.output, first.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "exists" in again.output
