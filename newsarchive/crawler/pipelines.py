"""Item pipelines: extraction off the reactor thread (300), then WARC metadata record + index row (800)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.archive.index import ArchiveIndex, PendingArticle
from newsarchive.crawler.addon import ItemPages
from newsarchive.crawler.items import ArticleItem
from newsarchive.crawler.session import ArchiveSession
from newsarchive.extract.derived import cluster_stories, logged, relearn_template, relog
from newsarchive.extract.pool import make_executor, run_extract
from newsarchive.extract.records import ArticleSource, article_row
from newsarchive.extract.result import Extraction, ExtractOptions, failed
from newsarchive.extract.templates import TemplateModel

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ExtractionPipeline:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_EXTRACTION_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_EXTRACTION_ENABLED is off")
        self.stats = crawler.stats
        self.workers = settings.getint("NEWSARCHIVE_EXTRACTION_WORKERS", 2)
        self.options = ExtractOptions(min_words=settings.getint("NEWSARCHIVE_EXTRACTION_MIN_WORDS", 20))
        self.executor: Executor | None = None
        self.crawler = crawler
        self.use_templates = settings.getbool("NEWSARCHIVE_TEMPLATES_ENABLED", True)
        self.templates: dict[str, TemplateModel] = {}
        self.item_pages = ItemPages.of(crawler)  # plain items of a user's spider (the Scrapy add-on)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        # idle: no page is in extraction, so the workers go before the close-time work (story clusters,
        # templates) runs beside them; pages that still come fork them again (_extract)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        self.executor = make_executor(self.workers)
        if self.use_templates:
            self.templates = self._load_templates()

    def _load_templates(self) -> dict[str, TemplateModel]:
        """Each crawled site's learned template (what recurs on its pages is chrome), from the index."""
        from newsarchive.extract.learning import load

        index = ArchiveSession.of(self.crawler).index
        sites = [s.name for s in getattr(self.crawler.spider, "sites", ())]
        models = {name: load(index, name) for name in sites}
        for name, model in models.items():
            if model:
                logger.info("site template of %s: %d lines learned from %d pages", name, len(model.entries),
                            model.pages)
        return {name: model for name, model in models.items() if model}

    def spider_closed(self, spider: Any = None) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=False)
            self.executor = None

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        page = item if isinstance(item, ArticleItem) else self.item_pages.page_of(item)
        if page is None:
            return item
        page.extraction = await self._extract(page)
        result = page.extraction
        if result.ok:
            self.stats.inc_value("newsarchive/extraction/ok")
        else:
            reason = (result.reason or "unknown").split(":")[0]
            self.stats.inc_value(f"newsarchive/extraction/failed/{reason}")
            logger.warning("no article extracted from %s: %s", page.url, result.reason)
        if page is not item:
            self.item_pages.fill(item, result)
        return item

    async def _extract(self, item: ArticleItem) -> Extraction:
        if self.executor is None:
            self.open_spider()
        assert self.executor is not None
        ArchiveSession.of(self.crawler).crash_point("extracting")
        try:
            future = self.executor.submit(run_extract, item.html, item.url, self.options, self.templates.get(item.site))
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            logger.error("extraction worker died on %s; restarting the pool", item.url)
            self.executor = make_executor(self.workers)
            return failed(item.url, "worker-crashed")
        except Exception as exc:  # an extractor bug must not stop the crawl
            logger.exception("extraction crashed on %s", item.url)
            return failed(item.url, f"crashed: {type(exc).__name__}")


class IndexPipeline:
    """Writes the extracted fields as a WARC metadata record, flushes, then commits the article row."""

    def __init__(self, crawler: Crawler):
        if not crawler.settings.getbool("NEWSARCHIVE_INDEX_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_INDEX_ENABLED is off")
        self.session = ArchiveSession.of(crawler)
        self.stats = crawler.stats
        self.learn_templates = crawler.settings.getbool("NEWSARCHIVE_TEMPLATES_ENABLED", True)
        self.item_pages = ItemPages.of(crawler)
        # the close-time work runs in a process forked from the extraction pool's forkserver, if it runs
        self.apart = (crawler.settings.getint("NEWSARCHIVE_EXTRACTION_WORKERS", 2) > 0
                      and crawler.settings.getbool("NEWSARCHIVE_EXTRACTION_ENABLED", True))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IndexPipeline:
        return cls(crawler)

    def close_spider(self, spider: Any = None) -> None:
        """Bring the derived tables up to date: new articles join their story clusters, and each crawled
        site's template is learned again from what the index now holds, for the next crawl, once enough new
        pages came in (see :func:`newsarchive.extract.derived.template_stale`).

        In a process apart (:mod:`newsarchive.extract.derived`: what clustering loads was the main process's
        peak), or in this process without extraction processes (``NEWSARCHIVE_EXTRACTION_WORKERS = 0``, or
        extraction off: no forkserver to fork from)."""
        self.session.flush_index()
        apart = self.apart
        executor = make_executor(1) if apart else None
        index: ArchiveIndex | str = self.session.index.url if apart else self.session.index
        level = logging.getLogger("newsarchive").getEffectiveLevel()

        def run(task: Callable[..., T], *args: Any) -> T:
            if executor is None:
                return task(index, *args)
            result, records = executor.submit(logged, task, level, index, *args).result()
            relog(records)
            return result

        try:
            try:
                logger.info("story clusters: %s", run(cluster_stories))
            except Exception:  # derived data: the next crawl or export clusters again
                logger.exception("could not cluster the new articles into stories")
            if not self.learn_templates:
                return
            for site in getattr(self.session.crawler.spider, "sites", ()):
                try:
                    run(relearn_template, site.name)
                except Exception:  # learning is an optimisation; it must never lose the crawl's results
                    logger.exception("could not learn the template of %s", site.name)
        finally:
            if executor is not None:
                executor.shutdown(wait=True)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        page = item if isinstance(item, ArticleItem) else self.item_pages.pop(item)
        if page is None or page.extraction is None:
            return item
        self._index(page, page.extraction)
        return item

    def _index(self, item: ArticleItem, result: Extraction) -> None:
        with self.session.lock:
            _ref, meta_id = self.session.writer.write_metadata(
                item.url, item.capture.record_id, {**result.as_record(), "newsarchive_site": item.site},
                moment=item.capture.fetched_at)
        self.session.crash_point("extracted")
        row = article_row(result, ArticleSource(item.capture.capture_id or 0, item.url, item.site,
                                                item.capture.fetched_at), meta_id)
        self.session.add_row(PendingArticle(row, item.capture.row))  # after its capture, in the same or a later batch
        self.stats.inc_value("newsarchive/articles" if result.ok else "newsarchive/articles/failed")
