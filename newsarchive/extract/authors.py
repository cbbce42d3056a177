"""Authors and news agencies from what a page declares (JSON-LD, meta) and from its visible byline.

:func:`split_credits` turns raw credit strings into ``(authors, agencies)``:

- "Von Anna Muster und Max Beispiel, dpa" -> authors ("Anna Muster", "Max Beispiel"), agencies ("dpa",);
- "By JANE ROE (jr@example.com)" -> ("Jane Roe",), (); "Erika Muster (em)" -> ("Erika Muster",), ();
- "Text: Anna Muster/APA" -> ("Anna Muster",), ("APA",).

Several names are split on ``;``, ``,``, `` und ``, `` and ``, ``&`` and ``/``;
e-mail addresses, URLs and handles are dropped; a part in brackets is an agency when it names one
(``AGENCIES``) and is dropped otherwise (editors' initials). The agency names are the wire services
themselves, not any site's wording.

:func:`byline_credits` reads the visible byline: elements marked ``itemprop="author"`` or ``rel="author"``,
else trafilatura's own byline search, else a short line worded like a byline ("Von Anna Muster"), else
links to the author's own page ("/author/jroe/", "/autor/anna-muster"). It is used when JSON-LD and meta
name no one. When no source names a person, :func:`page_credits` keeps the
page's own credit (the publication, a desk, a handle: :func:`house_credit`), as Fundus and trafilatura do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement

from newsarchive.extract.nativexpath import ancestral

# wire services, by the short name they are credited with (case-insensitive match of the whole part)
AGENCIES = {name.lower(): name for name in """
dpa AFP Reuters APA AP KNA epd SDA Keystone-SDA sda/awp awp ANP ANSA EFE Belga DAPD ddp AFX dpa-AFX dts sid
SID KYODO Kyodo Xinhua Yonhap TASS UPI PA PAP CTK TT NTB Ritzau STT Lusa Agerpres MTI HINA Tanjug PTI IANS
ANI Bernama Antara AAP RIA EPA
""".split()}
_AGENCY_ALIASES = {"associated press": "AP", "the associated press": "AP", "agence france-presse": "AFP",
                   "agence france presse": "AFP", "deutsche presse-agentur": "dpa", "reuters news": "Reuters",
                   "austria presse agentur": "APA", "press association": "PA"}
_PREFIX = re.compile(
    r"^\s*(?:(?:artikel|beitrag|text) von|vom|von|interview|by|text|texte|autor|autorin|autoren|author|authors|written by|"
    r"reported by|posted by|par|por|door)"
    r"\b\s*:?\s*", re.I)
_BYLINE_LINE_DATE = re.compile(r"^\s*[\d.:/,\s-]+\s(?=\D)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+|www\.\S+|@\w+")
_BRACKETS = re.compile(r"[(\[]([^()\[\]]*)[)\]]")
_SPLIT = re.compile(r"\s*(?:;|\|| und | and | & | et | e | y | i |/|,)\s*")
# role words that stand where a name would: not a person, not an agency
# placeholders where a credit would be: never a credit, not even the page's own (:func:`house_credit`)
NOT_CREDITS = frozenset({"agencies", "agenturen", "agentur", "admin", "administrator", "guest", "gast", "anonymous",
                         "name", "unknown", "author", "autor"})
# role words that stand where a name would: not a person, not an agency (a desk may still be the credit)
NOT_NAMES = NOT_CREDITS | {"redaktion", "red", "staff", "editor", "editors", "newsroom"}
COMMENT_VERBS = ("says", "sagt", "schreibt", "wrote")  # "Name says": a comment's heading, not a credit
MAX_NAME_WORDS = 5
MAX_NAME_CHARS = 60
BYLINE_MAX_WORDS = 25
BYLINE_MAX_CHARS = 120
BYLINE_MAX_LINE = 60  # a byline found by its wording alone is short: "Von Anna Muster", a date before it


def agency(part: str) -> str | None:
    key = " ".join(part.split()).strip(" .,:-").lower()
    return AGENCIES.get(key) or _AGENCY_ALIASES.get(key)


def _tidy(name: str) -> str:
    name = " ".join(name.split()).strip(" ,.:;-–—|·•")
    if name.isupper() and len(name) > 3:  # "JANE ROE" -> "Jane Roe"
        name = name.title()
    return name


def _name_like(name: str) -> bool:
    words = name.split()
    if not words or len(words) > MAX_NAME_WORDS or len(name) > MAX_NAME_CHARS:
        return False
    if any(ch.isdigit() for ch in name) or not any(ch.isalpha() for ch in name) or name.endswith("*"):
        return False
    if name.lower() in NOT_NAMES or words[-1].lower() in COMMENT_VERBS:
        return False  # a role word; a comment's "Name says"
    return any(w[:1].isupper() for w in words)


def _without_contacts(credit: str | None) -> str:
    """A credit string without its e-mail addresses, URLs and handles."""
    return _URL.sub(" ", _EMAIL.sub(" ", credit or ""))


def split_credits(raw: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(authors, agencies)`` from raw credit strings, each deduplicated in order."""
    authors: list[str] = []
    agencies: list[str] = []
    for credit in raw:
        text = _without_contacts(credit)
        for inner in _BRACKETS.findall(text):
            for part in _SPLIT.split(inner):
                if found := agency(part):
                    agencies.append(found)
        text = _BRACKETS.sub(" ", text)
        for part in _SPLIT.split(text):
            part = _PREFIX.sub("", part.strip())
            if found := agency(part):
                agencies.append(found)
                continue
            name = _tidy(part)
            if _name_like(name):
                authors.append(name)
    return tuple(dict.fromkeys(authors)), tuple(dict.fromkeys(agencies))


def _text(el: HtmlElement) -> str:
    return " ".join(" ".join(el.itertext()).split())


def _near(first: HtmlElement, others: list[HtmlElement]) -> list[HtmlElement]:
    """The matches in the same byline as the first one (under its grandparent), not a teaser list's."""
    ancestors = list(first.iterancestors())[:2]
    scope = ancestors[-1] if ancestors else first
    inside = set(scope.iter())
    return [el for el in others if el in inside]


_ITEMPROP = XPath("//*[contains(@itemprop, 'author')]")


def marked_credits(tree: HtmlElement) -> list[str]:
    """Credit strings marked up as such: ``itemprop="author"`` (its ``name``), else ``rel="author"`` links."""
    marked = [el for el in _ITEMPROP(tree) if "author" in (el.get("itemprop") or "").split()
              and not any(a.tag == "form" for a in el.iterancestors())]
    names: list[str] = []
    for el in _near(marked[0], marked) if marked else []:
        inner = [n for n in el.iter() if isinstance(n.tag, str) and (n.get("itemprop") or "") == "name"]
        value = (inner[0].get("content") or _text(inner[0])) if inner else (el.get("content") or _text(el))
        if value and len(value.split()) <= BYLINE_MAX_WORDS:
            names.append(value)
    if names:
        return names
    links = [a for a in tree.iter("a") if "author" in (a.get("rel") or "").lower().split()]
    names = [_text(a) for a in (_near(links[0], links) if links else [])]
    return list(dict.fromkeys(n for n in names if n and len(n.split()) <= MAX_NAME_WORDS))


def byline_credits(tree: HtmlElement) -> list[str]:
    """Credit strings from the visible byline: marked-up authors, else trafilatura's byline search, else a
    short line that reads like a byline (:func:`prefixed_byline`), else links to the author's own page
    (:func:`linked_credits`)."""
    if names := marked_credits(tree):
        return names
    found = trafilatura_byline(tree) or prefixed_byline(tree)
    if found and split_credits([found])[0]:
        return [found]
    linked = linked_credits(tree)
    return linked if linked else [found] if found else []


# a link to the author's own page: "/author/jane-roe/", "/autor/anna-muster", "/members/name.123/",
# "/profil/207/Name" (the URL conventions of blog, CMS and forum software, not any site's wording); the
# word starts a path segment, so a slug that mentions it ("/bestseller-autor-jane-roe") is no such link.
# Measured (bench/extraction.py, tuning half): strings authors 82 -> 86 of 117, fundus unchanged; held-out
# unchanged (strings 79/131, fundus 51/68)
_AUTHOR_PAGE = re.compile(r"(?:^|/)(?:authors?|autor|autoren|autorin|auteurs?|autore|autori|redakteur|"
                          r"redakteurin|journalist|journalisten|members?|profil|profile)(?:[/_.=-]|$)", re.I)
_AUTHOR_LINKS = XPath("//body//a[@href][not(ancestor::nav or ancestor::footer or ancestor::aside)]")


def linked_credits(tree: HtmlElement) -> list[str]:
    """The names of the first links to an author's page (:data:`_AUTHOR_PAGE`) that read as a name, with
    the others of the same byline (:func:`_near`); links in navigation, footers, asides and in the areas
    trafilatura's byline search discards (comments, sidebars) are not credits."""
    links = []
    for a in _AUTHOR_LINKS(tree):
        path = urlsplit(a.get("href") or "").path
        if not _AUTHOR_PAGE.search(path):
            continue
        text = _text(a)
        if text and len(text.split()) <= MAX_NAME_WORDS and split_credits([text])[0]:
            links.append(a)
    if not links:
        return []
    discarded = DiscardedAreas(tree)
    links = [a for a in links if a not in discarded]
    return list(dict.fromkeys(_text(a) for a in _near(links[0], links))) if links else []


class DiscardedAreas:
    """The areas trafilatura's byline search skips (comments, sidebars, dates, figures), but not one that holds
    the page's headline: a page layout named "layout-container has-sidebar" is not a sidebar. Measured
    (bench/extraction.py): strings authors on held-out sites 79 -> 81 of 131, tuning 86 -> 87 of 117; fundus
    unchanged.

    ``el in areas``: ``el`` or one of its ancestors is such an area. Each of trafilatura's expressions is
    asked of the element's own ancestors (:func:`~newsarchive.extract.nativexpath.ancestral`) rather than
    matched against every element of the page (~3.5 ms on a news page, for the one or two elements a byline
    search asks about). The answers are the same: a test compares them on every element of built pages, and
    a /tmp script found no difference on any of the 1.36 million elements of the 780 benchmark pages, with
    trafilatura's expressions and with the rewritten ones. Measured (``bench/extraction.py --processes 1``,
    two runs each, alternating): newsarchive's metadata 12.7/16.1 -> 12.2/11.9 ms per string-set page."""

    def __init__(self, tree: HtmlElement) -> None:
        try:
            from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS
        except ImportError:  # pragma: no cover - another trafilatura layout
            AUTHOR_DISCARD_XPATHS = []
        self._tree, self._expressions = tree, list(AUTHOR_DISCARD_XPATHS)
        tests = [ancestral(expression) for expression in self._expressions]
        self._tests = None if any(t is None for t in tests) else [t for t in tests if t is not None]
        headline = next(tree.iter("h1"), None)
        self._kept = set(headline.iterancestors()) if headline is not None else set()
        self._found: set[HtmlElement] | None = None

    def __contains__(self, el: HtmlElement) -> bool:
        if self._tests is not None:
            return any(area not in self._kept for test in self._tests for area in test(el))
        if self._found is None:  # an expression that is no test of ancestors: match the page once
            self._found = {d for expression in self._expressions for d in expression(self._tree)} - self._kept
        return el in self._found or any(a in self._found for a in el.iterancestors())


# short text nodes with a byline word in them (filtered in C: a page has thousands of text nodes), not in
# a link or a heading (menu entries and headlines: "Von Wien nach Linz")
_SHORT_TEXTS = XPath(f"//body//text()[string-length(.) < {BYLINE_MAX_LINE}][contains(., 'von ') or "
                     "contains(., 'Von ') or contains(., 'by ') or contains(., 'By ') or contains(., ':')]"
                     "[not(ancestor::a or ancestor::h1 or ancestor::h2 or ancestor::h3)]")
# a byline without markup: "Von Anna Muster", "By Jane Roe", "06.11.2023 13:30 von Anna Muster"
_BYLINE_LINE = re.compile(r"^\s*(?:[\d.:/,\s-]+\s)?(?:von|by|written by|autor:|autorin:|author:|text:)\s+\S", re.I)
NAME_PARTICLES = frozenset({"von", "van", "de", "der", "den", "da", "di", "du", "del", "la", "le", "ten", "ter", "bin",
                            "al"})


def prefixed_byline(tree: HtmlElement) -> str | None:
    """The first short text node that begins with a byline prefix (after a date, if any) and then only
    names people: full names (two words or more), every word capitalised but name particles ("von", "de"),
    so that "Von Tunis nach Teheran" or "Von Wien und Linz" is not a byline."""
    for text in _SHORT_TEXTS(tree):
        if not _BYLINE_LINE.match(text):
            continue
        line = _BYLINE_LINE_DATE.sub("", text)
        names = split_credits([line])[0]
        if names and all(len(n.split()) >= 2 and all(w[:1].isupper() or w in NAME_PARTICLES for w in n.split())
                         for n in names):
            return line
    return None


def trafilatura_byline(tree: HtmlElement) -> str | None:
    """trafilatura's byline search (its author XPaths, skipping comment/sidebar areas it discards), run on
    ``tree`` itself: ``trafilatura.metadata.extract_author`` does the same on a copy of the whole page."""
    try:  # trafilatura internals (2.x); without them, no byline search
        from trafilatura.metadata import normalize_authors
        from trafilatura.utils import trim
        from trafilatura.xpaths import AUTHOR_XPATHS
    except ImportError:  # pragma: no cover - another trafilatura layout
        return None

    discarded: DiscardedAreas | None = None  # made on the first hit only
    for expression in AUTHOR_XPATHS:
        for el in expression(tree):
            if discarded is None:
                discarded = DiscardedAreas(tree)
            if el in discarded or el.find(".//a[@rel='tag']") is not None:
                continue  # comments, sidebars; a line of topic links is not a byline
            content = trim(" ".join(t for t in el.itertext()))
            if content and 2 < len(content) < BYLINE_MAX_CHARS:
                return normalize_authors(None, content)
    return None


def page_credits(sources: Sequence[Sequence[str]], tree: HtmlElement, publishers: Sequence[str],
                 ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Authors and agencies: from the first declared source (each a list of names: JSON-LD, then each
    author meta) that names a person, else from the visible byline, else the page's own credit.

    The publication itself (JSON-LD often names it as the author) is not a person; but when no source names
    a person, the first credit the page gives (the publication, a desk such as "Redaktion", a user handle:
    :func:`house_credit`) is what the page credits, and it is kept as the author. Agencies of every source
    consulted are kept.
    """
    houses = {_key(p) for p in publishers if p}
    agencies: tuple[str, ...] = ()
    consulted: list[Sequence[str]] = []
    for names in [*sources, None]:  # None: the visible byline
        raw = byline_credits(tree) if names is None else names
        consulted.append(raw)
        found, more = split_credits(raw)
        agencies = tuple(dict.fromkeys((*agencies, *more)))
        authors = tuple(dict.fromkeys(_without_house(a, houses) for a in found if not _house(a, houses)))
        if authors:
            return authors, agencies
    credit = next((c for raw in consulted if (c := house_credit(raw))), None)
    return ((credit,) if credit and not agencies else ()), agencies


def house_credit(raw: Iterable[str]) -> str | None:
    """The first credit of ``raw`` that is neither a person nor an agency but still a credit: the publication
    ("Testbote"), its desk ("Redaktion"), a lower-case user handle. Role prefixes, e-mails, URLs and
    bracketed initials are stripped; placeholders (``NOT_CREDITS``: "admin", "unknown", "Agenturen") are none."""
    for credit in raw:
        text = _BRACKETS.sub(" ", _without_contacts(credit))
        name = _tidy(_PREFIX.sub("", text.strip()))
        words = name.split()
        if not words or len(words) > MAX_NAME_WORDS or len(name) > MAX_NAME_CHARS or agency(name):
            continue
        if any(ch.isalpha() for ch in name) and _key(name) not in NOT_CREDITS and words[-1].lower() not in COMMENT_VERBS:
            return name
    return None


def _without_house(name: str, houses: set[str]) -> str:
    """``name`` without trailing role words and the publication's name ("Adam Roe Testbote Staff")."""
    words = name.split()
    while len(words) > 2 and (words[-1].lower() in NOT_NAMES or _key(words[-1]) in houses):
        words.pop()
    return " ".join(words)


def _house(name: str, houses: set[str]) -> bool:
    """The publication's own name ("Testbote", "Testbote Nord" on testbote.example), not a person."""
    first = _key(name.split()[0]) if name.split() else ""
    return _key(name) in houses or (len(first) >= 3 and first in houses)


def _key(text: str) -> str:
    return "".join(re.findall(r"\w+", text.lower()))
