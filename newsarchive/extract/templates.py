"""A site's template as extraction applies it: the lines that recur on many of the site's pages.

:class:`TemplateModel` is a frozen, picklable set of line fingerprints; ``extract(..., template=model)``
removes those lines from a page's text (:meth:`TemplateModel.filter`), except a line that holds most of the
page's words. The model is learned from the archive and stored in the index by
:mod:`newsarchive.extract.learning`; this module imports nothing but the standard library, so extraction
worker processes unpickle models without loading the database layer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

_WORD = re.compile(r"\w+")
MIN_PAGES = 5  # the defaults of newsarchive.archive.models.SiteTemplate, which cannot import this module
MIN_SHARE = 0.3


def normalize(line: str) -> str:
    return " ".join(_WORD.findall(line.lower()))


def fingerprint(line: str) -> str:
    """A stable key for a line: case, punctuation and spacing do not matter."""
    return hashlib.sha1(normalize(line).encode("utf-8")).hexdigest()[:32]


def page_lines(text: str) -> dict[str, str]:
    """fingerprint -> line, for the distinct non-empty lines of one page."""
    return {fingerprint(line): line.strip() for line in text.splitlines() if normalize(line)}


@dataclass(frozen=True)
class TemplateEntry:
    fingerprint: str
    pages: int  # distinct pages of the site the line was seen on
    text: str


@dataclass(frozen=True)
class TemplateModel:
    """The template lines of one site (picklable: it travels to extraction worker processes)."""

    site: str
    entries: tuple[TemplateEntry, ...] = ()
    pages: int = 0  # distinct pages learned from
    min_pages: int = MIN_PAGES
    min_share: float = MIN_SHARE
    lines: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", frozenset(e.fingerprint for e in self.entries))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def filter(self, text: str) -> str:
        """``text`` without its template lines; a line holding most of the page's words always stays."""
        kept = text.splitlines()
        total = sum(len(_WORD.findall(line)) for line in kept)
        return "\n".join(line for line in kept if not self._is_template(line, total))

    def _is_template(self, line: str, total: int) -> bool:
        words = len(_WORD.findall(line))
        return bool(words) and words * 2 <= total and fingerprint(line) in self.lines
