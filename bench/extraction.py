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
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.extraction_eval import PageScore, Summary, score_page, summarize  # noqa: E402
from newsarchive.extract.article import Extraction, extract  # noqa: E402

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


_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](\d{1,2})[/-](\d{1,2})(?:/|-|$)")


def url_date(url: str) -> date | None:
    """The date a URL carries (``/2019/11/18/``), the only date truth this benchmark has."""
    match = _URL_DATE.search(url)
    try:
        return date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        return None


def overcleaning_report(pages: list[Page]) -> list[str]:
    """How many ground-truth body lines the furniture-line rules would drop (the rules' false positives)."""
    from newsarchive.extract.chrome import is_chrome_line

    lines = [ln for p in pages for ln in p.truth.splitlines() if ln.strip()]
    hits = sum(1 for ln in lines if is_chrome_line(ln))
    return [f"furniture-line rules match {hits}/{len(lines)} ground-truth body lines "
            f"({100 * hits / max(len(lines), 1):.1f}%, the over-cleaning risk of these rules)"]


def metadata_report(pages: list[Page], results: dict[str, Extraction]) -> list[str]:
    """How many pages yield each metadata field, and language agreement with the declared <html lang>."""
    fields = ("title", "author", "modified", "section", "canonical_url", "language")
    have = {f: sum(1 for r in results.values() if getattr(r, f)) for f in fields}
    declared = {p.id: m.group(1).lower() for p in pages if (m := _HTML_LANG.search(p.html[:20000]))}
    agree = sum(1 for k, lang in declared.items() if results[k].language == lang)
    return ["metadata: " + ", ".join(f"{f} {n}/{len(results)}" for f, n in have.items())
            + f"; detected language equals <html lang> on {agree}/{len(declared)} pages that declare one"]


_HTML_LANG = re.compile(r"<html[^>]*\blang=[\"']?([A-Za-z]{2,3})", re.I)


def day_gap(got: datetime | None, want: date) -> int | None:
    return None if got is None else abs((got.date() - want).days)


def date_report(pages: list[Page], results: dict[str, Extraction]) -> list[str]:
    sources = Counter(r.date_source or "none" for r in results.values())
    dated = sum(1 for r in results.values() if r.published is not None)
    lines = [f"dates: {dated}/{len(results)} benchmark pages yield a publication date; by source: "
             + ", ".join(f"{source} {n}" for source, n in sources.most_common())]
    gaps = [day_gap(results[p.id].published, want) for p in pages if (want := url_date(p.url))]
    carried, exact, near = len(gaps), gaps.count(0), sum(1 for g in gaps if g is not None and g <= 1)
    lines.append(f"date accuracy on the {carried} pages whose URL carries a date (the ground truth has "
                 f"none): same day {exact}/{carried}, within a day (time zones) {near}/{carried}")
    return lines


def seed_dates() -> list[str]:
    """Date accuracy on the seed stories rendered in their outlets' markup (newsarchive.demo)."""
    try:
        from newsarchive.demo.content import STORIES
        from newsarchive.demo.render import render_article
    except ImportError as exc:
        return [f"seed fixtures: skipped ({exc})"]
    published = modified = 0
    rows = []
    for story in STORIES:
        got = extract(render_article(story.outlet, story, site_stories=STORIES), f"https://{story.outlet}.example/")
        published += got.published == story.published
        modified += got.modified == story.modified
        rows.append(f"  {story.id} {story.outlet:<11} published {_show(got.published)} ({got.date_source}), "
                    f"modified {_show(got.modified)} ({got.modified_source})")
    return [f"seed fixtures: published date exact {published}/{len(STORIES)}, "
            f"modified date exact {modified}/{len(STORIES)}", *rows]


def _show(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "none"


@dataclass(frozen=True)
class Timing:
    ours: float  # pages/s, median
    trafilatura: float  # pages/s, median
    ours_cpu_ms: float  # CPU ms per page, median (less sensitive to a busy machine than pages/s)


def measure(pages: list[Page], repeat: int) -> tuple[dict[str, Extraction], dict[str, str], Timing]:
    """Our results and plain trafilatura's, timed over ``repeat`` runs."""
    results: dict[str, Extraction] = {}
    base: dict[str, str] = {}
    mine_rates, base_rates, cpu = [], [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        results = {p.id: ours(p) for p in pages}
        mine_rates.append(len(pages) / (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu) / len(pages))
        base, rate = timed(plain_trafilatura, pages)
        base_rates.append(rate)
    return results, base, Timing(statistics.median(mine_rates), statistics.median(base_rates),
                                 statistics.median(cpu))


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
    results, base, timing = measure(pages, args.repeat)
    mine_scores = {k: score_page(truth[k], r.text) for k, r in results.items()}
    base_scores = {k: score_page(truth[k], base[k]) for k in base}
    print(f"article-extraction benchmark: {len(pages)} pages from {args.data}")
    print(line("trafilatura (plain)", summarize(list(base_scores.values())), timing.trafilatura))
    print(line("newsarchive", summarize(list(mine_scores.values())), timing.ours))
    worse = regressions(pages, mine_scores, base_scores, args.margin)
    print(f"pages below trafilatura by more than {args.margin}: {len(worse)}")
    print("\n".join([*worse, *overcleaning_report(pages), *date_report(pages, results),
                     *metadata_report(pages, results), *seed_dates()]))
    rates = [pooled_rate(pages, args.processes) for _ in range(args.repeat)]
    print(f"newsarchive extraction: 1 process {timing.ours:.1f} pages/s ({timing.ours_cpu_ms:.1f} CPU ms/page), "
          f"{args.processes}-process pool {statistics.median(rates):.1f} pages/s")


if __name__ == "__main__":
    main()
