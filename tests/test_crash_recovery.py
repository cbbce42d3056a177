"""SIGKILL at several points of a crawl, then resume: nothing lost, nothing archived fetched again (issue 16.2).

The crawl kills itself at a fault-injection point (``NEWSARCHIVE_TEST_KILL_AT``), so each kill lands where it
should, with no guessed sleep: between WARC write and index commit, while a page is being extracted (its
capture committed), and between the metadata record and the article row.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def sigkill_bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # sigkill.py imports its sibling localsite.py
    try:
        spec = importlib.util.spec_from_file_location("bench_sigkill", BENCH / "sigkill.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.slow
@pytest.mark.parametrize("point", ["captured:12", "captured:30", "extracting:15", "extracted:15"])
def test_killed_crawl_resumes_without_loss_or_refetch(point: str) -> None:
    bench = sigkill_bench()
    outcome = bench.run_point(point, 40)
    assert outcome.killed, f"the crawl did not reach kill point {point}"
    assert outcome.corrupt == 0
    assert outcome.missing == 0, f"{outcome.missing} article(s) lost at {point}"
    assert outcome.refetched == 0, f"{outcome.refetched} archived page(s) fetched again after {point}"
    assert outcome.twice_in_resume == 0


def test_unindexed_records_and_unfinished_extractions_are_recovered(tmp_path: Path) -> None:
    """Without a crawl: a WARC whose records have no index rows (the batch never committed), one page with
    its metadata record (extracted, article row lost) and one without (killed during extraction)."""
    from datetime import UTC, datetime

    from newsarchive.archive.index import ArchiveIndex
    from newsarchive.archive.warc import HttpExchange, WarcWriter, WarcWriterOptions
    from newsarchive.crawler.recovery import index_unindexed, read_orphan

    warc_dir = tmp_path / "warcs"
    writer = WarcWriter(warc_dir, WarcWriterOptions(prefix="t"))
    pages = {}
    for name in ("a", "b"):
        url = f"http://127.0.0.1:9/{name}-meldung-aus-der-stadt.html"
        body = f"<html><body><article><h1>{name}</h1><p>Text {name}</p></article></body></html>".encode()
        written = writer.write_exchange(HttpExchange(
            url=url, status=200, response_headers=[("Content-Type", "text/html; charset=utf-8")], body=body,
            fetched_at=datetime.now(UTC), warc_headers=(("Newsarchive-Kind", "article"),
                                                        ("Newsarchive-Site", "demo"))))
        pages[name] = (url, written)
    writer.write_metadata(pages["a"][0], pages["a"][1].record_id,
                          {"url": pages["a"][0], "status": "ok", "title": "a", "text": "Text a",
                           "newsarchive_site": "demo"})
    path = warc_dir / writer.current_name
    writer.close()
    index = ArchiveIndex(f"sqlite:///{tmp_path / 'index.sqlite'}")
    report = index_unindexed(index, path)
    assert (report.captures, report.articles) == (2, 1)
    again = index_unindexed(index, path)
    assert (again.captures, again.articles) == (0, 0), "idempotent"
    orphans = index.orphan_captures(["127.0.0.1"])
    assert [c.url for c in orphans] == [pages["b"][0]]
    page = read_orphan(warc_dir, orphans[0])
    assert page is not None and "Text b" in page.html
    keys = index.archived_keys(["127.0.0.1"])
    assert keys.archived("127.0.0.1:9/a-meldung-aus-der-stadt.html")
    assert keys.has_article("127.0.0.1:9/a-meldung-aus-der-stadt.html")
    assert not keys.has_article("127.0.0.1:9/b-meldung-aus-der-stadt.html")
    index.close()
