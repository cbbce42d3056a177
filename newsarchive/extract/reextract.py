"""Re-run extraction over archived responses, with no network (``newsarchive reextract``).

For every article row (optionally of some sites) the archived response is read by offset (a revisit
resolves to its original), its Content-Encoding undone and its charset decoded as the crawl did, and
:func:`newsarchive.extract.article.extract` runs again. The row is updated in place and records the
extractor and version used; the new fields are also appended to the WARCs as a ``metadata`` record, so the
WARCs stay the source of truth (``reindex`` keeps the newest metadata record of a capture).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from newsarchive.archive.charset import decode_html
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.lookup import ArchiveLookup, NotArchived
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.progress import ProgressCallback
from newsarchive.archive.warc import WarcWriter, WarcWriterOptions, decoded_body, find_conversion
from newsarchive.extract.article import extract
from newsarchive.extract.learning import load as load_template
from newsarchive.extract.records import ArticleSource, article_row
from newsarchive.extract.result import EXTRACTOR_VERSION, Extraction, ExtractOptions
from newsarchive.extract.templates import TemplateModel

logger = logging.getLogger(__name__)

_COPIED = ("canonical_url", "status", "reason", "title", "author", "authors", "agencies", "image_url", "tags",
           "paywalled", "markdown", "published", "modified", "date_source", "language", "section", "description",
           "text", "word_count", "text_hash", "extractor", "extractor_version")


@dataclass(frozen=True)
class ReextractOptions:
    sites: tuple[str, ...] = ()
    extract_options: ExtractOptions = field(default_factory=ExtractOptions)
    write_warc: bool = True  # append the new fields as WARC metadata records (prefix ``newsarchive-reextract``)
    limit: int | None = None
    templates: bool = True  # apply each site's learned template (newsarchive.extract.learning)


@dataclass
class ReextractReport:
    articles: int = 0
    changed: int = 0
    ok: int = 0
    failed: int = 0
    unreadable: int = 0
    extractor_version: str = EXTRACTOR_VERSION


def archived_html(lookup: ArchiveLookup, capture: Capture) -> str:
    """The page as the crawl's spider saw it: Content-Encoding undone, charset decoded; for a page rendered
    in a browser (``render = true``), the rendered DOM kept in its ``conversion`` record."""
    dom = find_conversion(lookup.warc_dir, capture.warc_ref, capture.record_id)
    if dom is not None:
        html, _encoding = decode_html(dom.payload, dom.warc_header("Content-Type"))
        return html
    record = lookup.read(lookup.original(capture))
    html, _encoding = decode_html(decoded_body(record), record.http_header("Content-Type"))
    return html


def _apply(article: Article, result: Extraction) -> bool:
    """Copy the new fields onto the row; True when anything the reader sees changed."""
    source = ArticleSource(article.capture_id, article.url, article.site, article.fetched_at or datetime.now(UTC))
    fresh = article_row(result, source, None)
    before = (article.status, article.title, article.text, article.published, article.language, article.author)
    for name in _COPIED:
        setattr(article, name, getattr(fresh, name))
    article.extracted_at = datetime.now(UTC)
    return before != (article.status, article.title, article.text, article.published, article.language,
                      article.author)


def reextract(index: ArchiveIndex, warc_dir: str | Path, options: ReextractOptions | None = None,
              progress: ProgressCallback | None = None) -> ReextractReport:
    """Extract the selected articles again from their archived responses; ``progress(done, total articles)``."""
    options = options or ReextractOptions()
    lookup, report = ArchiveLookup(index, warc_dir), ReextractReport()
    writer = WarcWriter(warc_dir, WarcWriterOptions(prefix="newsarchive-reextract")) if options.write_warc else None
    stmt = select(Article.id).order_by(Article.id)
    if options.sites:
        stmt = stmt.where(Article.site.in_(options.sites))
    with index.sessions() as s:
        ids = list(s.scalars(stmt.limit(options.limit)))
    templates = _Templates(index, options.templates)
    try:
        for number, article_id in enumerate(ids, 1):
            _one(index, lookup, writer, article_id, options, report, templates)
            if progress:
                progress(number, len(ids))
    finally:
        if writer is not None:
            writer.close()
    return report


class _Templates:
    """Each site's learned template, loaded once per run."""

    def __init__(self, index: ArchiveIndex, enabled: bool):
        self.index, self.enabled = index, enabled
        self.models: dict[str, TemplateModel | None] = {}

    def get(self, site: str) -> TemplateModel | None:
        if not self.enabled:
            return None
        if site not in self.models:
            model = load_template(self.index, site)
            self.models[site] = model if model else None
        return self.models[site]


def _one(index: ArchiveIndex, lookup: ArchiveLookup, writer: WarcWriter | None, article_id: int,
         options: ReextractOptions, report: ReextractReport, templates: _Templates) -> None:
    with index.session() as s:
        article = s.get(Article, article_id)
        capture = s.get(Capture, article.capture_id) if article else None
        if article is None or capture is None:
            return
        report.articles += 1
        try:
            html = archived_html(lookup, capture)
        except NotArchived as exc:
            logger.warning("cannot re-extract %s: %s", article.url, exc)
            report.unreadable += 1
            return
        result = extract(html, article.url, options.extract_options, templates.get(article.site))
        report.changed += _apply(article, result)
        report.ok, report.failed = report.ok + result.ok, report.failed + (not result.ok)
        if writer is not None:
            fields = {**result.as_record(), "newsarchive_site": article.site}
            _ref, article.metadata_record_id = writer.write_metadata(article.url, capture.record_id, fields)
