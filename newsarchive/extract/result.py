"""What extraction returns and takes: :class:`Extraction`, :class:`ExtractOptions`, :func:`failed`.

Apart from :mod:`newsarchive.extract.article` so that the crawl's main process, which only ships pages to
the extraction pool and writes results to the index, never imports trafilatura, lxml's HTML tools or
their dependencies (measured by bench/crawl.py: the extraction stack is tens of MB and about half a
second of start-up per process).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    _TRAFILATURA = version("trafilatura")
except PackageNotFoundError:  # pragma: no cover - trafilatura is a dependency
    _TRAFILATURA = "unknown"

EXTRACTOR_NAME = "newsarchive-trafilatura"
EXTRACTOR_VERSION = f"5+trafilatura-{_TRAFILATURA}"  # 5: words after an empty element kept (4: author-page links, gated readability)
MIN_WORDS = 20
FALLBACK_MIN_WORDS = 60  # below this many words after cleaning, try the uncleaned page and readability


@dataclass(frozen=True)
class ExtractOptions:
    min_words: int = MIN_WORDS
    favor_precision: bool = True  # trafilatura's precision mode: measured on the tuning half of the site split (bench)
    include_tables: bool = True
    chrome_filters: bool = True  # generic DOM and line filters (off: plain trafilatura)
    fallback_min_words: int = FALLBACK_MIN_WORDS
    merge_passes: bool = False  # also run a precision pass and merge (costs a second trafilatura run)
    readability_gate: bool = True  # no readability candidate once the own extraction holds half the main text
    keep_tails: bool = True  # the text after an empty element stays in precision mode (article._KEEP_TAILS)
    fast: bool = False  # trafilatura without its readability/jusText comparison (faster, less exact)


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
    authors: tuple[str, ...] = ()
    modified_source: str | None = None
    agencies: tuple[str, ...] = ()  # news agencies credited (dpa, AFP, Reuters, APA), apart from the authors
    image_url: str | None = None  # the lead image (og:image / JSON-LD image), absolute
    tags: tuple[str, ...] = ()  # keywords / tags the page declares
    paywalled: bool | None = None  # True when the page declares isAccessibleForFree=false; None: not declared
    markdown: str = ""  # the body with headings, paragraphs and lists kept, as Markdown
    extra: dict[str, Any] = field(default_factory=dict)
    # story clustering's shingle count and MinHash signature of the text (newsarchive.archive.minhash), made
    # in the extraction worker; index-only, not in the WARC record
    shingles: int | None = None
    signature: bytes | None = None

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
        del data["shingles"], data["signature"]  # derived from the text, for the index's story clustering
        for key in ("published", "modified"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        data["authors"] = list(self.authors)
        data["agencies"] = list(self.agencies)
        data["tags"] = list(self.tags)
        data["word_count"] = self.word_count
        data["text_hash"] = self.text_hash
        return data


def failed(url: str, reason: str) -> Extraction:
    return Extraction(url=url, status="failed", reason=reason)
