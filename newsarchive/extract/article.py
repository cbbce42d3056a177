"""Article extraction: chrome-cleaned trafilatura plus metadata, as plain functions with no Scrapy import.

``extract(html, url, options, template=None)`` returns an :class:`Extraction` whatever happens: a failure
carries ``status="failed"`` and a ``reason`` (``empty``, ``not-html``, ``parse-error``, ``no-article-text``,
``too-short``), never ``None``. The steps:

1. parse once (lxml via trafilatura), read the metadata from the untouched tree (:func:`page_metadata`);
   Authors and agencies come from JSON-LD/meta or the visible byline (:mod:`newsarchive.extract.authors`);
   ``image_url``, ``tags`` and ``paywalled`` are what the page declares (og/JSON-LD/keywords);
2. drop generic page furniture from the tree and join a split article
   (:func:`newsarchive.extract.chrome.clean_tree`); guards keep the article's own paragraphs whatever
   their class names;
3. one trafilatura pass (comments off) on the cleaned tree; then line filters (headline, furniture phrases,
   datelines, a second copy of the body) and, when given, the site's learned template
   (:mod:`newsarchive.extract.templates`). ``markdown`` is rendered from the same pass's XML body;
4. guard against over-cleaning: when the result is implausibly short, fall back to trafilatura on the
   untouched page and readability-lxml, keeping the longer of the two (``extra["method"]`` says which).

``extract`` is a module-level function of picklable arguments (the options and template model are
frozen dataclasses), so a process pool can run it off the crawl's reactor thread.
"""

from __future__ import annotations

import logging
import re
from copy import deepcopy
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html, normalize_unicode
from trafilatura.xml import xmltotxt

from newsarchive.extract import chrome
from newsarchive.extract.metadata import PageMeta, page_metadata
from newsarchive.extract.result import Extraction, ExtractOptions, failed

try:  # trafilatura's extraction proper, without bare_extraction's copy of the tree we no longer need
    from trafilatura.core import trafilatura_sequence
    from trafilatura.settings import DEFAULT_CONFIG, Extractor
except ImportError:  # pragma: no cover - a trafilatura without these internals: bare_extraction instead
    trafilatura_sequence = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from newsarchive.extract.templates import TemplateModel

logger = logging.getLogger(__name__)

BINARY_CONTROL_SHARE = 0.02  # more control bytes than this in the first 4 KiB: not a text page
FALLBACK_GAIN = 1.5
RECALL_CHECK_SHARE = 0.3  # precision output below this share of the main paragraphs' words: extract again ...
RECALL_CHECK_MIN_WORDS = 100  # ... when those paragraphs hold at least this many words
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF", b"\x00\x00", b"\xff\xfe\x00", b"OggS")


# -- input checks -------------------------------------------------------------------------------------------
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def input_problem(html: str | bytes) -> str | None:
    """Why ``html`` cannot be a page (``empty``, ``not-html``), or None when it may be one.

    Binary means a known file signature or many control bytes; a stray NUL in markup is not binary.
    """
    head = html[:4096] if isinstance(html, bytes) else html[:4096].encode("utf-8", "replace")
    if not head.strip():
        return "empty"
    controls = len(head) - len(head.translate(None, _CONTROL))
    if head.lstrip().startswith(_BINARY_MAGIC) or controls > BINARY_CONTROL_SHARE * len(head):
        return "not-html"
    window = html[:65536]
    if (b"<" not in window) if isinstance(window, bytes) else ("<" not in window):
        return "not-html"
    return None


def _without_nul(html: str | bytes) -> str | bytes:
    return html.replace(b"\x00", b"") if isinstance(html, bytes) else html.replace("\x00", "")


def extract(html: str | bytes, url: str, options: ExtractOptions | None = None,
            template: TemplateModel | None = None) -> Extraction:
    """Extract the article of one page. Never raises for bad input: returns a failed Extraction."""
    options = options or ExtractOptions()
    problem = input_problem(html) if html else "empty"
    if problem:
        return failed(url, problem)
    try:
        source = _without_nul(html)
        tree = load_html(source)
        if tree is None:
            return failed(url, "parse-error")
        meta = page_metadata(tree, url)
        text, markdown, extra = body_text(tree, url, options, meta, template, source=source)
    except Exception as exc:  # lxml/trafilatura raise on pathological markup; one page never stops a crawl
        logger.warning("extraction failed for %s: %s", url, exc)
        return Extraction(url=url, status="failed", reason="parse-error", extra={"error": repr(exc)[:200]})
    if not text.strip():
        return Extraction(url=url, status="failed", reason="no-article-text", extra=extra, **meta.fields())
    meta = meta.with_language(text)
    status, reason = ("ok", None) if len(chrome.words(text)) >= options.min_words else ("failed", "too-short")
    return Extraction(url=url, status=status, reason=reason, text=text, markdown=markdown, extra=extra,
                      **meta.fields())


# -- body ---------------------------------------------------------------------------------------------------
def _trafilatura_text(tree: HtmlElement, url: str, options: ExtractOptions, **kw: Any) -> str:
    return trafilatura.extract(
        tree, url=url, include_comments=False, include_tables=options.include_tables,
        favor_precision=options.favor_precision, fast=options.fast, **kw,
    ) or ""


def _trafilatura_body(tree: HtmlElement, url: str, options: ExtractOptions) -> tuple[str, dict[str, str]]:
    """One trafilatura pass over ``tree`` (which it rewrites): the plain text and, per line (by its words),
    the line as Markdown."""
    if trafilatura_sequence is None:  # pragma: no cover
        doc = trafilatura.bare_extraction(
            tree, url=url, include_comments=False, include_tables=options.include_tables,
            favor_precision=options.favor_precision, fast=options.fast,
        )
        body = getattr(doc, "body", None)
    else:
        settings = Extractor(config=DEFAULT_CONFIG, output_format="python", fast=options.fast,
                             precision=options.favor_precision, comments=False, formatting=False,
                             tables=options.include_tables, url=url)
        body, raw, _comments, _raw_comments = trafilatura_sequence(tree, settings, url)
        body = body if len(raw) >= settings.min_output_size else None  # bare_extraction's size check
    if body is None:
        return "", {}
    rendered: dict[str, str] = {}
    for line in normalize_unicode(xmltotxt(body, True)).splitlines():
        key = _line_key(line)
        if key and key not in rendered:
            rendered[key] = line.strip()
    return normalize_unicode(xmltotxt(body, False)), rendered  # NFC, as trafilatura.extract returns it


def _line_key(line: str) -> str:
    return " ".join(chrome.words(line))


_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+\.)\s")


def to_markdown(lines: list[str], rendered: dict[str, str], headings: set[str]) -> str:
    """The kept text lines as Markdown: each line's rendering from the XML body when there is one
    (headings ``##``, list items ``-``), restored subheadings as ``##``; blocks apart by a blank line,
    consecutive list items together."""
    out: list[str] = []
    for line in lines:
        key = _line_key(line)
        block = rendered.get(key) or (f"## {line.strip()}" if key in headings else line.strip())
        if out and not (_LIST_ITEM.match(block) and _LIST_ITEM.match(out[-1])):
            out.append("")
        out.append(block)
    return "\n".join(out)


def _readability_text(tree: HtmlElement) -> str:
    from readability import Document  # readability-lxml

    summary = Document(deepcopy(tree)).summary(html_partial=True)
    root = load_html(summary)
    if root is None:
        return ""
    blocks = (" ".join(el.itertext()).strip() for el in root.iter("p", "h2", "h3", "h4", "li", "blockquote"))
    return "\n".join(" ".join(b.split()) for b in blocks if b)


def body_text(tree: HtmlElement, url: str, options: ExtractOptions, meta: PageMeta,
              template: TemplateModel | None, *, source: str | bytes | None = None,
              ) -> tuple[str, str, dict[str, Any]]:
    """The article text, the same as Markdown, and how it was obtained (``extra``: method, removed
    furniture, template lines). ``tree`` is cleaned in place; ``source`` (the page) is parsed again only
    for the over-cleaning fallback (without it, the tree is copied first)."""
    if not options.chrome_filters:
        text, rendered = _trafilatura_body(tree, url, options)
        lines = [ln for ln in text.splitlines() if chrome.words(ln)]
        return text, to_markdown(lines, rendered, set()), {"method": "trafilatura"}
    pristine = deepcopy(tree) if source is None else None
    removed, main_words = chrome.clean(tree)
    headings = chrome.heading_contexts(tree)
    precise = _trafilatura_text(deepcopy(tree), url, replace(options, favor_precision=True)) \
        if options.merge_passes else None
    text, rendered = _trafilatura_body(tree, url, options)  # rewrites the tree: nothing reads it afterwards
    if precise is not None:
        text = chrome.merge_passes(precise, text)
    before = {_line_key(ln) for ln in text.splitlines()}
    text = _filtered(chrome.insert_headings(text, headings), meta)
    extra: dict[str, Any] = {"method": "cleaned", "chrome_elements": removed}
    if options.favor_precision and main_words >= RECALL_CHECK_MIN_WORDS \
            and len(chrome.words(text)) < RECALL_CHECK_SHARE * main_words:
        # precision mode kept far less than the page's main paragraphs hold: extract again without it
        again = pristine if pristine is not None else load_html(source)
        if again is not None:
            again = deepcopy(again) if again is pristine else again
            chrome.clean(again)
            headings = chrome.heading_contexts(again)
            full, full_rendered = _trafilatura_body(again, url, replace(options, favor_precision=False))
            full = _filtered(chrome.insert_headings(full, headings), meta)
            if len(chrome.words(full)) > len(chrome.words(text)):
                before |= {_line_key(ln) for ln in full.splitlines()}
                text, rendered, extra["method"] = full, {**rendered, **full_rendered}, "cleaned-recall"
    if len(chrome.words(text)) < options.fallback_min_words:
        untouched = pristine if pristine is not None else load_html(source)
        if untouched is not None:
            text, extra["method"] = _fallback(untouched, url, options, meta, text)
    if template is not None:
        count = len(text.splitlines())
        text = template.filter(text)
        extra["template_lines"] = count - len(text.splitlines())
    lines = text.splitlines()
    restored = {key for ln in lines if (key := _line_key(ln)) not in before} \
        if extra["method"].startswith("cleaned") else set()
    return text, to_markdown(lines, rendered, restored), extra


def _filtered(text: str, meta: PageMeta) -> str:
    return chrome.filter_lines(text, titles=meta.titles)


def _fallback(tree: HtmlElement, url: str, options: ExtractOptions, meta: PageMeta,
              cleaned: str) -> tuple[str, str]:
    """The longest of: the cleaned text, trafilatura on the uncleaned page, readability-lxml (all filtered),
    if clearly longer than the cleaned text."""
    candidates = [(cleaned, "cleaned"), (_filtered(_trafilatura_text(deepcopy(tree), url, options), meta),
                                         "fallback-trafilatura")]
    try:
        candidates.append((_filtered(_readability_text(tree), meta), "fallback-readability"))
    except Exception as exc:  # readability raises on empty or odd documents
        logger.debug("readability failed on %s: %s", url, exc)
    best = max(candidates, key=lambda c: len(chrome.words(c[0])))
    have = len(chrome.words(cleaned))
    # a short brief stays short: only a clearly longer text means the cleaning took the article away
    return best if len(chrome.words(best[0])) >= FALLBACK_GAIN * have + 10 else (cleaned, "cleaned")
