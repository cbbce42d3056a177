"""The derived tables a crawl brings up to date at its close (story clusters, site templates), as tasks for a
process apart from the crawl's main process.

Measured before story clustering moved to numpy and an on-disk LSH (:mod:`newsarchive.archive.minhash`):
clustering imported datasketch, scipy and numpy (+68 MB RSS, 0.87 s to import beside Scrapy, SQLAlchemy and
warcio) and held the signatures of all clustered articles, and learning a template reads up to 1,000 pages
of the site. In the crawl's main process that was its peak: ``bench/crawl.py --sizes 1000``, main PSS peak
194 MB against the bare baseline's 134 MB, reached after the last page. Clustering now needs only numpy and
memory bounded by the new articles, but numpy (+20 MB RSS to import), the template learner's page texts and the heap they
fragment would still stay with the main process, for ever in ``newsarchive schedule``. Run in a
process of its own (one worker forked from the
extraction pool's forkserver, :func:`newsarchive.extract.pool.make_executor`), it is handed back when that
process ends. The tasks take the index URL (an :class:`ArchiveIndex` is not picklable) or, run in
the main process, the index object; what they log is collected (:func:`logged`) and logged again by the
crawl, which a process apart would otherwise drop (it has no handlers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from newsarchive.archive.index import ArchiveIndex

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _Collect(logging.Handler):
    def __init__(self, level: int):
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # arguments need not pickle
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


@contextmanager
def _index(index: ArchiveIndex | str) -> Iterator[ArchiveIndex]:
    if isinstance(index, ArchiveIndex):
        yield index
        return
    opened = ArchiveIndex(index, create=False)  # the crawl brought the schema up to date
    try:
        yield opened
    finally:
        opened.close()


def logged(task: Callable[..., T], level: int, *args: Any) -> tuple[T, list[logging.LogRecord]]:
    """In a process apart: ``task(*args)`` and the records of ``level`` and above it logged, for the crawl
    to log again (:func:`relog`); exceptions propagate."""
    handler = _Collect(level)
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        return task(*args), handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


def relog(records: list[logging.LogRecord]) -> None:
    """Log the records :func:`logged` collected in another process, through this one's handlers."""
    for record in records:
        logging.getLogger(record.name).handle(record)


def cluster_stories(index: ArchiveIndex | str) -> str:
    """New articles join their story clusters (:func:`newsarchive.archive.dedup.cluster_articles`); the
    report as text."""
    from newsarchive.archive.dedup import cluster_articles

    with _index(index) as opened:
        return str(cluster_articles(opened))


def template_stale(index: ArchiveIndex, site: str, share: float = 0.1, minimum: int = 20) -> bool:
    """Whether a site's template should be learned again: never learned, or ``share`` of the pages it was
    learned from (at least ``minimum``) were extracted since. Learning reads up to 1,000 pages of the site
    and others' texts, so a crawl that added a handful of pages does not pay for it at close."""
    from sqlalchemy import func, select

    from newsarchive.archive.models import Article, SiteTemplate

    with index.sessions() as s:
        head = s.get(SiteTemplate, site)
        if head is None:
            return True
        new = s.scalar(select(func.count()).select_from(Article).where(
            Article.site == site, Article.status == "ok", Article.extracted_at > head.learned_at)) or 0
    stale = new >= max(minimum, int(share * head.pages))
    if not stale:
        logger.info("template of %s kept: %d new page(s) since it was learned from %d", site, new, head.pages)
    return bool(stale)


def relearn_template(index: ArchiveIndex | str, site: str) -> bool:
    """Learn ``site``'s template again from what the index holds, if it is stale (:func:`template_stale`);
    whether it was."""
    from newsarchive.extract.learning import learn, save

    with _index(index) as opened:
        if not template_stale(opened, site):
            return False
        save(opened, learn(opened, site))
        return True
