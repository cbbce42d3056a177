"""Index rows written in batches by one background thread; archived URL keys loaded once per crawl."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from newsarchive.archive.index import ArchiveIndex, IndexWriter, KeySet, PendingArticle
from newsarchive.archive.models import Article, Capture, FetchFailure
from tests.pg import sqlite_and_postgresql_index


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArchiveIndex]:
    yield from sqlite_and_postgresql_index(request, tmp_path)


def capture(n: int, **kw: Any) -> Capture:
    url = f"http://127.0.0.1:9/politik/meldung-{n}.html"
    values: dict[str, Any] = dict(url=url, canonical_url=url, url_key=f"127.0.0.1:9/politik/meldung-{n}.html",
                                  host="127.0.0.1", status=200, fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
                                  content_type="text/html", payload_digest="sha1:X", record_type="response",
                                  record_id=f"<urn:uuid:{n}>", warc_file="a.warc.gz", warc_offset=n, warc_length=1,
                                  kind="article")
    values.update(kw)
    return Capture(**values)


def article(c: Capture) -> PendingArticle:
    return PendingArticle(Article(capture_id=0, url=c.url, canonical_url=c.url, site="s", text="t"), c)


class Transactions:
    """Counts COMMITs on the engine."""

    def __init__(self, index: ArchiveIndex):
        self.commits = 0
        self.threads: set[str] = set()
        event.listen(index.engine, "commit", self.seen)

    def seen(self, _conn: Any) -> None:
        self.commits += 1
        self.threads.add(threading.current_thread().name)


def test_rows_are_committed_in_batches_by_the_writer_thread(index: ArchiveIndex) -> None:
    tx = Transactions(index)
    writer = IndexWriter(index, batch_size=100, interval=3600)  # only size and flush commit here
    captures = [capture(n) for n in range(250)]
    for c in captures:
        writer.add(c)
        writer.add(article(c))  # its capture may sit in the same batch: it gets its id there
    writer.add(FetchFailure(run_id=None, url="http://127.0.0.1:9/x", reason="Timeout"))
    assert writer.flush(timeout=120)
    writer.close()
    with index.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Capture)) == 250
        pairs = s.execute(select(Article.url, Capture.url).join(Capture, Capture.id == Article.capture_id)).all()
        assert len(pairs) == 250 and all(a == c for a, c in pairs)
        assert s.scalar(select(func.count()).select_from(FetchFailure)) == 1
    assert tx.commits == 6, "501 rows: five full batches of 100 and the one flushed"
    assert tx.threads == {"index-writer"}, "no transaction on the caller's thread"
    assert writer.stats.rows == 501 and writer.stats.failed_rows == 0


def test_a_bad_row_is_counted_and_the_rest_of_its_batch_written(index: ArchiveIndex) -> None:
    errors: list[str] = []
    writer = IndexWriter(index, batch_size=1000, interval=0.05, on_error=errors.append)
    writer.add(capture(1))
    writer.add(capture(2, record_id="<urn:uuid:1>"))  # record ids are unique
    writer.add(capture(3))
    assert writer.flush(timeout=120)
    writer.close()
    with index.sessions() as s:
        assert sorted(s.scalars(select(Capture.warc_offset))) == [1, 3]
    assert writer.stats.failed_rows == 1 and len(errors) == 1


def test_a_queued_row_is_committed_by_the_timer_without_a_flush(index: ArchiveIndex) -> None:
    committed = threading.Event()
    event.listen(index.engine, "commit", lambda _conn: committed.set())
    writer = IndexWriter(index, batch_size=1000, interval=0.05)
    writer.add(capture(7))
    assert committed.wait(120), "the timer commits a batch that never fills"
    writer.close()


def test_archived_keys_answer_recrawl_questions_without_queries(index: ArchiveIndex) -> None:
    with index.session() as s:
        first = capture(1)
        s.add_all([first, capture(2, status=404, record_id="<urn:uuid:404>"),
                   capture(3, status=301, location="/politik/meldung-1.html", record_id="<urn:uuid:301>",
                           fetched_at=datetime(2024, 1, 2, tzinfo=UTC)),
                   capture(4, host="elsewhere.example", url="http://elsewhere.example/x", url_key="elsewhere.example/x")])
        s.flush()
        s.add(Article(capture_id=first.id, url=first.url, canonical_url=first.url, site="s", text="t"))
    keys = index.archived_keys(["127.0.0.1"])
    assert keys.archived("127.0.0.1:9/politik/meldung-1.html") and keys.has_article("127.0.0.1:9/politik/meldung-1.html")
    assert not keys.archived("127.0.0.1:9/politik/meldung-2.html"), "a 404 is not an archived page"
    assert keys.has_article("127.0.0.1:9/politik/meldung-3.html"), "a redirect leads to its target"
    assert not keys.archived("elsewhere.example/x"), "other sites are not loaded"
    priors = index.prior_captures(["127.0.0.1:9/politik/meldung-1.html", "127.0.0.1:9/politik/meldung-2.html"])
    assert list(priors) == ["127.0.0.1:9/politik/meldung-1.html"]
    prior = priors["127.0.0.1:9/politik/meldung-1.html"]
    single = index.prior_capture("127.0.0.1:9/politik/meldung-1.html")
    assert prior == single and prior.has_article
    assert prior.first_fetched_at <= prior.fetched_at < datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=1)


def test_a_site_template_is_learned_again_only_after_enough_new_pages(index: ArchiveIndex) -> None:
    from newsarchive.archive.models import SiteTemplate
    from newsarchive.extract.derived import template_stale as _template_stale

    assert _template_stale(index, "s"), "never learned"
    learned = datetime(2024, 1, 1, tzinfo=UTC)
    with index.session() as s:
        s.add(SiteTemplate(site="s", pages=300, learned_at=learned))

    def add_articles(first: int, count: int) -> None:
        with index.session() as s:
            for n in range(first, first + count):
                c = capture(n)
                s.add(c)
                s.flush()
                s.add(Article(capture_id=c.id, url=c.url, canonical_url=c.url, site="s", status="ok", text="t",
                              extracted_at=learned + timedelta(days=1)))

    add_articles(0, 29)
    assert not _template_stale(index, "s"), "29 new pages: under 10% of 300"
    add_articles(29, 1)
    assert _template_stale(index, "s")


def test_key_set_answers_membership_like_a_set() -> None:
    keys = [f"example.org/politik/meldung-{i}" for i in range(1000)]
    found = KeySet(keys[:500])
    found.update(keys[500:900])
    found.add(keys[900])
    assert len(found) == 901
    assert all(k in found for k in keys[:901]) and not any(k in found for k in keys[901:])
    found.add(keys[0])
    assert len(found) == 901, "a member added again is one member"
    assert 123 not in found and hash("x") not in KeySet(["x"]), "only strings are members"
