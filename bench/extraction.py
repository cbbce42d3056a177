"""Extraction quality and cost: newsarchive beside plain trafilatura on three page sets, in one run.

Sets (``--data DIR`` = the ``benchmarks`` directory, default ``../shared/benchmarks``):

- ``ae``: article-extraction (181 pages, human-annotated body; the set the filters were first developed on);
- ``fundus``: news-pages/fundus (139 publisher pages; gold body, title, authors, date);
- ``strings``: news-pages/trafilatura (460 pages; must / must-not strings, some title, author, date).

For each set it prints body P/R/F1 (the 4-gram shingle metric of bench/extraction_eval.py; on ``strings``
the with/without counts), a paired bootstrap 95% CI of the F1 difference, title / authors / date accuracy,
CPU ms per page of each extractor (after a warm-up of both in every worker) (measured around each call in the same worker, so the ratio is fair on a
busy machine; newsarchive's share spent on page metadata is shown apart, since trafilatura's metadata call is not timed) and every page where newsarchive is more than ``--margin`` F1 below trafilatura, with the reason.

Authors are scored as the benchmark README says (set equality of normalised names). newsarchive's credit is
its ``authors``, or its ``agencies`` when it names no person; "with agencies" scores authors and agencies
together (the gold often lists "dpa" or the publication beside the people).

Site split: each page's site (host; fundus: publisher) is hashed into a *tuning* half and a *held-out* half
(:func:`held_out`). Rules were inspected only on tuning-half pages; the figures for held-out sites are
printed separately and are the ones to report.

    python bench/extraction.py                       # all sets, 2 processes
    python bench/extraction.py --sets fundus --limit 40 --processes 1
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import random
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import decode_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.extraction_eval import PageScore, harmonic, score_page, summarize  # noqa: E402
from newsarchive.extract import article  # noqa: E402
from newsarchive.extract.article import extract  # noqa: E402
from newsarchive.extract.metadata import PageMeta  # noqa: E402
from newsarchive.extract.result import ExtractOptions  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks"
SETS = ("ae", "fundus", "strings")


@dataclass(frozen=True)
class Page:
    set: str
    id: str
    url: str
    site: str
    html: str
    body: str | None = None  # gold text (ae, fundus)
    with_: tuple[str, ...] = ()  # strings set
    without: tuple[str, ...] = ()
    title: str | None = None
    authors: tuple[str, ...] | None = None
    day: str | None = None  # gold publication date (ISO, maybe with time and offset)


@dataclass(frozen=True)
class Result:
    text: str
    title: str | None
    authors: tuple[str, ...]
    published: datetime | date | None
    cpu_ms: float
    method: str = ""
    with_agencies: tuple[str, ...] = ()  # the authors and the agencies (gold often credits both as authors)
    metadata_ms: float = 0.0  # of cpu_ms: newsarchive's page metadata (trafilatura's is not timed)


@dataclass
class Pair:
    page: Page
    ours: Result
    base: Result
    score_ours: PageScore | None = None
    score_base: PageScore | None = None
    counts_ours: tuple[int, int, int, int] = (0, 0, 0, 0)  # TP FN FP TN (strings set)
    counts_base: tuple[int, int, int, int] = (0, 0, 0, 0)
    extra: dict[str, float] = field(default_factory=dict)


# -- loading ------------------------------------------------------------------------------------------------
def _host(url: str) -> str:
    return (urlsplit(url).hostname or url).removeprefix("www.")


def load_ae(root: Path) -> list[Page]:
    data = root / "article-extraction"
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    return [Page("ae", key, truth[key]["url"], _host(truth[key]["url"]),
                 gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes()).decode("utf-8"),
                 body=truth[key]["articleBody"]) for key in sorted(truth)]


def load_fundus(root: Path) -> list[Page]:
    data = root / "news-pages" / "fundus"
    gold = json.loads((data / "gold.json").read_text(encoding="utf-8"))
    return [Page("fundus", g["id"], g["url"], g["publisher"],
                 gzip.decompress((data / g["html"]).read_bytes()).decode("utf-8", "replace"), body=g["body"],
                 title=g["title"], authors=tuple(g["authors"] or ()) or None, day=g["publishing_date"]) for g in gold]


def load_strings(root: Path) -> list[Page]:
    data = root / "news-pages" / "trafilatura"
    gold = json.loads((data / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(gold):
        g = gold[key]
        html = decode_file(gzip.decompress((data / "html" / f"{g['file']}.gz").read_bytes()))
        author = g.get("author")
        names = tuple(author) if isinstance(author, list) else tuple(a.strip() for a in (author or "").split(";"))
        names = tuple(n for n in names if n)
        site = _host(key) if "://" in key else g["file"]
        pages.append(Page("strings", key, key, site, html, with_=tuple(g.get("with") or ()),
                          without=tuple(g.get("without") or ()), title=g.get("title") or None,
                          authors=names or None, day=g.get("date") or None))
    return pages


LOADERS: dict[str, Callable[[Path], list[Page]]] = {"ae": load_ae, "fundus": load_fundus, "strings": load_strings}


def held_out(site: str) -> bool:
    """The fixed split by site: sites hashing odd are held out of all tuning."""
    return int(hashlib.sha256(site.lower().encode()).hexdigest(), 16) % 2 == 1


# -- running ------------------------------------------------------------------------------------------------
OPTIONS = ExtractOptions()
METADATA_MS = [0.0]  # CPU ms spent in page_metadata during the current newsarchive call (this worker)


def _timed_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """article.page_metadata, timed: the CPU line shows how much of newsarchive's time is metadata."""
    start = time.process_time()
    try:
        return _PAGE_METADATA(tree, url)
    finally:
        METADATA_MS[0] += 1000 * (time.process_time() - start)


_PAGE_METADATA = article.page_metadata


def warm_up(options: ExtractOptions) -> None:
    """Pay the one-time costs (models, stop lists, caches) of both extractors before anything is timed."""
    global OPTIONS
    OPTIONS = options
    article.page_metadata = _timed_metadata  # type: ignore[assignment]
    paras = "".join(f"<p>Sentence number {n} of the warm-up page, long enough to count as a paragraph.</p>"
                    for n in range(30))
    html = f"<html lang='en'><head><title>Warm up</title></head><body><article>{paras}</article></body></html>"
    extract(html, "https://warm.example/")
    trafilatura.extract(html, url="https://warm.example/", include_comments=False)
    trafilatura.extract_metadata(html, default_url="https://warm.example/")
    from trafilatura import external

    if hasattr(external, "jt_stoplist_init"):  # jusText's stop lists load on first use (~0.3 s)
        external.jt_stoplist_init()
    from htmldate.extractors import external_date_parser

    # dateparser compiles every locale's regular expressions the first time a date string matches none
    # (~1.8 s per process, then cached): a crawl's long-lived worker pays it once, not on its pages
    external_date_parser("0 xq", "%Y-%m-%d")


def run_ours(page: Page) -> Result:
    METADATA_MS[0] = 0.0
    start = time.process_time()
    got = extract(page.html, page.url, OPTIONS)
    cpu = 1000 * (time.process_time() - start)
    # credits: the authors, or the agencies when no person is named (gold often credits "dpa" as the author)
    credits = got.authors or got.agencies
    return Result(got.text, got.title, credits, got.published, cpu, str(got.extra.get("method", got.reason)),
                  (*got.authors, *got.agencies), METADATA_MS[0])


def run_base(page: Page) -> Result:
    start = time.process_time()
    text = trafilatura.extract(page.html, url=page.url, include_comments=False) or ""
    cpu = 1000 * (time.process_time() - start)
    meta = trafilatura.extract_metadata(page.html, default_url=page.url)  # not timed: metadata is separate
    authors = tuple(a.strip() for a in (meta.author or "").split(";") if a.strip()) if meta else ()
    published = date.fromisoformat(meta.date[:10]) if meta and meta.date else None
    return Result(text, meta.title if meta else None, authors, published, cpu)


def run_pair(page: Page) -> Pair:
    # alternate the order so neither extractor always runs with warm caches
    if hash(page.id) % 2:
        ours, base = run_ours(page), run_base(page)
    else:
        base, ours = run_base(page), run_ours(page)
    return Pair(page, ours, base)


def run_all(pages: list[Page], processes: int, options: ExtractOptions) -> list[Pair]:
    if processes <= 1:
        warm_up(options)
        return [run_pair(p) for p in pages]
    with multiprocessing.get_context("forkserver").Pool(processes, warm_up, (options,)) as pool:
        return pool.map(run_pair, pages, chunksize=4)


# -- scoring ------------------------------------------------------------------------------------------------
def _ws(text: str) -> str:
    return " ".join(text.split())


def string_counts(page: Page, text: str) -> tuple[int, int, int, int]:
    flat = _ws(text)
    tp = sum(1 for s in page.with_ if _ws(s) in flat)
    fp = sum(1 for s in page.without if _ws(s) in flat)
    return tp, len(page.with_) - tp, fp, len(page.without) - fp


def counts_f1(tp: int, fn: int, fp: int) -> float:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return harmonic(p, r)


def page_f1(pair: Pair, which: str) -> float:
    if pair.page.set == "strings":
        tp, fn, fp, _tn = pair.counts_ours if which == "ours" else pair.counts_base
        return counts_f1(tp, fn, fp)
    score = pair.score_ours if which == "ours" else pair.score_base
    return score.f1 if score else 0.0


def score(pairs: list[Pair]) -> None:
    for pair in pairs:
        if pair.page.set == "strings":
            pair.counts_ours = string_counts(pair.page, pair.ours.text)
            pair.counts_base = string_counts(pair.page, pair.base.text)
        else:
            pair.score_ours = score_page(pair.page.body or "", pair.ours.text)
            pair.score_base = score_page(pair.page.body or "", pair.base.text)


def set_f1(pairs: Sequence[Pair], which: str) -> float:
    if not pairs:
        return 0.0
    if pairs[0].page.set == "strings":
        tp, fn, fp, _tn = (sum(c) for c in zip(*(p.counts_ours if which == "ours" else p.counts_base
                                                 for p in pairs), strict=True))
        return counts_f1(tp, fn, fp)
    return summarize([(p.score_ours if which == "ours" else p.score_base) for p in pairs]).f1  # type: ignore[misc]


def bootstrap(pairs: Sequence[Pair], rounds: int, seed: int = 12) -> tuple[float, float]:
    """Paired bootstrap 95% CI of F1(ours) - F1(trafilatura), resampling pages."""
    rng = random.Random(seed)
    diffs = []
    for _ in range(rounds):
        sample = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        diffs.append(set_f1(sample, "ours") - set_f1(sample, "base"))
    diffs.sort()
    return diffs[int(0.025 * rounds)], diffs[int(0.975 * rounds) - 1]


def norm_name(text: str) -> str:
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


# names are compared case-folded, so the words between them are found in any case ("STAFF AND NEWS SERVICE")
_AUTHOR_SPLIT = re.compile(r";|(?i: und | and )| & |,(?=\s*[A-ZÄÖÜ])")


def author_set(names: Sequence[str]) -> set[str]:
    return {n for name in names for part in _AUTHOR_SPLIT.split(name) if (n := norm_name(part))}


def gold_day(gold: str | None) -> datetime | date | None:
    """The gold date, or None when missing or not a valid date (such a page is not counted)."""
    try:
        return (datetime.fromisoformat(gold) if len(gold) > 10 else date.fromisoformat(gold[:10])) if gold else None
    except ValueError:
        return None


def same_day(got: datetime | date | None, want: datetime | date) -> bool:
    if got is None:
        return False
    if isinstance(want, datetime) and isinstance(got, datetime) and want.tzinfo and got.tzinfo:
        return got.astimezone(want.tzinfo).date() == want.date()
    got_day = got.date() if isinstance(got, datetime) else got
    want_day = want.date() if isinstance(want, datetime) else want
    return got_day == want_day


def metadata_line(pairs: Sequence[Pair], which: str) -> str:
    res = [(p.page, p.ours if which == "ours" else p.base) for p in pairs]
    titled = [(pg, r) for pg, r in res if pg.title]
    t_ok = sum(1 for pg, r in titled if r.title and norm_name(r.title) == norm_name(pg.title or ""))
    authored = [(pg, r) for pg, r in res if pg.authors]
    a_eq = sum(1 for pg, r in authored if author_set(r.authors) == author_set(pg.authors or ()))
    a_any = sum(1 for pg, r in authored if author_set(r.authors) & author_set(pg.authors or ()))
    a_all = sum(1 for pg, r in authored if author_set(r.with_agencies or r.authors) == author_set(pg.authors or ()))
    dated = [(want, r) for pg, r in res if (want := gold_day(pg.day))]
    d_ok = sum(1 for want, r in dated if same_day(r.published, want))
    agencies = f", with agencies {_pct(a_all, len(authored))}" if which == "ours" else ""
    return (f"title {_pct(t_ok, len(titled))}  authors set-equal {_pct(a_eq, len(authored))} "
            f"(overlap {_pct(a_any, len(authored))}{agencies})  date same day {_pct(d_ok, len(dated))}")


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f}%" if d else "n/a"


def body_line(pairs: Sequence[Pair], which: str) -> str:
    if pairs[0].page.set == "strings":
        counts = [p.counts_ours if which == "ours" else p.counts_base for p in pairs]
        tp, fn, fp, tn = (sum(c) for c in zip(*counts, strict=True))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        clean = sum(1 for c in counts if c[1] == 0 and c[2] == 0)
        return (f"with found {tp}/{tp + fn}  without leaked {fp}/{fp + tn}  P {p:.3f}  R {r:.3f}  "
                f"F1 {harmonic(p, r):.3f}  acc {(tp + tn) / max(tp + fn + fp + tn, 1):.3f}  clean pages {clean}")
    s = summarize([(p.score_ours if which == "ours" else p.score_base) for p in pairs])  # type: ignore[misc]
    mean_f1 = statistics.mean(page_f1(p, which) for p in pairs)
    return f"P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  (mean page F1 {mean_f1:.3f})"


def cpu_line(pairs: Sequence[Pair]) -> str:
    ours = statistics.mean(p.ours.cpu_ms for p in pairs)
    base = statistics.mean(p.base.cpu_ms for p in pairs)
    meta = statistics.mean(p.ours.metadata_ms for p in pairs)
    return (f"CPU ms/page: newsarchive {ours:.1f}, trafilatura {base:.1f}, ratio {ours / base:.2f} "
            f"(newsarchive's metadata {meta:.1f}, untimed for trafilatura; body only: ratio {(ours - meta) / base:.2f})")


def reason(pair: Pair) -> str:
    if not pair.ours.text.strip():
        return f"empty output ({pair.ours.method})"
    if pair.page.set == "strings":
        (_tp, fn, fp, _tn), (_btp, bfn, bfp, _btn) = pair.counts_ours, pair.counts_base
        parts = [f"missed {fn - bfn} 'with'" if fn > bfn else "", f"leaked {fp - bfp} 'without'" if fp > bfp else ""]
        return ", ".join(filter(None, parts)) + f" ({pair.ours.method})"
    so, sb = pair.score_ours, pair.score_base
    assert so is not None and sb is not None
    if so.recall < sb.recall - 0.05:
        return f"lost text: R {so.recall:.2f} vs {sb.recall:.2f} ({pair.ours.method})"
    return f"extra text: P {so.precision or 0:.2f} vs {sb.precision or 0:.2f} ({pair.ours.method})"


def report(name: str, pairs: list[Pair], margin: float, rounds: int) -> None:
    print(f"\n== {name}: {len(pairs)} pages, {len({p.page.site for p in pairs})} sites")
    for label, subset in (("all sites", pairs), ("held-out sites", [p for p in pairs if held_out(p.page.site)])):
        if not subset:
            continue
        lo, hi = bootstrap(subset, rounds)
        worse = [p for p in subset if page_f1(p, "ours") < page_f1(p, "base") - margin]
        print(f"-- {label} ({len(subset)} pages)")
        print(f"   trafilatura  {body_line(subset, 'base')}")
        print(f"   newsarchive  {body_line(subset, 'ours')}")
        print(f"   F1 difference {set_f1(subset, 'ours') - set_f1(subset, 'base'):+.3f} "
              f"(paired bootstrap 95% CI {lo:+.3f}..{hi:+.3f}); pages > {margin} F1 below trafilatura: "
              f"{len(worse)} = {100 * len(worse) / len(subset):.1f}%")
        if name != "ae":
            print(f"   trafilatura  {metadata_line(subset, 'base')}")
            print(f"   newsarchive  {metadata_line(subset, 'ours')}")
        print(f"   {cpu_line(subset)}")
    worse = [p for p in pairs if page_f1(p, "ours") < page_f1(p, "base") - margin]
    for p in sorted(worse, key=lambda p: page_f1(p, "ours") - page_f1(p, "base")):
        split = "held-out" if held_out(p.page.site) else "tuning"
        print(f"   below: {p.page.id[:60]:<60} {page_f1(p, 'ours'):.3f} < {page_f1(p, 'base'):.3f} "
              f"[{split}] {reason(p)}")


def extract_options(settings: Sequence[str], *, fast: bool = False) -> ExtractOptions:
    """ExtractOptions with ``NAME=VALUE`` settings applied (bool, int or float fields, by their defaults)."""
    options = ExtractOptions(fast=True) if fast else ExtractOptions()
    changes: dict[str, object] = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        current = getattr(options, name)  # AttributeError: no such option
        if isinstance(current, bool):
            changes[name] = value.lower() in ("1", "true", "yes", "on")
        else:
            changes[name] = type(current)(value)
    return replace(options, **changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the benchmarks directory")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated subset of ae,fundus,strings")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--margin", type=float, default=0.05, help="per-page F1 margin for the 'below' list")
    parser.add_argument("--limit", type=int, default=None, help="only every k-th page so that about N remain")
    parser.add_argument("--split", choices=("all", "tuning", "held-out"), default="all",
                        help="run only the pages of one half of the site split")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap rounds")
    parser.add_argument("--fast", action="store_true", help="newsarchive with ExtractOptions(fast=True)")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="set one ExtractOptions field for newsarchive (repeatable): --option merge_passes=true")
    args = parser.parse_args()
    options = extract_options(args.option, fast=args.fast)
    chosen = [s for s in args.sets.split(",") if s]
    for name in chosen:
        pages = LOADERS[name](args.data)
        if args.split != "all":
            pages = [p for p in pages if held_out(p.site) == (args.split == "held-out")]
        if args.limit:
            pages = pages[:: max(1, len(pages) // args.limit)]
        start = time.perf_counter()
        pairs = run_all(pages, args.processes, options)
        score(pairs)
        report(name, pairs, args.margin, args.bootstrap)
        print(f"   ({time.perf_counter() - start:.0f} s wall, {args.processes} processes)")


if __name__ == "__main__":
    main()
