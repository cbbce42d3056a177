"""trafilatura's XPath expressions without their EXSLT ``re:test`` calls, where that changes no result.

lxml runs ``re:test(@class, 'author|byline')`` as a Python callback for every element the expression
looks at. On a large page, trafilatura's byline search (``AUTHOR_XPATHS``) and the areas it skips
(``AUTHOR_DISCARD_XPATHS``) spent ~15 ms per page in those callbacks (cProfile, 219 pages of the news-pages
string set): they were most of our page metadata's cost. Most of the patterns are plain alternatives of
words: ``re:test(@x, '^[Cc]omments|comment-?list|article-(?:share|support)')`` is exactly
``@x[starts-with(., 'Comments') or starts-with(., 'comments') or contains(., 'comment-list') or ...]``,
which libxml2 evaluates natively. The attribute is read once and each word tested on it: written as
``contains(@x, 'a') or contains(@x, 'b') ...``, libxml2 reads it again for every word. With patterns of up
to 8 words rewritten either way, the rewritten expressions together cost 25.9 ms per page in that form
against 22.4 ms in this one (trafilatura's own: 29.0 ms; 289 fundus and string-set pages of the tuning
half, /tmp script, medians of 3); :data:`MAX_WORDS` is now 16 (21.8 ms).

:func:`native` rewrites each ``re:test(@attr, 'pattern')`` whose pattern is such a finite set of words
(literal characters, ``[..]`` classes of literal characters, ``?`` after one of them, ``(?:a|b)`` groups,
a leading ``^``); an expression with any other pattern is returned unchanged. The rewritten expressions
select the same elements as trafilatura's: a test compares them on pages built to hit every alternative.

:func:`trafilatura_native` puts the rewritten expressions into trafilatura's own lists (``trafilatura.xpaths``:
body, comments, discard, title, byline ...) for the duration of a ``with`` block, and puts trafilatura's back
after it: our extraction runs inside one, so trafilatura outside it (plain trafilatura in the benchmark, other
code in the process) keeps its own. Measured (``python bench/extraction.py``'s pages, 359 fundus and string-set
pages, one process): plain ``trafilatura.extract`` 51.6 ms per page with trafilatura's expressions, 45.0-46.4
ms with the rewritten ones, the same text on every page; 16 of the 40 expressions (trafilatura 2.3.1) are
rewritten.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from lxml.etree import XPath

# A pattern of more words stays a regular expression: one callback beats many substring tests. Per expression
# (fundus and string-set pages, ms per page, trafilatura's -> rewritten, /tmp script): patterns of 4 and 14 words
# 2.26 -> 1.85, of 2 and 13 words 1.90 -> 1.78 and 4.95 -> 4.00; of 9 and 26 words 1.40 -> 1.70; of 26 and 70
# words 3.02 -> 4.71. All rewritten expressions together, ms per page, at most 8 / 12 / 16 / 20 words:
# 22.4 / 22.1 / 21.8 / 21.8 on the tuning half's pages, 23.0 / 23.0 / 22.6 / 22.6 on the held-out half's.
MAX_WORDS = 16
_RE_TEST = re.compile(r"re:test\(\s*(@[\w:-]+)\s*,\s*'([^']*)'\s*\)")
_PLAIN = re.compile(r"[\w\- ]")


class _Unsupported(Exception):
    pass


def _alternatives(pattern: str, pos: int, at_start: bool) -> tuple[list[tuple[bool, str]], int]:
    """Parse alternatives from ``pattern[pos:]`` up to the end (or the group's ``)``): each as (anchored at
    the start, literal). ``at_start``: nothing of the pattern comes before them (``^`` may begin one)."""
    out: list[tuple[bool, str]] = []
    while True:
        words, pos = _sequence(pattern, pos, at_start)
        out.extend(words)
        if len(out) > MAX_WORDS:
            raise _Unsupported(pattern)
        if pos < len(pattern) and pattern[pos] == "|":
            pos += 1
            continue
        return out, pos


def _class(chars: str) -> list[str]:
    """The characters of a ``[..]`` class of literal characters (a ``-`` only first or last)."""
    inner = chars[1:-1]
    if not chars or "-" in inner or any(not _PLAIN.fullmatch(c) for c in chars):
        raise _Unsupported(chars)  # ranges, negations, escapes
    return list(dict.fromkeys(chars))


def _sequence(pattern: str, pos: int, at_start: bool) -> tuple[list[tuple[bool, str]], int]:
    words = [(False, "")]
    if at_start and pattern.startswith("^", pos):
        words, pos = [(True, "")], pos + 1
    first = True
    while pos < len(pattern) and pattern[pos] not in "|)":
        char = pattern[pos]
        options: list[tuple[bool, str]]
        if char == "[":
            end = pattern.find("]", pos)
            if end < 0:
                raise _Unsupported(pattern)
            options, pos = [(False, c) for c in _class(pattern[pos + 1:end])], end + 1
        elif pattern.startswith("(?:", pos):  # "(?:^| )ad-": a "^" inside only where the pattern begins
            options, pos = _alternatives(pattern, pos + 3, at_start and first and words == [(False, "")])
            if pos >= len(pattern) or pattern[pos] != ")":
                raise _Unsupported(pattern)
            pos += 1
        elif char == "\\" and pos + 1 < len(pattern) and not pattern[pos + 1].isalnum():
            options, pos = [(False, pattern[pos + 1])], pos + 2
        elif _PLAIN.fullmatch(char):
            options, pos = [(False, char)], pos + 1
        else:
            raise _Unsupported(pattern)  # . * + { } $ ^ (?! and the like: not a finite set of words
        if pos < len(pattern) and pattern[pos] == "?":
            options, pos = [*options, (False, "")], pos + 1
        words = [(anchored or more, word + part) for anchored, word in words for more, part in options]
        if len(words) > MAX_WORDS:
            raise _Unsupported(pattern)
        first = False
    return words, pos


def literal_words(pattern: str) -> list[tuple[bool, str]] | None:
    """The finite set of words ``pattern`` stands for, as (anchored at the start, word), or None when it is
    not such a set. ``re.search(pattern, s)`` is true exactly when ``s`` contains (starts with, if
    anchored) one of the words."""
    try:
        words, pos = _alternatives(pattern, 0, at_start=True)
    except _Unsupported:
        return None
    if pos != len(pattern) or any("'" in w for _a, w in words):
        return None
    return list(dict.fromkeys(words))


def _condition(attribute: str, words: list[tuple[bool, str]]) -> str:
    if any(not w for _a, w in words):  # the empty word: re.search matches any string
        return "true()"
    # the attribute is read once and its words tested on it (``@class[contains(., 'a') or ...]``), not read
    # again for each word (``contains(@class, 'a') or contains(@class, 'b')``): the same elements, sooner
    tests = [f"starts-with(., '{w}')" if anchored else f"contains(., '{w}')" for anchored, w in words]
    return f"{attribute}[{' or '.join(tests)}]"


def native_path(path: str) -> str:
    """``path`` with each ``re:test(@attr, 'pattern')`` whose pattern is a finite set of words written with
    ``starts-with``/``contains``; the others stay as they are."""
    def replace(match: re.Match[str]) -> str:
        words = literal_words(match.group(2))
        return match.group(0) if words is None else _condition(match.group(1), words)
    return _RE_TEST.sub(replace, path)


@lru_cache(maxsize=64)
def native(expression: XPath) -> XPath:
    """``expression`` (a trafilatura XPath with the EXSLT regex namespace as ``re``) rewritten by
    :func:`native_path`; the expression itself when nothing changes or the rewrite does not compile."""
    path = expression.path
    rewritten = native_path(path)
    if rewritten == path:
        return expression
    try:
        return XPath(rewritten, namespaces={"re": "http://exslt.org/regular-expressions"})
    except Exception:  # pragma: no cover - a rewrite libxml2 refuses: keep trafilatura's own
        return expression


_LOCK = threading.Lock()
_DEPTH = [0]
_SWAPPED: list[tuple[list[XPath], int, XPath]] = []  # (trafilatura's list, index, its own expression)


def _trafilatura_lists() -> list[list[XPath]]:
    try:
        from trafilatura import xpaths
    except ImportError:  # pragma: no cover - trafilatura is a dependency
        return []
    return [value for name in sorted(vars(xpaths)) if isinstance(value := getattr(xpaths, name), list)
            and value and all(isinstance(e, XPath) for e in value)]


@contextmanager
def trafilatura_native() -> Iterator[None]:
    """Within the block, trafilatura's expression lists hold the rewritten expressions (:func:`native`).

    Nested and concurrent blocks share one swap (the last to leave restores trafilatura's own). A thread
    outside any block that runs trafilatura meanwhile gets the rewritten expressions: the same elements, sooner.
    """
    with _LOCK:
        if _DEPTH[0] == 0:
            for expressions in _trafilatura_lists():
                for i, expression in enumerate(expressions):
                    rewritten = native(expression)
                    if rewritten is not expression:
                        _SWAPPED.append((expressions, i, expression))
                        expressions[i] = rewritten
        _DEPTH[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                for expressions, i, expression in _SWAPPED:
                    expressions[i] = expression
                _SWAPPED.clear()


def _top_level_branches(path: str) -> list[str] | None:
    """``path`` split at its top-level ``|`` (not inside quotes, brackets or parentheses); None when the
    quotes or brackets do not balance."""
    branches, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(path):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
            if depth < 0:
                return None
        elif ch == "|" and depth == 0:
            branches.append(path[start:i])
            start = i + 1
    if quote or depth:
        return None
    return [*branches, path[start:]]


_ANYWHERE = re.compile(r"\s*\.?//(?=[\w*])")
# a predicate that may be a number is a position on the axis ("[1]", "[last()]", "[count(p)]"): on the ancestor
# axis it would count from the element upwards, so such an expression is refused (trafilatura's are boolean)
_POSITIONAL = re.compile(r"\[\s*(?:[\d.$]|(?:count|sum|number|string-length|floor|ceiling|round)\s*\()|position\(|last\(")


@lru_cache(maxsize=64)
def ancestral(expression: XPath) -> XPath | None:
    """``expression`` (elements anywhere in the page: ``//a[..] | .//b``) as a test of one element: the same
    steps on the ``ancestor-or-self::`` axis, which select, from an element, those of its ancestors (and
    itself) that ``expression`` selects from the page. An element lies in an area the expression marks when
    that is not empty: a walk up a few ancestors instead of a match of every element of the page.

    ``expression`` is asked of the whole page (its root element). None when a branch is not a single
    ``//step[predicates]`` with boolean predicates and no ``/`` (a path of several steps, a path inside a
    predicate, a position)."""
    branches = _top_level_branches(expression.path)
    if not branches:
        return None
    steps = []
    for branch in branches:
        anywhere = _ANYWHERE.match(branch)
        if anywhere is None:
            return None
        step = branch[anywhere.end():].strip()
        if "/" in step or _POSITIONAL.search(step):
            return None  # more than one step ("//div/p"), a path in a predicate, a position ("//p[1]")
        steps.append(f"ancestor-or-self::{step}")
    try:
        return XPath(" | ".join(steps), namespaces={"re": "http://exslt.org/regular-expressions"})
    except Exception:  # pragma: no cover - libxml2 refuses the rewrite: the caller matches the page instead
        return None
