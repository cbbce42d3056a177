"""Article extraction: trafilatura (comments off) plus metadata, as plain functions with no Scrapy import.

``extract(html, url)`` returns an :class:`Extraction` whatever happens: a failure carries ``status="failed"``
and a ``reason`` (``empty``, ``not-html``, ``too-short``, ``parse-error``), never ``None``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import trafilatura
from htmldate import find_date

logger = logging.getLogger(__name__)

EXTRACTOR_NAME = "newsarchive-trafilatura"
EXTRACTOR_VERSION = f"1+trafilatura-{trafilatura.__version__}"
MIN_WORDS = 20


@dataclass(frozen=True)
class ExtractOptions:
    min_words: int = MIN_WORDS
    favor_precision: bool = True
    include_tables: bool = True


@dataclass(frozen=True)
class Extraction:
    url: str
    status: str  # "ok" | "failed"
    reason: str | None = None
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    date_source: str | None = None
    language: str | None = None
    site: str | None = None
    section: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    text: str = ""
    extractor: str = EXTRACTOR_NAME
    extractor_version: str = EXTRACTOR_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def word_count(self) -> int:
        return len(re.findall(r"\w+", self.text))

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def as_record(self) -> dict[str, Any]:
        """The fields written to the WARC metadata record (JSON-serialisable)."""
        data = asdict(self)
        for key in ("published", "modified"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        data["word_count"] = self.word_count
        data["text_hash"] = self.text_hash
        return data


def failed(url: str, reason: str) -> Extraction:
    return Extraction(url=url, status="failed", reason=reason)


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def detect_language(text: str, declared: str | None) -> str | None:
    """The language of the text (py3langid), falling back to the page's declared language."""
    if len(text) >= 40:
        try:
            import py3langid  # type: ignore[import-untyped]

            lang, _score = py3langid.classify(text[:5000])
            return str(lang)
        except Exception as exc:  # model load problems must not stop extraction
            logger.debug("language detection failed: %s", exc)
    if declared:
        return declared.split("-")[0].split("_")[0].lower() or None
    return None


_HTML_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([A-Za-z_-]{2,10})", re.I)


def extract(html: str | bytes, url: str, options: ExtractOptions | None = None) -> Extraction:
    """Extract the article of one page. Never raises for bad input: returns a failed Extraction."""
    options = options or ExtractOptions()
    if not html or not (html.strip() if isinstance(html, str) else html.strip()):
        return failed(url, "empty")
    raw = html.encode("utf-8", "replace") if isinstance(html, str) else html
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False,
            favor_precision=options.favor_precision, include_tables=options.include_tables,
        )
    except Exception as exc:  # trafilatura/lxml raise on pathological markup
        logger.warning("extraction failed for %s: %s", url, exc)
        return failed(url, f"parse-error: {type(exc).__name__}")
    if doc is None or not (doc.text or "").strip():
        return failed(url, "no-article-text")
    text = doc.text.strip()
    meta = _metadata(doc, raw, url)
    if len(re.findall(r"\w+", text)) < options.min_words:
        return Extraction(url=url, status="failed", reason="too-short", text=text, **meta)
    return Extraction(url=url, status="ok", text=text, **meta)


def _metadata(doc: Any, raw: bytes, url: str) -> dict[str, Any]:
    declared = _HTML_LANG.search(raw[:4096])
    published = parse_date(doc.date)
    date_source = "trafilatura" if published else None
    if published is None:
        found = find_date(raw.decode("utf-8", "replace"), url=url, original_date=True, outputformat="%Y-%m-%d")
        published, date_source = parse_date(found), ("htmldate" if found else None)
    return {
        "title": (doc.title or None),
        "author": (doc.author or None),
        "published": published,
        "date_source": date_source,
        "language": detect_language(doc.text or "", declared.group(1).decode() if declared else None),
        "site": doc.sitename or urlsplit(url).hostname,
        "section": ", ".join(doc.categories) if getattr(doc, "categories", None) else None,
        "description": doc.description or None,
        "canonical_url": doc.url if doc.url and doc.url != url else None,
    }
