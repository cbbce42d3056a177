"""Index rows from extractions: what one :class:`~newsarchive.extract.article.Extraction` of one capture
becomes in the ``articles`` table. Shared by the crawl's index pipeline, re-extraction and archive import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newsarchive.archive.models import Article
from newsarchive.archive.urls import canonicalize
from newsarchive.extract.result import Extraction


@dataclass(frozen=True)
class ArticleSource:
    """The capture an extraction was made from."""

    capture_id: int
    url: str
    site: str
    fetched_at: datetime | None


def article_row(result: Extraction, source: ArticleSource, metadata_record_id: str | None) -> Article:
    """A new ``articles`` row holding ``result`` for the capture ``source``."""
    return Article(
        capture_id=source.capture_id,
        url=source.url,
        canonical_url=canonicalize(result.canonical_url or source.url),
        site=source.site,
        status=result.status,
        reason=result.reason,
        title=result.title,
        author=result.author,
        authors=list(result.authors),
        agencies=list(result.agencies),
        image_url=result.image_url,
        tags=list(result.tags),
        paywalled=result.paywalled,
        markdown=result.markdown,
        published=result.published,
        modified=result.modified,
        date_source=result.date_source,
        language=result.language,
        section=result.section,
        description=result.description,
        text=result.text,
        word_count=result.word_count,
        text_hash=result.text_hash if result.text else None,
        shingles=result.shingles,
        signature=result.signature,
        extractor=result.extractor,
        extractor_version=result.extractor_version,
        metadata_record_id=metadata_record_id,
        fetched_at=source.fetched_at,
    )
