"""What page requisites cost: pages/s, CPU seconds and WARC bytes per article with requisites on and off.

Serves N article pages in the demo outlets' templates on 127.0.0.1, each with the outlet's shared
stylesheet (which @imports a font face), script, favicon and lazy logo, and its own figure images
(``srcset``, ``<picture>``, ``og:image``), with the right Content-Types. Crawls them in a subprocess with
requisites on and off (``NEWSARCHIVE_REQUISITES_ENABLED``), politeness off, extraction in a thread of the
crawl process (so that its CPU time is all counted), and prints medians over
--repeat runs: wall seconds, CPU seconds of the crawl process, pages/s (every archived response),
articles/s, requisites archived, WARC bytes per article, and the ratios of the two modes.

    python bench/requisites.py --pages 300 --repeat 3 [--render]

``--render`` adds a crawl with ``render = true`` (pages in headless Chromium, every response the browser
loads archived). CPU is that of the crawl process and of the child processes it reaped (Playwright's
driver, and Chromium through it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from newsarchive.demo import assets
from newsarchive.demo.content import load_stories
from newsarchive.demo.render import OUTLETS, page_chrome, render_article
from newsarchive.demo.server import requisite_resources

PER_SECTION = 50
HTML = "text/html; charset=utf-8"
Site = dict[str, tuple[bytes, str]]


def make_site(pages: int, base: str) -> Site:
    """Article pages (each with its own images) and every outlet's shared requisites, served at ``base``."""
    stories = load_stories()
    site: Site = {"/robots.txt": (b"User-agent: *\nAllow: /\n", "text/plain")}
    for outlet in OUTLETS:
        for path, resource_ in requisite_resources(outlet, ()).items():
            site[path] = (resource_.body, resource_.content_type)
    site["/media/blank.gif"] = (bytes.fromhex("47494638396101000100800000ffffff00000021f9040100000000"
                                              "2c00000000010001000002024401003b"), "image/gif")
    sections = (pages + PER_SECTION - 1) // PER_SECTION
    site["/"] = (listing("Start", [f"/ressort-{s}/" for s in range(sections)]), HTML)
    for i in range(pages):
        story = stories[i % len(stories)]
        unique = dataclasses.replace(story.with_paragraphs([*story.paragraph_texts(), f"Meldung {i}."],
                                                           story.published), slug=f"{story.slug}-{i}")
        html = render_article(story.outlet, unique, base_url=base, site_stories=stories).encode()
        site[f"/ressort-{i // PER_SECTION}/meldung-{i:06d}.html"] = (html, HTML)
        widths = (640, 960) if page_chrome(story.outlet, unique).page_texts("caption") else (960,)
        for width in widths:  # (some outlets' figures use a GIF: served 404, as a broken image is)
            image = assets.png(width, width * 9 // 16, assets.colors_of(unique.slug))
            site[f"/media/{unique.slug}-{width}.png"] = (image, "image/png")
    for s in range(sections):
        links = [p for p in site if p.startswith(f"/ressort-{s}/meldung-")]
        site[f"/ressort-{s}/"] = (listing(f"Ressort {s}", links), HTML)
    return site


def listing(title: str, links: list[str]) -> bytes:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return f"<!doctype html><html lang=de><head><title>{title}</title></head><body><ul>{items}</ul></body></html>".encode()


def serve(site: Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body, ctype = site.get(self.path.split("?")[0], (b"", "text/plain"))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # a browser dropped a request it no longer needs
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def crawl_once(url: str, pages: int, requisites: bool, render: bool = False) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        target = [url]
        if render:  # render is a per-site setting: a sites.toml naming the site
            sites = Path(home) / "sites.toml"
            sites.write_text(f'[sites.bench]\nstart_urls = ["{url}"]\nrender = true\n', encoding="utf-8")
            target = ["--sites", str(sites)]
        cmd = [sys.executable, "-m", "newsarchive", "crawl", *target, "--home", home, "--depth", "2",
               "--max-pages", str(pages + 100), "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=0",
               "-s", "NEWSARCHIVE_PROGRESS_ENABLED=False", "-s", f"NEWSARCHIVE_REQUISITES_ENABLED={requisites}"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([sys.executable, "-m", "newsarchive", "stats", "--json", "--home", home],
                             check=True, capture_output=True, text=True)
        stats = json.loads(out.stdout)
        warc_bytes = sum(p.stat().st_size for p in (Path(home) / "warcs").rglob("*.warc.gz"))
        requisite_count = _requisites(home)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": elapsed, "cpu": cpu, "pages": stats["captures"], "articles": stats["articles_ok"],
            "requisites": requisite_count, "warc_bytes": warc_bytes}


def _requisites(home: str) -> int:
    from sqlalchemy import func, select

    from newsarchive.archive.home import ArchiveHome
    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.models import Capture

    index = ArchiveIndex(ArchiveHome.resolve(home).index_url)
    with index.sessions() as s:
        count = s.scalar(select(func.count()).select_from(Capture).where(Capture.kind == "requisite")) or 0
    index.close()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--render", action="store_true",
                        help="also crawl with render = true (headless Chromium; needs Debian's chromium)")
    args = parser.parse_args()
    site: Site = {}
    server = serve(site)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    site.update(make_site(args.pages, url.rstrip("/")))
    print(f"local site: {args.pages} articles at {url}; {args.repeat} runs per mode, medians "
          "(wall time incl. start-up; CPU: the crawl process, extraction included, and the processes it reaped)")
    print(f"{'requisites':<12}{'pages':>7}{'articles':>9}{'requisites':>11}{'seconds':>9}{'cpu s':>8}"
          f"{'pages/s':>9}{'articles/s':>11}{'cpu ms/article':>15}{'WARC KB/article':>16}")
    medians: dict[str, dict[str, float]] = {}
    modes = [("off", False, False), ("on", True, False)] + ([("rendered", True, True)] if args.render else [])
    for label, on, render in modes:
        runs = [crawl_once(url, args.pages, on, render) for _ in range(args.repeat)]
        m = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        medians[label] = m
        print(f"{label:<12}{m['pages']:>7.0f}{m['articles']:>9.0f}{m['requisites']:>11.0f}{m['seconds']:>9.2f}"
              f"{m['cpu']:>8.2f}{m['pages'] / m['seconds']:>9.1f}{m['articles'] / m['seconds']:>11.1f}"
              f"{1000 * m['cpu'] / m['articles']:>15.1f}{m['warc_bytes'] / m['articles'] / 1024:>16.1f}")
    off, on_ = medians["off"], medians["on"]
    print(f"on/off: articles/s x{(on_['articles'] / on_['seconds']) / (off['articles'] / off['seconds']):.2f}, "
          f"CPU per article x{(on_['cpu'] / on_['articles']) / (off['cpu'] / off['articles']):.2f}, "
          f"WARC bytes per article x{(on_['warc_bytes'] / on_['articles']) / (off['warc_bytes'] / off['articles']):.2f}")
    if "rendered" in medians:
        r = medians["rendered"]
        print(f"rendered/off: articles/s x{(r['articles'] / r['seconds']) / (off['articles'] / off['seconds']):.2f}, "
              f"CPU per article (crawl process, Playwright driver and Chromium) "
              f"x{(r['cpu'] / r['articles']) / (off['cpu'] / off['articles']):.2f}, "
              f"WARC bytes per article x{(r['warc_bytes'] / r['articles']) / (off['warc_bytes'] / off['articles']):.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
