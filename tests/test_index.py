from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.archive.index import ArchiveIndex, IndexUnavailable
from newsarchive.archive.models import Article, Capture
from tests.pg import sqlite_and_postgresql_index


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArchiveIndex]:
    yield from sqlite_and_postgresql_index(request, tmp_path)


def capture(url: str, **kw: object) -> Capture:
    values: dict[str, object] = dict(
        url=url, canonical_url=url, host="127.0.0.1", status=200,
        fetched_at=datetime(2024, 1, 15, 10, 0, tzinfo=UTC), content_type="text/html",
        payload_digest="sha1:AAAA", record_id=f"<urn:uuid:{abs(hash(url))}>", warc_file="a.warc.gz",
        warc_offset=100, warc_length=50, kind="article",
    )
    values.update(kw)
    return Capture(**values)  # type: ignore[arg-type]


def test_roundtrip_capture_and_article_with_aware_datetimes(index: ArchiveIndex) -> None:
    run = index.start_run("news", {"sites": ["demo"]}, site="demo")
    cid = index.add_capture(capture("http://127.0.0.1/a", run_id=run))
    index.add_article(Article(capture_id=cid, url="http://127.0.0.1/a", canonical_url="http://127.0.0.1/a",
                              site="demo", title="Putin", text="Putin will Nordkorea besuchen", word_count=4,
                              published=datetime(2024, 1, 15, 9, 0, tzinfo=UTC),
                              fetched_at=datetime(2024, 1, 15, 10, 0, tzinfo=UTC)))
    index.finish_run(run, status="finished", stats={"newsarchive/errors": 2})
    article = index.latest_article("http://127.0.0.1/a")
    assert article is not None and article.title == "Putin"
    assert article.published == datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
    stored = index.capture(cid)
    assert stored is not None and stored.warc_ref.offset == 100
    stats = index.stats()
    assert (stats.runs, stats.captures, stats.articles_ok) == (1, 1, 1)
    assert stats.by_site == [("demo", 1)] and stats.warc_bytes == 150
    with index.sessions() as s:
        from newsarchive.archive.models import CrawlRun

        row = s.get(CrawlRun, run)
        assert row is not None and (row.pages, row.articles, row.errors, row.status) == (1, 1, 2, "finished")


def test_latest_article_prefers_newest_capture(index: ArchiveIndex) -> None:
    for hour, title in ((9, "old"), (11, "new"), (10, "middle")):
        cid = index.add_capture(capture("http://127.0.0.1/b", record_id=f"<urn:{hour}>",
                                        fetched_at=datetime(2024, 1, 15, hour, tzinfo=UTC)))
        index.add_article(Article(capture_id=cid, url="http://127.0.0.1/b", canonical_url="http://127.0.0.1/b",
                                  title=title, fetched_at=datetime(2024, 1, 15, hour, tzinfo=UTC)))
    article = index.latest_article("http://127.0.0.1/b")
    assert article is not None and article.title == "new"
    assert [c.fetched_at.hour for c in index.captures_of("http://127.0.0.1/b")] == [9, 10, 11]


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(IndexUnavailable, match="cannot connect to index postgresql"):
        ArchiveIndex("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(IndexUnavailable, match="invalid index URL"):
        ArchiveIndex("not a url")
