"""Items passed from spiders to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass

from newsarchive.crawler.session import CaptureInfo
from newsarchive.extract.article import Extraction


@dataclass
class ArticleItem:
    """An archived page that should hold an article; the pipelines extract and index it."""

    url: str
    capture: CaptureInfo
    html: str
    site: str
    extraction: Extraction | None = None
