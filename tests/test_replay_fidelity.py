"""Replay fidelity: a demo article served live and the same article replayed from the archive (by
``newsarchive replay``, and by pywb where installed) look the same in headless Chromium, and the replayed
page asks nothing of the live site.

Needs Debian's chromium (``apt-get install chromium``), playwright (no browser download) and Pillow.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.web.replay import ReplayOptions, ReplayServer, timestamp
from tests.chromium import chromium_browser
from tests.test_requisites import crawl_demo

pytestmark = pytest.mark.slow
OUTLET = "nx24"
MAX_DIFFERENT = 0.002  # share of pixels that may differ (anti-aliasing); a missing image or font is >1 %
PAGE_STATE = """() => ({
  images: [...document.images].map(i => [i.currentSrc || i.src, i.complete && i.naturalWidth > 0]),
  font: document.fonts.check('22px DemoIcons'),
  background: getComputedStyle(document.body).backgroundImage,
  brand: getComputedStyle(document.querySelector('.brandbar')).backgroundColor,
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium_browser(["--font-render-hinting=none"])


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    from newsarchive.demo.server import serve_demo

    home = tmp_path_factory.mktemp("fidelity")
    with serve_demo(outlets=[OUTLET], stories_per_outlet="all") as server:
        crawl_demo(server.sites_toml(), home)
        yield home, server


def _article(server: Any) -> str:
    """An article with a figure (<picture>, srcset), so every kind of requisite is on the page."""
    from newsarchive.demo.render import page_chrome

    for story in server.stories(OUTLET):
        if page_chrome(OUTLET, story).page_texts("caption"):
            return str(server.article_url(OUTLET, story.slug))
    raise AssertionError("no demo story with a figure")


def _settled(target: Any) -> dict[str, Any]:
    """Wait in a page or frame until its fonts and images are done; what loaded."""
    target.evaluate("() => document.fonts.ready.then(() => true)")
    target.wait_for_function("() => [...document.images].every(i => i.complete)")
    return dict(target.evaluate(PAGE_STATE))


def _context(browser: Any, width: int = 1280, height: int = 900) -> tuple[Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                  service_workers="block")
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    return context, requested


def _shoot(browser: Any, url: str, *, size: tuple[int, int] | None = None) -> tuple[bytes, dict[str, Any], list[str]]:
    """Screenshot once the page, its images and its fonts have loaded (the whole page, or the first
    ``size`` viewport); what it requested."""
    context, requested = _context(browser, *(size or (1280, 900)))
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(url, wait_until="networkidle")
        state = _settled(page)
        shot = page.screenshot(full_page=size is None, animations="disabled")
    finally:
        context.close()
    return shot, state, requested


def _shoot_frame(browser: Any, url: str, frame: str) -> tuple[bytes, dict[str, Any], tuple[int, int]]:
    """The replayed page inside a replay frame (pywb's banner frame): its visible part and its size."""
    context, _ = _context(browser)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(url, wait_until="networkidle")
        element = page.wait_for_selector(f"iframe[name='{frame}']")
        content = element.content_frame()
        content.wait_for_load_state("networkidle")
        state = _settled(content)
        box = element.bounding_box()
        shot = element.screenshot(animations="disabled")
    finally:
        context.close()
    return shot, state, (int(box["width"]), int(box["height"]))


def _difference(a: bytes, b: bytes) -> float:
    """Share of pixels whose colour differs by more than 24 in some channel (1.0 if the sizes differ)."""
    import io

    from PIL import Image, ImageChops

    first, second = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    if first.size != second.size:
        return 1.0
    diff = ImageChops.difference(first, second).point(lambda v: 255 if v > 24 else 0).convert("L")
    histogram = diff.histogram()
    return 1 - histogram[0] / (first.size[0] * first.size[1])


def _loaded(state: dict[str, Any]) -> None:
    assert state["images"] and all(ok for _, ok in state["images"]), f"images not loaded: {state['images']}"
    assert state["font"], "the demo font did not load"
    assert "paper.png" in state["background"], "the stylesheet's url() background"


def test_replayed_article_looks_like_the_live_one(browser: Any, archived: tuple[Path, Any],
                                                  tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="Pillow is not installed (pip install pillow)")
    home, server = archived
    url = _article(server)
    live, live_state, _ = _shoot(browser, url)
    _loaded(live_state)
    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    capture = next(c for c in index.captures_of(url) if c.kind == "article")
    server.clear_requests()
    with ReplayServer(index, ArchiveHome.resolve(home).warc_dir, ReplayOptions(port=0)) as replay:
        page_url = f"{replay.url}/web/{timestamp(capture.fetched_at)}mp_/{url}"
        replayed, state, requested = _shoot(browser, page_url)
    index.close()
    outside = [u for u in requested if not u.startswith(replay.url + "/web/")]
    assert not outside, f"the replayed page asked for something outside the archive: {outside}"
    assert not any(server.requests.values()), f"the live site was asked during replay: {server.requests}"
    _loaded(state)
    assert state["brand"] == live_state["brand"]
    (tmp_path / "live.png").write_bytes(live)
    (tmp_path / "replay.png").write_bytes(replayed)
    share = _difference(live, replayed)
    assert share < MAX_DIFFERENT, f"{share:.2%} of the pixels differ (screenshots in {tmp_path})"


def test_pywb_replays_the_article_like_the_live_one(browser: Any, archived: tuple[Path, Any],
                                                    tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="Pillow is not installed (pip install pillow)")
    from tests.pywb import require_pywb, running_wayback

    manager, wayback = require_pywb()
    home, server = archived
    url = _article(server)
    subprocess.run([manager, "init", "news"], cwd=tmp_path, check=True, capture_output=True)
    for warc in sorted(ArchiveHome.resolve(home).warc_dir.glob("*.warc.gz")):
        shutil.copy(warc, tmp_path / "collections" / "news" / "archive" / warc.name)
    cdxj = tmp_path / "collections" / "news" / "indexes" / "index.cdxj"
    proc = subprocess.run([sys.executable, "-m", "newsarchive", "cdxj", "--home", str(home), "-o", str(cdxj)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    server.clear_requests()
    with running_wayback(wayback, tmp_path, "news") as base:  # pywb shows pages in a frame under its banner
        replayed, state, size = _shoot_frame(browser, f"{base}/2030/{url}", "___wb_replay_top_frame")
    assert not any(server.requests.values()), f"the live site was asked during pywb replay: {server.requests}"
    _loaded(state)
    live, _, _ = _shoot(browser, url, size=size)  # the live page in a window of the frame's size
    share = _difference(live, replayed)
    assert share < MAX_DIFFERENT, f"pywb: {share:.2%} of the pixels differ"


def test_without_requisites_the_replay_differs(browser: Any, archived: tuple[Path, Any], tmp_path: Path) -> None:
    """The control: the same page archived without its requisites replays visibly different (so the threshold
    above means something)."""
    pytest.importorskip("PIL", reason="Pillow is not installed (pip install pillow)")
    _, server = archived
    url = _article(server)
    toml = server.sites_toml().replace(f"[sites.{OUTLET}]\n", f"[sites.{OUTLET}]\nrequisites = false\n", 1)
    crawl_demo(toml, tmp_path / "bare")
    live, _, _ = _shoot(browser, url)
    index = ArchiveIndex(ArchiveHome.resolve(tmp_path / "bare").index_url)
    capture = next(c for c in index.captures_of(url) if c.kind == "article")
    with ReplayServer(index, ArchiveHome.resolve(tmp_path / "bare").warc_dir, ReplayOptions(port=0)) as replay:
        context, _ = _context(browser)
        page = context.new_page()
        page.goto(f"{replay.url}/web/{timestamp(capture.fetched_at)}mp_/{url}", wait_until="networkidle")
        bare = page.screenshot(full_page=True)
        context.close()
    index.close()
    assert _difference(live, bare) > 10 * MAX_DIFFERENT
