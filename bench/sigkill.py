"""The SIGKILL matrix: kill a crawl at chosen points, resume it, and count what was lost or fetched again.

A local site of N article pages (linked from section pages) is crawled with one extraction process; the
crawl SIGKILLs itself at a kill point (``NEWSARCHIVE_TEST_KILL_AT``: after the N-th response reached the
WARC but before its index row, while a page is being extracted, after the metadata record but before the
article row), then the same crawl runs again to the end. Printed per kill point: WARC records corrupt
(``verify``), articles missing (article pages served without an article row), pages refetched (article
pages in the killed run's WARCs that the resumed run fetched again) and pages fetched twice in the resumed
run. (A page in flight when the crawl died, served but not yet archived, is fetched again: not a refetch.)

    python bench/sigkill.py --pages 200
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from localsite import serve

PER_SECTION = 25
WORDS = ("Regierung Parlament Abstimmung Haushalt Minister Opposition Bericht Kommission Gemeinde Verkehr "
         "Schule Klima Energie Gericht Urteil Polizei Feuerwehr Wahl Umfrage Wirtschaft Export Preise").split()


def article_page(i: int) -> bytes:
    paragraphs = "".join(
        "<p>" + " ".join(WORDS[(i * 7 + p * 3 + w) % len(WORDS)] + ("." if w % 9 == 8 else "") for w in range(45))
        + f" Meldung {i}, Absatz {p}.</p>" for p in range(5))
    return (f"<!doctype html><html lang=de><head><meta charset=utf-8><title>Meldung {i} | Killbote</title></head>"
            f"<body><nav><a href='/'>Start</a></nav><main><article><h1>Meldung {i} aus der Stadt</h1>"
            f"{paragraphs}</article></main><footer>Impressum</footer></body></html>").encode()


def make_site(pages: int) -> dict[str, bytes]:
    site: dict[str, bytes] = {"/robots.txt": b"User-agent: *\nAllow: /\n"}
    sections = (pages + PER_SECTION - 1) // PER_SECTION
    links = "".join(f"<a href='/ressort-{s}/'>Ressort {s}</a>" for s in range(sections))
    site["/"] = f"<html><body><nav>{links}</nav></body></html>".encode()
    for s in range(sections):
        paths = [f"/ressort-{s}/meldung-{i:05d}-aus-der-stadt.html" for i in range(s * PER_SECTION,
                                                                                   min(pages, (s + 1) * PER_SECTION))]
        for path in paths:
            site[path] = article_page(int(path.split("-")[2]))
        body = "".join(f"<li><a href='{p}'>{p}</a></li>" for p in paths)
        site[f"/ressort-{s}/"] = f"<html><body><ul>{body}</ul></body></html>".encode()
    return site


def article_paths(site: dict[str, bytes]) -> list[str]:
    return [p for p in site if "/meldung-" in p]


@dataclass(frozen=True)
class Outcome:
    point: str
    killed: bool
    corrupt: int
    missing: int
    refetched: int
    twice_in_resume: int
    seconds: float


RESUMED_AGENT = "newsarchive-sigkill-bench-resumed"  # the resumed run's requests, told from the killed run's


def crawl(url: str, home: Path, pages: int, kill_at: str = "", timeout: float = 600, agent: str = "") -> int:
    cmd = [sys.executable, "-m", "newsarchive", "crawl", url, "--home", str(home), "--depth", "2",
           "--max-pages", str(pages * 2 + 100), "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
           "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=1",
           "-s", "NEWSARCHIVE_PROGRESS_ENABLED=False", "-s", "NEWSARCHIVE_REQUISITES_ENABLED=False"]
    if kill_at:
        cmd += ["-s", f"NEWSARCHIVE_TEST_KILL_AT={kill_at}"]
    if agent:
        cmd += ["-s", f"USER_AGENT={agent}"]
    with tempfile.TemporaryFile() as out:  # not a pipe: a killed crawl's orphaned workers would hold it open
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        finally:
            _kill_group(proc.pid)  # extraction workers a SIGKILLed crawl left behind
        if code not in (0, -9):
            out.seek(0)
            sys.stderr.write(out.read().decode("utf-8", "replace")[-3000:])
    return code


def _kill_group(pgid: int) -> None:
    import os
    import signal

    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_point(point: str, pages: int) -> Outcome:
    """Crawl with a kill at ``point`` ("" = no kill), resume, and count corrupt records, missing articles and
    article pages fetched more than once."""
    from sqlalchemy import select

    from newsarchive.archive.home import ArchiveHome
    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.models import Article
    from newsarchive.archive.verify import verify_archive

    site = make_site(pages)
    second: Counter[str] = Counter()
    server = serve(site, second, agent=RESUMED_AGENT)  # the killed run's late-served requests are not counted
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sigkill-") as tmp:
        home = Path(tmp)
        code = crawl(url, home, pages, point)
        archived = archived_urls(home / "warcs")  # what the killed run had in its WARCs
        crawl(url, home, pages, agent=RESUMED_AGENT)
        if not second:  # the resumed run fetches its start page at least: its requests must be told apart
            raise RuntimeError(f"no request with User-Agent {RESUMED_AGENT!r} reached the site")
        server.shutdown()
        archive = ArchiveHome.resolve(home)
        index = ArchiveIndex(archive.index_url)
        report = verify_archive(index, archive.warc_dir)
        with index.sessions() as s:
            extracted = {u for u in s.scalars(select(Article.url))}
        index.close()
    corrupt = sum(1 for p in report.problems if p.kind not in ("unindexed",))
    paths = article_paths(site)
    missing = sum(1 for p in paths if url.rstrip("/") + p not in extracted)
    refetched = sum(1 for p in paths if url.rstrip("/") + p in archived and second[p] > 0)
    twice = sum(1 for p in paths if second[p] > 1)
    return Outcome(point or "no kill", code == -9, corrupt, missing, refetched, twice, time.perf_counter() - started)


def archived_urls(warc_dir: Path) -> set[str]:
    """Target URIs of the complete response records in ``warc_dir`` (a killed crawl's ``.open`` files too)."""
    from newsarchive.archive.models import WarcRef
    from newsarchive.archive.verify import scan_members
    from newsarchive.archive.warc import read_record

    found: set[str] = set()
    for path in sorted(warc_dir.glob("*.warc.gz*")):
        try:
            for member in scan_members(path):
                record = read_record(path.parent, WarcRef(path.name, member.offset, member.length))
                if record.rec_type == "response":
                    found.add(record.warc_header("WARC-Target-URI") or "")
        except Exception:  # noqa: BLE001 - a cut last member ends the file
            continue
    return found


def default_points(pages: int) -> list[str]:
    return [f"captured:{max(1, pages * pct // 100)}" for pct in (20, 40, 50)] + [
        f"extracting:{max(1, pages // 3)}", f"extracted:{max(1, pages // 3)}", f"captured:{pages // 2 + 3}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--points", nargs="*", help="kill points (default: 20/40/50%% of captures, during "
                        "extraction, between metadata record and article row)")
    args = parser.parse_args()
    points = args.points or default_points(args.pages)
    print(f"{args.pages} article pages; each kill point: one crawl killed there, then resumed to the end")
    print(f"{'kill point':<18}{'killed':>7}{'corrupt':>9}{'missing':>9}{'refetched':>11}{'twice':>7}{'seconds':>9}")
    for point in points:
        o = run_point(point, args.pages)
        print(f"{o.point:<18}{'yes' if o.killed else 'NO':>7}{o.corrupt:>9}{o.missing:>9}{o.refetched:>11}"
              f"{o.twice_in_resume:>7}{o.seconds:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
