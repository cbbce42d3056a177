"""Site-level template learning: text lines that recur across many pages of one site are its chrome.

Generic filters cannot know that "Willkommen in unserer Community! ..." is the netiquette box of one outlet;
the archive can. :func:`learn` reads the articles the index holds for a site, counts on how
many *distinct* pages (by canonical URL, so versions of one article count once) each line occurs, and keeps
the lines seen on at least ``min_pages`` pages and ``min_share`` of them. Two guards keep story text:

- a line that also occurs in articles of *another* site is wire copy (an agency paragraph many outlets
  print), not template, unless it is short (``max_shared_words``: "Teilen", "Kommentare");
- :meth:`TemplateModel.filter` never removes a line that is the majority of the page's words.

The model is stored in the index (tables ``site_templates`` and ``template_lines`` of :mod:`newsarchive.archive.models`) and applied on later
pages (``extract(..., template=model)``) and on re-extraction. A new ``learn`` keeps the lines of the
previous model (pages extracted with it no longer show them) unless ``fresh=True``.

Example::

    index = ArchiveIndex("sqlite:///newsarchive-data/index.sqlite")
    model = learn(index, "kronenpost", min_pages=5, min_share=0.3)
    save(index, model)
    clean = load(index, "kronenpost").filter(text)
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, SiteTemplate, TemplateLine, utcnow
from newsarchive.extract.templates import (
    _WORD,
    MIN_PAGES,
    MIN_SHARE,
    TemplateEntry,
    TemplateModel,
    page_lines,
)

logger = logging.getLogger(__name__)

MAX_PAGES = 1000  # newest articles of the site to learn from
MAX_OTHER_PAGES = 5000  # newest articles of other sites checked for wire copy
MAX_SHARED_WORDS = 4


def learn(index: ArchiveIndex, site: str, *, min_pages: int = MIN_PAGES, min_share: float = MIN_SHARE,
          fresh: bool = False) -> TemplateModel:
    """Learn ``site``'s template from the articles the index holds (see the module docstring)."""
    pages = _site_pages(index, site)
    counts, texts = _count_lines(pages.values())
    need = max(min_pages, min_share * len(pages))
    candidates = {fp for fp, n in counts.items() if n >= need}
    shared = _seen_elsewhere(index, site, {fp: texts[fp] for fp in candidates})
    entries = {fp: TemplateEntry(fp, counts[fp], texts[fp]) for fp in candidates - shared}
    if not fresh:
        for old in load(index, site).entries:
            entries.setdefault(old.fingerprint, old)
    logger.info("template of %s: %d lines from %d pages (%d wire lines kept as story text)",
                site, len(entries), len(pages), len(shared))
    return TemplateModel(site, tuple(sorted(entries.values(), key=lambda e: (-e.pages, e.text))), len(pages),
                         min_pages, min_share)


def save(index: ArchiveIndex, model: TemplateModel) -> None:
    """Store ``model`` in the index, replacing the site's previous one.

    Several workers closing at once may learn and save the same site together: the first one wins
    (all learned from the same index), the others log it and keep the stored model.
    """
    try:
        _save(index, model)
    except IntegrityError:
        logger.info("template of %s was saved by another process at the same time; kept that one", model.site)


def _save(index: ArchiveIndex, model: TemplateModel) -> None:
    with index.session() as s:
        s.execute(delete(TemplateLine).where(TemplateLine.site == model.site))
        s.merge(SiteTemplate(site=model.site, pages=model.pages, min_pages=model.min_pages,
                             min_share=model.min_share, learned_at=utcnow()))
        s.flush()
        s.add_all(TemplateLine(site=model.site, fingerprint=e.fingerprint, pages=e.pages, text=e.text)
                  for e in model.entries)


def load(index: ArchiveIndex, site: str) -> TemplateModel:
    """The stored model of ``site`` (an empty model, which removes nothing, if none was learned)."""
    with index.sessions() as s:
        head = s.get(SiteTemplate, site)
        rows = s.execute(select(TemplateLine.fingerprint, TemplateLine.pages, TemplateLine.text)
                         .where(TemplateLine.site == site).order_by(TemplateLine.pages.desc(), TemplateLine.id)).all()
    if head is None:
        return TemplateModel(site)
    return TemplateModel(site, tuple(TemplateEntry(fp, n, text) for fp, n, text in rows), head.pages,
                         head.min_pages, head.min_share)


def load_all(index: ArchiveIndex) -> dict[str, TemplateModel]:
    """Every stored model by site (what a crawl hands to its extraction workers)."""
    with index.sessions() as s:
        sites = list(s.scalars(select(SiteTemplate.site).order_by(SiteTemplate.site)))
    return {site: load(index, site) for site in sites}


def _site_pages(index: ArchiveIndex, site: str) -> dict[str, str]:
    """canonical URL -> text of the newest ok article per page of ``site`` (versions count once)."""
    with index.sessions() as s:
        rows = s.execute(select(Article.canonical_url, Article.text)
                         .where(Article.site == site, Article.status == "ok")
                         .order_by(Article.id.desc()).limit(MAX_PAGES)).all()
    pages: dict[str, str] = {}
    for url, text in rows:
        pages.setdefault(url, text or "")
    return pages


def _count_lines(texts: Iterable[str]) -> tuple[Counter[str], dict[str, str]]:
    counts: Counter[str] = Counter()
    samples: dict[str, str] = {}
    for text in texts:
        lines = page_lines(text)
        counts.update(lines.keys())
        for fp, line in lines.items():
            samples.setdefault(fp, line)
    return counts, samples


def _seen_elsewhere(index: ArchiveIndex, site: str, candidates: dict[str, str]) -> set[str]:
    """Candidates (of more than MAX_SHARED_WORDS words) that also occur in another site's articles."""
    long = {fp for fp, line in candidates.items() if len(_WORD.findall(line)) > MAX_SHARED_WORDS}
    if not long:
        return set()
    with index.sessions() as s:
        rows = s.execute(select(Article.text).where(Article.site != site, Article.status == "ok")
                         .order_by(Article.id.desc()).limit(MAX_OTHER_PAGES)).scalars()
        found: set[str] = set()
        for text in rows:
            found |= long & page_lines(text or "").keys()
    return found
