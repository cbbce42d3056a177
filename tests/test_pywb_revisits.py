"""Interoperability: pywb replays our revisit records as the original page; cdxj-indexer indexes our WARCs.

pywb is found through NEWSARCHIVE_PYWB_BIN (a bin directory, as .ci/run sets up) or PATH.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Capture
from newsarchive.demo.content import load_stories
from tests.pywb import require_pywb, running_wayback

pytestmark = pytest.mark.slow  # whole crawls and a real replay client

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=1"]


@pytest.fixture
def recrawled(tmp_path: Path, fresh_demo_sites: Any) -> tuple[Path, Any]:
    """The demo crawled twice, the second time refetching everything: 304 and identical revisits."""
    toml = fresh_demo_sites.sites_toml()
    sites = tmp_path / "sites.toml"
    for text in (toml, toml.replace("[defaults]\n", '[defaults]\nrecrawl = "always"\n', 1)):
        sites.write_text(text, encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "newsarchive", "crawl", "--sites", str(sites), "--home",
                               str(tmp_path), *FAST], capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr
    return tmp_path, fresh_demo_sites


@pytest.fixture
def wayback(recrawled: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    manager, server = require_pywb()
    home, _ = recrawled
    root = tmp_path_factory.mktemp("pywb")
    warcs = sorted(str(p) for p in ArchiveHome.resolve(home).warc_dir.glob("*.warc.gz"))
    subprocess.run([manager, "init", "demo"], cwd=root, check=True, capture_output=True, timeout=60)
    subprocess.run([manager, "add", "demo", *warcs], cwd=root, check=True, capture_output=True, timeout=120)
    with running_wayback(server, root, "demo") as base:
        yield base


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def replayed_time(headers: dict[str, str]) -> str:
    """The capture pywb answered with (Memento-Datetime), as a 14-digit stamp."""
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(headers["Memento-Datetime"]).strftime("%Y%m%d%H%M%S")


def stamp(capture: Capture) -> str:
    return capture.fetched_at.strftime("%Y%m%d%H%M%S")


def test_pywb_replays_revisits_as_the_original(wayback: str, recrawled: tuple[Path, Any]) -> None:
    home, server = recrawled
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        revisits = list(s.scalars(select(Capture).where(Capture.record_type == "revisit")))
    not_modified = [c for c in revisits if c.status == 304]
    identical = [c for c in revisits if c.status == 200 and c.kind == "section"]
    assert not_modified and identical
    story = load_stories()[4]
    sentence = story.body_sentences()[1][:50].encode()
    article = next(c for c in not_modified if story.slug in c.url)
    status, body, headers = fetch(f"{wayback}/{stamp(article)}id_/{article.url}")
    assert replayed_time(headers) == stamp(article), "pywb answered with the revisit capture itself"
    assert status == 200 and sentence in body, "a 304 revisit replays as the original page"
    section = identical[0]
    status, body, headers = fetch(f"{wayback}/{stamp(section)}id_/{section.url}")
    assert replayed_time(headers) == stamp(section)
    assert status == 200 and b"<html" in body.lower()


def test_cdxj_indexer_indexes_every_record(recrawled: tuple[Path, Any]) -> None:
    home, _ = recrawled
    indexer = shutil.which("cdxj-indexer") or str(Path(sys.executable).with_name("cdxj-indexer"))
    if not Path(indexer).exists():
        pytest.skip("cdxj-indexer is not installed")
    warcs = sorted(str(p) for p in ArchiveHome.resolve(home).warc_dir.glob("*.warc.gz"))
    out = subprocess.run([indexer, *warcs], capture_output=True, text=True, timeout=120, check=True).stdout
    lines = [json.loads(line.split(" ", 2)[2]) for line in out.splitlines() if line.strip()]
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        captures = list(s.scalars(select(Capture)))
    assert sum(1 for d in lines if d.get("mime") == "warc/revisit") == sum(c.record_type == "revisit" for c in captures)
    offsets = {(d["filename"], int(d["offset"])) for d in lines}
    assert all((c.warc_file, c.warc_offset) in offsets for c in captures)


# -- metadata records must not hide the article from pywb (by either documented route) --------------------------
@pytest.fixture
def built(tmp_path: Path) -> Any:
    from tests.archive_builder import build_archive

    return build_archive(tmp_path / "home")


def pywb_collection(built: Any, root: Path, route: str) -> None:
    """A pywb collection of the archive's WARCs, indexed by ``wb-manager add`` or by ``newsarchive cdxj``."""
    manager, _ = require_pywb()
    warcs = sorted(str(p) for p in built.warc_dir.glob("*.warc.gz"))
    subprocess.run([manager, "init", "news"], cwd=root, check=True, capture_output=True, timeout=60)
    if route == "wb-manager add":
        subprocess.run([manager, "add", "news", *warcs], cwd=root, check=True, capture_output=True, timeout=120)
        return
    for warc in warcs:
        shutil.copy(warc, root / "collections" / "news" / "archive")
    subprocess.run([sys.executable, "-m", "newsarchive", "cdxj", "--home", str(built.root), "-o",
                    str(root / "collections" / "news" / "indexes" / "index.cdxj")], check=True, capture_output=True,
                   timeout=120)


@pytest.mark.parametrize("route", ["wb-manager add", "newsarchive cdxj"])
def test_pywb_shows_the_article_not_its_metadata(built: Any, tmp_path: Path, route: str) -> None:
    from tests.archive_builder import BERICHT_URL, STORY_URL

    _, server = require_pywb()
    root = tmp_path / "pywb"
    root.mkdir()
    pywb_collection(built, root, route)
    story, bericht = built.captures["story"], built.captures["bericht"]
    with running_wayback(server, root, "news") as base:
        for capture, url, words in ((story, STORY_URL, b"harbour bridge reopened"),
                                    (bericht, BERICHT_URL, "Hafenbrücke".encode("iso-8859-1"))):
            for mode in ("id_/", "/", "mp_/"):  # the original bytes, the framed page, the page in the frame
                status, body, headers = fetch(f"{base}/{stamp(capture)}{mode.rstrip('/')}/{url}".replace("//http",
                                                                                                         "/http"))
                assert status == 200, (route, mode, status)
                if mode != "/":  # the top frame is pywb's own page around the capture
                    assert "json" not in headers.get("Content-Type", ""), (route, mode, headers)
                    assert words in body, (route, mode, body[:200])
