"""The Scrapy add-on: newsarchive's capture, extraction and index in any Scrapy project, with one setting.

    # settings.py of your project
    ADDONS = {"newsarchive.crawler.addon.NewsArchiveAddon": 0}
    NEWSARCHIVE_HOME = "archive"          # WARCs in archive/warcs/, the index in archive/index.sqlite

Every response your spiders get is archived to WARC and indexed (the capture middleware at 650, above
HttpCompression and Redirect, so it sees wire bytes). Items the spider yields for a page, plain dicts or
``scrapy.Item``/dataclass items whose ``url`` is the URL of the response they came from, are extracted
(pipeline 300, in a process pool) and indexed with a WARC metadata record (pipeline 800). The extracted
fields named by ``NEWSARCHIVE_ITEM_FIELDS`` are filled into the item where it has no value of its own (a
``scrapy.Item`` only where it declares the field). The page's HTML never becomes part of the item: it is
held beside it (:class:`ItemPages`) until extraction is done, so item reprs, logs and feed exports stay small.

Settings the add-on sets with ``addon`` priority (your project's own values win): the components above,
``NEWSARCHIVE_ITEM_FIELDS``. Every ``NEWSARCHIVE_*`` setting of :mod:`newsarchive.settings` works as there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itemadapter import ItemAdapter, is_item
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings

from newsarchive.archive.urls import host_of, url_key
from newsarchive.crawler.items import ArticleItem
from newsarchive.crawler.session import CaptureInfo
from newsarchive.extract.result import Extraction

logger = logging.getLogger(__name__)

META_CAPTURE = "newsarchive_capture"  # what CaptureMiddleware leaves on the request (middlewares.META_CAPTURE)
DEFAULT_ITEM_FIELDS = ("title", "authors", "published", "language", "text")

# (setting, component, priority): the same places as in newsarchive.settings
COMPONENTS: tuple[tuple[str, str, int], ...] = (
    # 650: above Redirect (600) and HttpCompression (590): wire bytes, Content-Encoding and every 3xx archived
    ("DOWNLOADER_MIDDLEWARES", "newsarchive.crawler.middlewares.CaptureMiddleware", 650),
    # 50: near the engine, so it sees the items your own spider middlewares let through
    ("SPIDER_MIDDLEWARES", "newsarchive.crawler.addon.ItemPagesMiddleware", 50),
    # 300: extraction (process pool); 800: WARC metadata record, then the index row
    ("ITEM_PIPELINES", "newsarchive.crawler.pipelines.ExtractionPipeline", 300),
    ("ITEM_PIPELINES", "newsarchive.crawler.pipelines.IndexPipeline", 800),
)


class NewsArchiveAddon:
    """Enables capture, extraction and index (see the module docstring)."""

    def update_settings(self, settings: BaseSettings) -> None:
        for name, path, priority in COMPONENTS:
            components = settings[name]
            if isinstance(components, BaseSettings):
                components.set(path, priority, "addon")
            else:  # a plain dict set after the settings were frozen into BaseSettings (rare)
                settings.set(name, {**dict(components or {}), path: priority}, "addon")
        settings.set("NEWSARCHIVE_ITEM_FIELDS", list(DEFAULT_ITEM_FIELDS), "addon")


@dataclass(frozen=True)
class _Entry:
    item: Any  # held, so that its id() stays unique while the entry lives
    page: ArticleItem


class ItemPages:
    """Items of the user's spider -> the archived page each was yielded for (an :class:`ArticleItem` the
    pipelines extract and index), by identity. Entries live from the spider middleware to the index
    pipeline; dropped or failed items are forgotten (signals), so the table holds only items in flight."""

    def __init__(self, crawler: Crawler):
        self._entries: dict[int, _Entry] = {}
        self.fields = tuple(crawler.settings.getlist("NEWSARCHIVE_ITEM_FIELDS", list(DEFAULT_ITEM_FIELDS)))
        crawler.signals.connect(self.forget, signal=signals.item_dropped)
        crawler.signals.connect(self.forget, signal=signals.item_error)

    @classmethod
    def of(cls, crawler: Crawler) -> ItemPages:
        pages = getattr(crawler, "_newsarchive_item_pages", None)
        if pages is None:
            pages = cls(crawler)
            crawler._newsarchive_item_pages = pages  # type: ignore[attr-defined]
        return pages

    def __len__(self) -> int:
        return len(self._entries)

    def attach(self, item: Any, page: ArticleItem) -> None:
        self._entries[id(item)] = _Entry(item, page)

    def page_of(self, item: Any) -> ArticleItem | None:
        entry = self._entries.get(id(item))
        return entry.page if entry is not None and entry.item is item else None

    def pop(self, item: Any) -> ArticleItem | None:
        page = self.page_of(item)
        if page is not None:
            del self._entries[id(item)]
        return page

    def forget(self, item: Any, *args: Any, **kwargs: Any) -> None:
        self.pop(item)

    def fill(self, item: Any, extraction: Extraction) -> None:
        """The extracted fields the item has no value of its own for (declared fields only, unless a dict)."""
        if not extraction.ok:
            return
        adapter = ItemAdapter(item)
        declared = set(adapter.field_names()) if not isinstance(item, dict) else None
        for name in self.fields:
            if (declared is not None and name not in declared) or adapter.get(name) not in (None, "", [], ()):
                continue
            value = getattr(extraction, name, None)
            if value is None:
                continue
            adapter[name] = value.isoformat() if isinstance(value, datetime) else (
                list(value) if isinstance(value, tuple) else value)


def _page(item: Any, response: Response) -> ArticleItem | None:
    """The archived page ``item`` stands for: its ``url`` is the response's (exactly or up to tracking noise)."""
    capture = response.meta.get(META_CAPTURE) if response.request is not None else None
    url = ItemAdapter(item).get("url") if "url" in ItemAdapter(item).field_names() or isinstance(item, dict) else None
    if not isinstance(capture, CaptureInfo) or not isinstance(url, str) or capture.status != 200:
        return None
    if url != response.url and url_key(url) != url_key(response.url):
        return None
    try:
        html = response.text
    except AttributeError:  # not a text response (an image, a PDF): nothing to extract
        return None
    site = str(response.meta.get("newsarchive_site") or host_of(response.url))
    return ArticleItem(url=response.url, capture=capture, html=html, site=site)


class ItemPagesMiddleware:
    """Spider middleware: links each plain item of a page to the page's capture (see :class:`ItemPages`)."""

    def __init__(self, crawler: Crawler):
        if not crawler.settings.getbool("NEWSARCHIVE_EXTRACTION_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_EXTRACTION_ENABLED is off")
        self.pages = ItemPages.of(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ItemPagesMiddleware:
        return cls(crawler)

    def _link(self, response: Response, element: Any) -> None:
        if isinstance(element, ArticleItem) or not is_item(element):
            return
        page = _page(element, response)
        if page is None:
            self.stats.inc_value("newsarchive/items/not_extracted")
            return
        self.pages.attach(element, page)
        self.stats.inc_value("newsarchive/items/linked")

    def process_spider_output(self, response: Response, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        for element in result:
            self._link(response, element)
            yield element

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        async for element in result:
            self._link(response, element)
            yield element
