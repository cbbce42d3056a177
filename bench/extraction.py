"""Extraction quality and speed: newsarchive's extractor beside plain trafilatura, measured in one run.

Scores both on the article-extraction benchmark (../shared/benchmarks/article-extraction, or --data DIR)
with the upstream metric (bench/extraction_eval.py), prints P, R, F1, exact-match accuracy and pages/s,
the pages where ours scores more than --margin below trafilatura (per-page F1), how many pages yield a
publication date and from which source, then pages/s of our extractor in a pool of --processes workers.
With the demo seed stories available (newsarchive.demo), it also reports date accuracy on them.

    python bench/extraction.py
    python bench/extraction.py --data ../shared/benchmarks/article-extraction --processes 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.extraction_eval import PageScore, Summary, score_page, summarize  # noqa: E402
from newsarchive.crawler.extraction import Extraction, extract  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "article-extraction"


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    html: str
    truth: str


def load_pages(data: Path, limit: int | None = None) -> list[Page]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        html = gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8")
        pages.append(Page(key, truth[key]["url"], html, truth[key]["articleBody"]))
    return pages


def ours(page: Page) -> Extraction:
    return extract(page.html, page.url)


def ours_text(page: Page) -> str:
    return ours(page).text


def plain_trafilatura(page: Page) -> str:
    return trafilatura.extract(page.html, url=page.url, include_comments=False) or ""


def timed(fn: Callable[[Page], str], pages: list[Page]) -> tuple[dict[str, str], float]:
    start = time.perf_counter()
    out = {p.id: fn(p) for p in pages}
    return out, len(pages) / (time.perf_counter() - start)


def pooled_rate(pages: list[Page], processes: int) -> float:
    with multiprocessing.get_context("forkserver").Pool(processes) as pool:
        pool.map(ours_text, pages[: processes * 2])  # warm the workers (imports, language model)
        start = time.perf_counter()
        pool.map(ours_text, pages, chunksize=4)
        return len(pages) / (time.perf_counter() - start)


def line(name: str, s: Summary, rate: float) -> str:
    return (f"{name:<22} P {s.precision:.4f}  R {s.recall:.4f}  F1 {s.f1:.4f}  "
            f"acc {s.accuracy:.3f}  {rate:6.1f} pages/s")


def regressions(pages: list[Page], mine: dict[str, PageScore], base: dict[str, PageScore],
                margin: float) -> list[str]:
    out = []
    for p in pages:
        if mine[p.id].f1 < base[p.id].f1 - margin:
            out.append(f"  {p.id[:12]} ours F1 {mine[p.id].f1:.3f} < trafilatura {base[p.id].f1:.3f}  {p.url}")
    return out


def date_report(results: list[Extraction]) -> list[str]:
    sources = Counter(r.date_source or "none" for r in results)
    dated = sum(1 for r in results if r.published is not None)
    lines = [f"dates: {dated}/{len(results)} benchmark pages yield a publication date "
             "(the ground truth has no dates, so no accuracy here); by source:"]
    lines += [f"  {source:<24} {n}" for source, n in sources.most_common()]
    return lines


def seed_dates() -> list[str]:
    """Date accuracy on the seed stories rendered in their outlets' markup (newsarchive.demo)."""
    try:
        from newsarchive.demo.content import STORIES
        from newsarchive.demo.render import render_article
    except ImportError as exc:
        return [f"seed fixtures: skipped ({exc})"]
    hits, rows = 0, []
    for story in STORIES:
        html = render_article(story.outlet, story)
        got = extract(html, f"https://{story.outlet}.example/{story.slug}")
        ok = got.published is not None and got.published == story.published
        hits += ok
        rows.append(f"  {story.id} {story.outlet:<14} want {story.published.isoformat()} "
                    f"got {got.published.isoformat() if got.published else None} ({got.date_source}) "
                    f"{'ok' if ok else 'WRONG'}")
    return [f"seed fixtures: publication date exact for {hits}/{len(STORIES)}", *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark directory")
    parser.add_argument("--processes", type=int, default=2, help="pool size for the parallel rate")
    parser.add_argument("--margin", type=float, default=0.05, help="per-page F1 regression margin")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--repeat", type=int, default=1, help="timing repeats (median pages/s)")
    args = parser.parse_args()
    pages = load_pages(args.data, args.limit)
    truth = {p.id: p.truth for p in pages}

    results, base, mine_rates, base_rates = {}, {}, [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        results = {p.id: ours(p) for p in pages}
        mine_rates.append(len(pages) / (time.perf_counter() - start))
        base, rate = timed(plain_trafilatura, pages)
        base_rates.append(rate)
    mine_scores = {k: score_page(truth[k], r.text) for k, r in results.items()}
    base_scores = {k: score_page(truth[k], base[k]) for k in base}
    print(f"article-extraction benchmark: {len(pages)} pages from {args.data}")
    print(line("trafilatura (plain)", summarize(list(base_scores.values())), statistics.median(base_rates)))
    print(line("newsarchive", summarize(list(mine_scores.values())), statistics.median(mine_rates)))
    worse = regressions(pages, mine_scores, base_scores, args.margin)
    print(f"pages below trafilatura by more than {args.margin}: {len(worse)}")
    print("\n".join(worse))
    print("\n".join(date_report(list(results.values()))))
    print("\n".join(seed_dates()))
    rates = [pooled_rate(pages, args.processes) for _ in range(args.repeat)]
    print(f"newsarchive extraction: 1 process {statistics.median(mine_rates):.1f} pages/s, "
          f"{args.processes}-process pool {statistics.median(rates):.1f} pages/s")


if __name__ == "__main__":
    main()
