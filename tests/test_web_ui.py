"""The replay server's pages in headless Chromium (Debian ``chromium`` driven by playwright).

Search, filters, the article view, the link to the replayed original; the replayed page renders with its
archived image and stylesheet, its script cannot read the archive's own pages, and nothing is fetched from
anywhere but the archive. Screenshots are decoded and checked for content (not a blank page).
Skipped when chromium or playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.web.replay import ReplayOptions, ReplayServer
from tests.archive_builder import BERICHT_URL, STORY_URL, BuiltArchive, build_archive

CHROMIUM = os.environ.get("NEWSARCHIVE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"chromium is not installed ({CHROMIUM}; apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; no `playwright install` needed)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


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
    assert page.locator("article h1").inner_text() == "Harbour bridge reopens after repairs"
    page.wait_for_function("document.getElementById('photo').complete")
    # the archived image, reached through the rewritten src/srcset (8 when the 2x candidate is taken)
    assert page.evaluate("document.getElementById('photo').naturalWidth") in (8, 16)
    assert page.evaluate("document.getElementById('photo').currentSrc").startswith(f"{server.url}/web/2024")
    background = page.evaluate("getComputedStyle(document.body).backgroundImage")
    assert "/web/20240301100100/https://news.example/img/photo.png" in background  # archived CSS applied
    page.wait_for_function("document.title === 'BLOCKED' || document.title.startsWith('LEAK')")
    assert page.title() == "BLOCKED", "an archived script could read the archive's own pages"
    shot = page.screenshot()
    assert colour_stats(shot)[0] > 0.02


def test_german_article_and_capture_list(page: Any, server: ReplayServer) -> None:
    page.goto(server.url + "/search?q=hafenbrucke")
    page.click(".hit a.title")
    assert page.locator("article").get_attribute("lang") == "de"
    assert "Die Hafenbrücke ist nach achtzehn Monaten" in page.locator("article").inner_text()
    page.goto(f"{server.url}/web/*/{STORY_URL}")
    assert page.locator("table.captures tr").count() == 4  # header + 3 captures
    page.click("table.captures tr:nth-child(3) a")
    assert page.locator("article h1").inner_text() == "Harbour bridge reopens after repairs"  # revisit -> original
    page.goto(f"{server.url}/web/2024/{BERICHT_URL}")
    assert page.locator("h1").inner_text() == "Hafenbrücke wieder geöffnet"
