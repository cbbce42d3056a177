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
3. one trafilatura pass (comments off, precision mode, but the words after an empty element kept:
   :data:`_KEEP_TAILS`) on the cleaned tree, whose readability-lxml comparison is skipped
   once trafilatura's own text holds half the article's main paragraphs (:func:`_compare_gated`); then line
   filters (headline, furniture phrases, datelines, a second copy of the body) and, when given, the site's
   learned template (:mod:`newsarchive.extract.templates`). ``markdown`` is rendered from the same pass's
   XML body;
4. guard against over-cleaning: when the result is implausibly short, fall back to trafilatura on the
   untouched page and readability-lxml, keeping the longer of the two (``extra["method"]`` says which).

``extract`` is a module-level function of picklable arguments (the options and template model are
frozen dataclasses), so a process pool can run it off the crawl's reactor thread.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import trafilatura
from lxml.etree import _Element
from lxml.html import HtmlElement
from trafilatura.utils import load_html, normalize_unicode
from trafilatura.xml import xmltotxt

from newsarchive.extract import chrome
from newsarchive.extract.metadata import PageMeta, page_metadata
from newsarchive.extract.nativexpath import trafilatura_native
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
# trafilatura takes readability-lxml's text instead of its own when that is more than twice as long
# (trafilatura.external._prefer_readability). Once its own extraction holds this share of the article's main-text
# paragraph words (chrome.Paragraphs, measured before cleaning), such a text must be mostly from elsewhere on
# the page, so readability is not run (see _compare_gated).
READABILITY_GATE_SHARE = 0.5
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
        with trafilatura_native():  # trafilatura's expressions without their regex callbacks: same result, sooner
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


# The article's main-text paragraph words, for trafilatura's comparison with readability during our own pass
# (unset, as in any other trafilatura call in this process: trafilatura's comparison unchanged).
_MAIN_WORDS: ContextVar[int] = ContextVar("newsarchive_main_words", default=0)


def _compare_gated(cleaned_tree: HtmlElement, raw_tree: HtmlElement, body: _Element, text: str,
                   options: Extractor) -> tuple[_Element, str]:
    """trafilatura's comparison of its own extraction with readability-lxml and jusText, without readability
    when the own extraction already holds READABILITY_GATE_SHARE of the article's main-text words.

    On our cleaned tree, readability's longer text was e.g. a page's reader comments or a recipe's method
    without its ingredients (tuning pages). Measured with ``python bench/extraction.py``, held-out sites,
    ``--option readability_gate=false`` then the default, back to back: F1 article-extraction 0.977 -> 0.981,
    fundus 0.957 both, strings 0.934 -> 0.935 (663 -> 664 of 718 'with' strings, 38 'without' leaked both;
    the same 21 pages > 0.05 below trafilatura); CPU per fundus page 34.1 -> 28.4 ms (1.06 -> 0.89 of plain
    trafilatura's in the same run): readability is the cascade's costliest step. Titles, authors, dates
    unchanged. Feeding readability the page before our cleaning instead changed nothing held-out for +40%
    CPU. jusText's rescue of a short or unclean extraction still runs."""
    main_words = _MAIN_WORDS.get()
    if main_words and len(text.split()) >= READABILITY_GATE_SHARE * main_words:
        raw_tree = HtmlElement()  # readability finds no candidate in an empty tree: the own extraction stands
    return _compare_extraction(cleaned_tree, raw_tree, body, text, options)


def _routed(module: Any, name: str, original: Any, replacement: Any) -> bool:
    """Point ``module.name`` (the name trafilatura's own code calls) at ``replacement`` when it is still
    ``original``; whether it now is ``replacement``."""
    if getattr(module, name, None) is original:
        setattr(module, name, replacement)
    return getattr(module, name, None) is replacement


READABILITY_GATE = False  # whether trafilatura's comparison goes through _compare_gated
try:  # trafilatura_sequence calls its own module's compare_extraction: route that name through the gate
    import trafilatura.core as _trafilatura_core
    from trafilatura.external import compare_extraction as _compare_extraction

    READABILITY_GATE = _routed(_trafilatura_core, "compare_extraction", _compare_extraction, _compare_gated)
except ImportError:  # pragma: no cover - a trafilatura without these internals: its comparison, ungated
    pass


# trafilatura's precision mode deletes empty elements (``settings.CUT_EMPTY_ELEMS``: span, i, b, div, p, ...)
# together with their tail text (``htmlprocessing.prune_html``): the words after an empty icon ``<span>``, a
# drop-cap or anchor ``<i>``, or an empty ``<div>`` between two text runs are lost from the middle of a
# paragraph. In our extraction that text stays, as in trafilatura's balanced mode; every other precision rule
# stands. Measured with ``python bench/extraction.py --option keep_tails=false`` then the default, back to back:
# tuning sites, strings 'with' found 607 -> 610 of 656 (leaks 43 both), pages > 0.05 F1 below trafilatura 12 -> 10,
# fundus F1 0.954 -> 0.955, article-extraction 0.982 both; held-out sites, strings 664 -> 665 of 718 (leaks 38
# both), pages below 21 -> 20, article-extraction 0.981 -> 0.982, fundus 0.957 both. Unset (any other trafilatura
# call in this process): trafilatura's behaviour.
_KEEP_TAILS: ContextVar[bool] = ContextVar("newsarchive_keep_tails", default=False)


def _prune_html_keeping_tails(tree: HtmlElement, focus: str = "balanced") -> HtmlElement:
    return _prune_html(tree, "balanced" if focus == "precision" and _KEEP_TAILS.get() else focus)


KEEP_TAILS = False  # whether trafilatura's empty-element pruning goes through _prune_html_keeping_tails
try:  # tree_cleaning calls its own module's prune_html
    import trafilatura.htmlprocessing as _trafilatura_htmlprocessing
    from trafilatura.htmlprocessing import prune_html as _prune_html

    KEEP_TAILS = _routed(_trafilatura_htmlprocessing, "prune_html", _prune_html, _prune_html_keeping_tails)
except ImportError:  # pragma: no cover - a trafilatura without these internals: its pruning unchanged
    pass


def _trafilatura_body(tree: HtmlElement, url: str, options: ExtractOptions,
                      main_words: int = 0) -> tuple[str, dict[str, str]]:
    """One trafilatura pass over ``tree`` (which it rewrites): the plain text and, per line (by its words),
    the line as Markdown. ``main_words`` (the article's main-text paragraph words) gates readability."""
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
        token = _MAIN_WORDS.set(main_words if options.readability_gate else 0)
        try:
            body, raw, _comments, _raw_comments = trafilatura_sequence(tree, settings, url)
        finally:
            _MAIN_WORDS.reset(token)
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
    token = _KEEP_TAILS.set(options.keep_tails)
    try:
        return _cleaned_body_text(tree, url, options, meta, template, source)
    finally:
        _KEEP_TAILS.reset(token)


def _cleaned_body_text(tree: HtmlElement, url: str, options: ExtractOptions, meta: PageMeta,
                       template: TemplateModel | None, source: str | bytes | None,
                       ) -> tuple[str, str, dict[str, Any]]:
    pristine = deepcopy(tree) if source is None else None
    removed, main_words = chrome.clean(tree)
    headings = chrome.heading_contexts(tree)
    precise = _trafilatura_text(deepcopy(tree), url, replace(options, favor_precision=True)) \
        if options.merge_passes else None
    text, rendered = _trafilatura_body(tree, url, options, main_words)  # rewrites the tree: nothing reads it later
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
            full, full_rendered = _trafilatura_body(again, url, replace(options, favor_precision=False), main_words)
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
