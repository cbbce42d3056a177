"""The replay server's pages in headless Chromium (Debian ``chromium`` driven by playwright).

Search, filters, facet counts, sorting, the JSONL/CSV download of a result set, the article view with its
story cluster and versions, the side-by-side diff, the timeline of captures, and the replayed original
under the archive's banner: it renders with its archived image and stylesheet inside the sandboxed frame,
its script cannot read the archive's own pages, and nothing is fetched from anywhere but the archive.
Screenshots are decoded and checked for content (not a blank page); set ``NEWSARCHIVE_SCREENSHOTS=DIR`` to
keep them. Skipped when chromium or playwright is missing.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.web.replay import ReplayOptions, ReplayServer
from tests.archive_builder import BERICHT_URL, STORY_HTML, STORY_URL, Builder, BuiltArchive, at, build_archive
from tests.chromium import chromium_browser

pytestmark = pytest.mark.slow
WIRE_URL = "https://wire.example/world/harbour-bridge-reopens-99.html"


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of a non-interlaced 8-bit PNG, as Chromium writes them."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytes(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = bytes(line)
    return width, height, rows


def colour_stats(png: bytes) -> tuple[float, int]:
    """(share of pixels that are not the most common colour, number of distinct colours), sampled."""
    width, height, rows = png_pixels(png)
    channels = len(rows[0]) // width
    counts: dict[bytes, int] = {}
    for row in rows[::4]:
        for x in range(0, width, 4):
            pixel = row[x * channels:x * channels + 3]
            counts[pixel] = counts.get(pixel, 0) + 1
    total = sum(counts.values())
    return 1 - max(counts.values()) / total, len(counts)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium_browser()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:
    archive: BuiltArchive = build_archive(tmp_path_factory.mktemp("ui") / "home")
    with ReplayServer(archive.index, archive.warc_dir, ReplayOptions(port=0)) as srv:
        yield srv


@pytest.fixture
def page(browser: Any, server: ReplayServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.requested = requested
    yield page
    context.close()
    outside = [u for u in requested if not u.startswith(server.url) and not u.startswith("data:")]
    assert outside == [], "the browser fetched something from outside the archive"


def test_search_filter_article_and_original(page: Any, server: ReplayServer) -> None:
    page.goto(server.url + "/")
    page.fill("input[name=q]", "bridge")
    page.click("button[type=submit]")
    page.wait_for_selector(".hit")
    assert page.locator(".count").inner_text() == "1 article"  # the German report says Brücke
    assert page.locator(".hit a.title").inner_text() == "Harbour bridge reopens after repairs"
    assert page.locator(".hit mark").first.inner_text().lower() == "bridge"
    shot = page.screenshot()
    non_background, colours = colour_stats(shot)
    assert non_background > 0.05 and colours > 10, "the search page rendered blank"

    page.goto(server.url + "/search?q=&lang=de")
    assert page.locator(".hit a.title").all_inner_texts() == ["Hafenbrücke wieder geöffnet"]
    page.select_option("select[name=lang]", "")
    page.select_option("select[name=site]", "news")
    page.click("button[type=submit]")
    assert page.locator(".hit a.title").all_inner_texts() == ["Harbour bridge reopens after repairs"]

    page.click(".hit a.title")
    page.wait_for_selector("h1.article-title")
    assert page.locator("h1.article-title").inner_text() == "Harbour bridge reopens after repairs"
    meta = page.locator("dl.article-meta").inner_text()
    assert "news" in meta and STORY_URL in meta and "Record" in meta
    assert "steel cables had been replaced" in page.locator("article").inner_text()

    page.click("a.original")
    page.wait_for_load_state("load")
    assert page.url == f"{server.url}/web/20240301100000/{STORY_URL}"
    banner = page.locator(".banner").inner_text()
    assert f"Archived copy of {STORY_URL}, captured 2024-03-01 10:00 UTC" in banner and "all 3 captures" in banner
    frame = replay_frame(page)
    assert frame.url == f"{server.url}/web/20240301100000mp_/{STORY_URL}"
    assert frame.locator("article h1").inner_text() == "Harbour bridge reopens after repairs"
    frame.wait_for_function("document.getElementById('photo').complete")
    # the archived image, reached through the rewritten src/srcset (8 when the 2x candidate is taken)
    assert frame.evaluate("document.getElementById('photo').naturalWidth") in (8, 16)
    assert frame.evaluate("document.getElementById('photo').currentSrc").startswith(f"{server.url}/web/2024")
    background = frame.evaluate("getComputedStyle(document.body).backgroundImage")
    assert "/web/20240301100100mp_/https://news.example/img/photo.png" in background  # archived CSS applied
    frame.wait_for_function("document.title === 'BLOCKED' || document.title.startsWith('LEAK')")
    assert frame.title() == "BLOCKED", "an archived script could read the archive's own pages"
    # nor the banner page around it (the frame is an opaque origin)
    assert frame.evaluate("(() => { try { return parent.document.title; } catch (e) { return 'denied'; } })()") \
        == "denied"
    shot = page.screenshot()
    keep(shot, "replay-banner")
    assert colour_stats(shot)[0] > 0.02


def replay_frame(page: Any) -> Any:
    handle = page.wait_for_selector("iframe#replay")
    frame = handle.content_frame()
    frame.wait_for_load_state("load")
    return frame


def keep(png: bytes, name: str) -> None:
    """Keep a screenshot in $NEWSARCHIVE_SCREENSHOTS (to look at); the callers check it for content."""
    where = os.environ.get("NEWSARCHIVE_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        (Path(where) / f"{name}.png").write_bytes(png)


def test_german_article_and_capture_list(page: Any, server: ReplayServer) -> None:
    page.goto(server.url + "/search?q=hafenbrucke")
    page.click(".hit a.title")
    assert page.locator("article").get_attribute("lang") == "de"
    assert "Die Hafenbrücke ist nach achtzehn Monaten" in page.locator("article").inner_text()
    page.goto(f"{server.url}/web/*/{STORY_URL}")
    assert page.locator("table.captures tr").count() == 4  # header + 3 captures
    assert page.locator(".timeline .month b").all_inner_texts() == ["2024-03 · 3"]
    assert page.locator(".timeline a.revisit").count() == 2
    shot = page.screenshot()
    keep(shot, "timeline")
    assert colour_stats(shot)[0] > 0.02
    page.click("table.captures tr:nth-child(3) a")
    # revisit -> original, under the banner naming the revisit's own capture time
    assert replay_frame(page).locator("article h1").inner_text() == "Harbour bridge reopens after repairs"
    assert "captured 2024-03-05 10:00 UTC" in page.locator(".banner").inner_text()
    page.click(".banner a.prev")
    assert "captured 2024-03-01 10:00 UTC" in page.locator(".banner").inner_text()
    page.goto(f"{server.url}/web/2024/{BERICHT_URL}")
    assert replay_frame(page).locator("h1").inner_text() == "Hafenbrücke wieder geöffnet"


# -- a richer archive: a second version of the story and a wire copy of it at another outlet --------------------
STORY_V2_HTML = (STORY_HTML.replace("reopened on Friday morning", "reopened on Friday morning to cheers")
                 .replace("The mayor thanked residents", "A second ferry will run at night. The mayor thanked residents"))
WIRE_HTML = (STORY_HTML.replace('href="/style.css"', 'href="https://wire.example/none.css"')
             .replace("By Jane Reporter", "By Wire Staff"))


def build_rich(root: Path) -> BuiltArchive:
    """build_archive plus (with record ids of their own) version 2 of the story and a wire copy at wire.example."""
    import itertools

    from newsarchive.archive.dedup import cluster_articles
    from newsarchive.archive.warc import HttpExchange, WarcWriter, WarcWriterOptions

    built = build_archive(root)
    b = Builder(root, built.index_url)
    counter = itertools.count(1)
    b.writer = WarcWriter(root / "warcs", WarcWriterOptions(
        prefix="extra", host="builder", clock=lambda: b.clock_value,
        make_record_id=lambda: f"<urn:uuid:00000000-0000-4000-9000-{next(counter):012d}>"))
    html_type = [("Content-Type", "text/html; charset=utf-8")]
    b.exchange("story_v2", HttpExchange(STORY_URL, 200, html_type, STORY_V2_HTML.encode(), fetched_at=at(days=10)),
               kind="article")
    b.article("story_v2", "story_v2", STORY_V2_HTML.encode(), html_type[0][1], "news")
    b.exchange("wire", HttpExchange(WIRE_URL, 200, html_type, WIRE_HTML.encode(), fetched_at=at(days=40)),
               kind="article")
    b.article("wire", "wire", WIRE_HTML.encode(), html_type[0][1], "wire")
    extra = b.close()
    cluster_articles(extra.index)
    built.captures.update(extra.captures)
    built.articles.update(extra.articles)
    return built


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BuiltArchive, ReplayServer]]:
    archive = build_rich(tmp_path_factory.mktemp("rich") / "home")
    with ReplayServer(archive.index, archive.warc_dir, ReplayOptions(port=0)) as srv:
        yield archive, srv


@pytest.fixture
def rich_page(browser: Any, rich: tuple[BuiltArchive, ReplayServer]) -> Iterator[Any]:
    _, server = rich
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    yield page
    context.close()
    assert [u for u in requested if not u.startswith(server.url) and not u.startswith("data:")] == []


def facet(page: Any, name: str) -> dict[str, int]:
    items = page.locator(f"ul.facet-{name} li").all_inner_texts()
    return {value.strip(): int(count) for value, count in (item.rsplit("\n", 1) for item in items)}


def test_facets_sort_and_download(rich_page: Any, rich: tuple[BuiltArchive, ReplayServer]) -> None:
    import csv
    import io
    import json

    page, (_, server) = rich_page, rich
    page.goto(server.url + "/search")
    assert page.locator(".count").inner_text() == "4 articles"
    assert facet(page, "site") == {"news": 2, "wire": 1, "zeitung": 1}
    assert facet(page, "lang") == {"en": 3, "de": 1}
    assert facet(page, "month") == {"2024-04": 1, "2024-03": 3}
    shot = page.screenshot(full_page=True)
    keep(shot, "search-facets")
    assert colour_stats(shot)[0] > 0.05

    page.fill("input[name=q]", "harbour")
    page.select_option("select[name=sort]", "date")
    page.click("button[type=submit]")
    metas = page.locator(".hit .meta").all_inner_texts()
    assert [m.split(" · ")[0] for m in metas] == ["wire", "news", "news"]  # newest first
    assert facet(page, "site") == {"news": 2, "wire": 1}  # counts of this result set only
    page.click("ul.facet-month a:text('2024-03')")  # a month facet narrows the dates to that month
    assert page.locator(".count").inner_text() == "2 articles"
    assert page.locator("input[name=from]").input_value() == "2024-03-01"
    assert page.locator("input[name=to]").input_value() == "2024-03-31"
    assert page.locator("ul.facet-month li.on").inner_text().startswith("2024-03")

    with page.expect_download() as info:
        page.click("a.jsonl")
    rows = [json.loads(line) for line in Path(info.value.path()).read_text(encoding="utf-8").splitlines()]
    assert info.value.suggested_filename == "newsarchive-search.jsonl"
    assert [r["site"] for r in rows] == ["news", "news"] and {r["url"] for r in rows} == {STORY_URL}
    assert rows[0]["fetched_at"] == "2024-03-11T10:00:00+00:00" and "to cheers" in rows[0]["text"]
    with page.expect_download() as info:
        page.click("a.csv")
    table = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert [r["id"] for r in table] == [str(r["id"]) for r in rows]


def test_story_versions_and_diff(rich_page: Any, rich: tuple[BuiltArchive, ReplayServer]) -> None:
    page, (archive, server) = rich_page, rich
    page.goto(f"{server.url}/article/{archive.articles['story_v2'].id}")
    story = page.locator("section.story")
    assert story.locator("h2").inner_text() == "Same story at 2 outlets"
    assert story.locator("li a").all_inner_texts() == ["Harbour bridge reopens after repairs"]  # not version 1
    assert story.locator("li a").get_attribute("href") == f"/article/{archive.articles['wire'].id}"
    assert "wire" in story.inner_text()
    versions = page.locator("section.versions li")
    assert versions.count() == 2 and "(this one)" in versions.nth(1).inner_text()
    shot = page.screenshot(full_page=True)
    keep(shot, "article-story-versions")
    assert colour_stats(shot)[0] > 0.05

    page.click("section.versions a.diff")
    assert page.locator("h1").inner_text() == "Changes in Harbour bridge reopens after repairs"
    headers = page.locator("table.diff th").all_inner_texts()
    assert headers[0].startswith("version 1, captured 2024-03-01") and headers[1].startswith("version 2, captured")
    changed = page.locator("table.diff td.chg").all_inner_texts()
    assert any("to cheers" in c for c in changed) and any("Friday morning after" in c for c in changed)
    assert any("A second ferry" in c for c in changed)
    # within the changed paragraphs, the words that changed
    assert [t.strip() for t in page.locator("table.diff ins").all_inner_texts()] == ["to cheers",
                                                                                   "A second ferry will run at night."]
    assert page.locator("table.diff del").count() == 0  # nothing was taken out
    shot = page.screenshot(full_page=True)
    keep(shot, "diff")
    non_background, colours = colour_stats(shot)
    assert non_background > 0.05 and colours > 10

    page.click("header a:text('Stories')")
    assert page.locator("h1").inner_text() == "1 story at several outlets"
    assert "news, wire" in page.locator("section.story .meta").first.inner_text()
    page.click(f"section.story a[href='/article/{archive.articles['wire'].id}']")
    assert page.locator("h1.article-title").inner_text() == "Harbour bridge reopens after repairs"
    assert WIRE_URL in page.locator("dl.article-meta").inner_text()
