"""Items passed from spiders to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from newsarchive.crawler.session import CaptureInfo
from newsarchive.extract.result import Extraction


def _record_id(capture: CaptureInfo) -> str:
    return capture.record_id


def _fields(extraction: Extraction | None) -> dict[str, Any] | None:
    return extraction.as_record() if extraction is not None else None


@dataclass(init=False)
class ArticleItem:
    """An archived page that should hold an article; the pipelines extract and index it.

    The page's HTML is held beside the item's fields (``html``, not a field), so it stays out of the item's
    repr, the "Scraped from" log lines and feed exports; a feed gets the URL, the site, the WARC record id of
    the capture and the extracted fields.
    """

    url: str
    site: str
    capture: CaptureInfo = field(repr=False, metadata={"serializer": _record_id})
    extraction: Extraction | None = field(default=None, repr=False, metadata={"serializer": _fields})

    def __init__(self, url: str, capture: CaptureInfo, html: str, site: str, extraction: Extraction | None = None):
        self.url, self.capture, self.site, self.extraction = url, capture, site, extraction
        self.html = html
