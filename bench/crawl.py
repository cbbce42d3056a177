"""Whole-crawl throughput: pages/s of `newsarchive crawl` against a local site, politeness off.

Serves N article pages (seed story texts in a news-page template, linked from section pages) on
127.0.0.1, crawls them in a subprocess with extraction in a process pool and in a single thread, and
prints the median pages/s and articles/s over --repeat runs, plus the ratio of the two modes.

    python bench/crawl.py --pages 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time

from localsite import serve

from newsarchive.demo.content import load_stories
from newsarchive.demo.render import render_article

PER_SECTION = 50


def page(title: str, body: str, links: list[str]) -> bytes:
    nav = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (f"<!doctype html><html lang=de><head><meta charset=utf-8><title>{title} | Benchbote</title>"
            f"</head><body><header><nav><ul><li><a href='/'>Start</a></li></ul></nav></header>"
            f"<main><article><h1>{title}</h1>{body}</article></main><aside><ul>{nav}</ul></aside>"
            f"<footer>Impressum · Datenschutz · Kontakt</footer></body></html>").encode()


def make_site(pages: int) -> dict[str, bytes]:
    """Article pages in the demo outlets' real templates (cookie banner, teasers, comments, ...)."""
    stories = load_stories()
    site: dict[str, bytes] = {"/robots.txt": b"User-agent: *\nAllow: /\n"}
    sections = (pages + PER_SECTION - 1) // PER_SECTION
    site["/"] = page("Start", "", [f"/ressort-{s}/" for s in range(sections)])
    for i in range(pages):
        story = stories[i % len(stories)]
        unique = story.with_paragraphs([*story.paragraph_texts(), f"Meldung {i} aus dem Benchmark."], story.published)
        html = render_article(story.outlet, unique, site_stories=stories)
        site[f"/ressort-{i // PER_SECTION}/meldung-{i:06d}-{story.slug}.html"] = html.encode()
    for s in range(sections):
        links = [p for p in site if p.startswith(f"/ressort-{s}/meldung-")]
        site[f"/ressort-{s}/"] = page(f"Ressort {s}", "", links)
    return site


def crawl_once(url: str, workers: int, pages: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        cmd = [sys.executable, "-m", "newsarchive", "crawl", url, "--home", home, "--depth", "2",
               "--max-pages", str(pages + 100), "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", f"NEWSARCHIVE_EXTRACTION_WORKERS={workers}",
               "-s", "NEWSARCHIVE_PROGRESS_ENABLED=False"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        out = subprocess.run([sys.executable, "-m", "newsarchive", "stats", "--json", "--home", home],
                             check=True, capture_output=True, text=True)
        stats = json.loads(out.stdout)
    return {"seconds": elapsed, "pages": stats["captures"], "articles": stats["articles_ok"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = serve(make_site(args.pages))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"local site: {args.pages} articles at {url}; {args.repeat} runs per mode (wall time incl. start-up)")
    print(f"{'extraction':<22}{'pages':>7}{'articles':>10}{'seconds':>10}{'pages/s':>10}{'articles/s':>12}")
    medians = {}
    for label, workers in (("process pool (2)", 2), ("one thread", 0)):
        runs = [crawl_once(url, workers, args.pages) for _ in range(args.repeat)]
        sec = statistics.median(r["seconds"] for r in runs)
        pages, arts = runs[0]["pages"], runs[0]["articles"]
        medians[label] = pages / sec
        print(f"{label:<22}{pages:>7}{arts:>10}{sec:>10.1f}{pages / sec:>10.1f}{arts / sec:>12.1f}")
    ratio = medians["process pool (2)"] / medians["one thread"]
    print(f"process pool vs one thread: {ratio:.2f}x pages/s (median of {args.repeat})")
    server.shutdown()


if __name__ == "__main__":
    main()
