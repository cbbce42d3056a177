"""Page metadata, read from the untouched tree before any cleaning: title, authors and agencies, dates,
language, site name, section, canonical URL, image, tags and paywall flag (:class:`PageMeta`).

Sources in order of trust: JSON-LD (``NewsArticle`` and kin, ``@graph`` resolved), ``<meta>`` (OpenGraph,
Dublin Core, ``article:*``), then the visible page (``<h1>``, bylines via
:mod:`newsarchive.extract.authors`, htmldate for dates).

Where sources differ, agreement decides:

- title: the ``<h1>`` when it is a form of the declared headline; the part of it a declared form states
  exactly when it carries a kicker; never a logo heading that links home (that is the site's name, and it
  is stripped from the ``<title>`` with the site's tagline);
- date: the first declared date, shown in the publisher's own UTC offset when another source states the
  same instant locally or the URL's day implies it; a date merely found on the page (``<time>``,
  htmldate) gives way to the URL's day when they are days apart.

Every step reads the tree already parsed; nothing here walks the document more than a few XPath passes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from html import unescape
from itertools import groupby
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement

from newsarchive.archive.urls import without_www
from newsarchive.extract import chrome
from newsarchive.extract.authors import page_credits

logger = logging.getLogger(__name__)

MIN_YEAR = 1990  # dates before this are placeholders ("0001-01-01"), not publication dates
LANGID_CHARS = 800  # language id reads this much of the text (its cost grows with the length)


def _naive_or_aware(value: str) -> datetime | None:
    """The datetime an ISO 8601 (or RFC 2822, "Sat, 19 Oct 2019 00:04:00 +0200") string states, naive when
    it states no offset; None if unparseable."""
    value = value.strip()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    match = re.match(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?", value)
    try:
        return datetime.fromisoformat(match.group(0)) if match else parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        return None


def parse_date(value: str | None) -> datetime | None:
    """An aware datetime from an ISO 8601 or RFC 2822 string (a date alone, or a time without an offset,
    is taken as UTC); None if unparseable."""
    if not value or not isinstance(value, str):
        return None
    moment = _naive_or_aware(value)
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def detect_language(text: str, declared: str | None) -> str | None:
    """The language of the text (py3langid), falling back to the page's declared language."""
    if len(text) >= 40:
        try:
            import py3langid  # type: ignore[import-untyped]

            lang, _score = py3langid.classify(text[:LANGID_CHARS])
            return str(lang)
        except Exception as exc:  # model load problems must not stop extraction
            logger.debug("language detection failed: %s", exc)
    if declared:
        return declared.split("-")[0].split("_")[0].lower() or None
    return None


@dataclass(frozen=True)
class PageMeta:
    title: str | None = None
    raw_title: str | None = None
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    date_source: str | None = None
    modified: datetime | None = None
    modified_source: str | None = None
    declared_language: str | None = None
    language: str | None = None
    site: str | None = None
    section: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    titles: tuple[str, ...] = ()  # every form of the headline on the page (JSON-LD, og, <title>, <h1>)
    agencies: tuple[str, ...] = ()
    image_url: str | None = None
    tags: tuple[str, ...] = ()
    paywalled: bool | None = None

    def with_language(self, text: str) -> PageMeta:
        return replace(self, language=detect_language(text, self.declared_language))

    def fields(self) -> dict[str, Any]:
        return {
            "title": self.title, "author": "; ".join(self.authors) or None, "authors": self.authors,
            "published": self.published, "date_source": self.date_source, "modified": self.modified,
            "modified_source": self.modified_source, "site": self.site, "section": self.section,
            "description": self.description, "canonical_url": self.canonical_url,
            "language": self.language or self.declared_language, "agencies": self.agencies,
            "image_url": self.image_url, "tags": self.tags, "paywalled": self.paywalled,
        }


def _meta_map(tree: HtmlElement) -> dict[str, str]:
    """``<meta>`` values by lower-cased property/name/itemprop (first one wins)."""
    out: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = (el.get("content") or "").strip()
        if key and value and key not in out:
            out[key] = value
    return out


_ARTICLE_TYPES = ("article", "newsarticle", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
                  "opinionnewsarticle", "webpage", "report", "liveblogposting")


def _ld_nodes(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [n for item in data for n in _ld_nodes(item)]
    if not isinstance(data, dict):
        return []
    return [data, *_ld_nodes(data.get("@graph", []))]


def json_ld_article(tree: HtmlElement) -> dict[str, Any]:
    """The most article-like JSON-LD node of the page (NewsArticle before Article before WebPage)."""
    best: tuple[int, dict[str, Any]] = (len(_ARTICLE_TYPES), {})
    by_id: dict[str, dict[str, Any]] = {}
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        for node in _ld_nodes(data):
            if isinstance(node.get("@id"), str):
                by_id.setdefault(node["@id"], node)
            types = node.get("@type") or []
            for kind in [types] if isinstance(types, str) else types:
                rank = _ARTICLE_TYPES.index(kind.lower()) if str(kind).lower() in _ARTICLE_TYPES else None
                if rank is not None and (rank < best[0] or (rank == 0 and not best[1])):
                    best = (rank, node)
    return _resolved(best[1], by_id)


def _resolved(node: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``node`` with its author, publisher and image references (``{"@id": ...}``) replaced by the nodes
    they name elsewhere in the page's JSON-LD."""
    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict) and "name" not in value and "url" not in value and value.get("@id") in by_id:
            return by_id[value["@id"]]
        return value

    if not node or not by_id:
        return node
    return {**node, **{key: resolve(node[key]) for key in ("author", "publisher", "image") if key in node}}


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, str) and value.strip() and not value.strip().startswith("http"):
        return [value.strip()]
    return []


AUTHOR_KEYS = ("author", "article:author", "dc.creator", "dcterms.creator", "parsely-author", "sailthru.author",
               "byl")
PUBLISHED_KEYS = ("article:published_time", "og:article:published_time", "datepublished", "publishdate",
                  "pubdate", "date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created",
                  "sailthru.date", "parsely-pub-date")
MODIFIED_KEYS = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified",
                 "dc.date.modified", "last-modified")


def plausible(moment: datetime | None) -> bool:
    """Not a placeholder ("0001-01-01"), not before the web, not days in the future."""
    return moment is not None and MIN_YEAR <= moment.year and moment <= datetime.now(UTC) + timedelta(days=2)


def _first_date(pairs: list[tuple[str, Any]]) -> tuple[datetime | None, str | None]:
    for source, value in pairs:
        moment = parse_date(value) if isinstance(value, str) else None
        if plausible(moment):
            return moment, source
    return None, None


MAX_UTC_OFFSET = timedelta(hours=14)
OFFSET_STEP = timedelta(minutes=15)  # every UTC offset in use is a multiple of a quarter hour


def in_local_time(moment: datetime, values: list[Any]) -> datetime:
    """``moment`` in the publisher's own UTC offset when it is given in UTC and another of the page's date
    ``values`` states the same instant locally: with its offset, or as a naive local time (the offset is
    then the difference, if a whole number of quarter hours up to 14 h). The calendar day of an article is
    the publisher's day: 23:30 in Minneapolis is the next day in UTC."""
    if moment.utcoffset():
        return moment
    for value in values:
        local = _naive_or_aware(value) if isinstance(value, str) else None
        if local is None:
            continue
        if local.tzinfo is not None:
            if local == moment and local.utcoffset():
                return local
            continue
        offset = local - moment.replace(tzinfo=None)
        if offset and abs(offset) <= MAX_UTC_OFFSET and offset % OFFSET_STEP == timedelta(0):
            return moment.astimezone(timezone(offset))
    return moment


_URL_DAY = re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?:/|$)")


def url_day(url: str) -> date | None:
    """The publication day a URL path states ("/2019/10/22/slug"), if any."""
    match = _URL_DAY.search(urlsplit(url).path)
    try:
        return date(*map(int, match.groups())) if match else None
    except ValueError:
        return None


MIN_UTC_OFFSET = timedelta(hours=-12)


def on_url_day(moment: datetime, day: date) -> datetime:
    """``moment``, given in UTC, in the nearest whole-hour offset that puts it on the URL's ``day`` when it
    falls on the day before or after: the URL states the publisher's local day (a story filed at 21:25 in
    New York is in /2020/02/24/ but at 02:25 UTC the next day). The instant itself is unchanged."""
    if moment.utcoffset() or abs(moment.date() - day) != timedelta(days=1):
        return moment
    hours = timedelta(hours=moment.hour)
    offset = -(hours + timedelta(hours=1)) if moment.date() > day else timedelta(hours=24) - hours
    return moment.astimezone(timezone(offset)) if MIN_UTC_OFFSET <= offset <= MAX_UTC_OFFSET else moment


WEAK_DATE_SOURCES = ("time-element", "htmldate")  # found on the page, not declared for the article
URL_DAY_TOLERANCE = timedelta(days=1)  # a declared time and the URL's day may differ by a time zone
LOCAL_TIME_ELEMENTS = 3  # the first few <time> elements may state the published time in local time


def find_dates(tree: HtmlElement, ld: dict[str, Any], metas: dict[str, str], url: str,
               ) -> tuple[datetime | None, str | None, datetime | None, str | None]:
    """Published and modified dates with their sources: JSON-LD, meta tags, <time>, then htmldate; a date
    only found on the page (``WEAK_DATE_SOURCES``) gives way to the day in the URL when they disagree."""
    times = [t.get("datetime") for t in tree.iter("time") if t.get("datetime")]
    candidates = [("json-ld", ld.get("datePublished")), ("json-ld", ld.get("dateCreated")),
                  *((f"meta:{k}", metas.get(k)) for k in PUBLISHED_KEYS), *(("time-element", t) for t in times[:1])]
    published, source = _first_date(candidates)
    if published is None:
        published, source = _htmldate(tree, url)
    day = url_day(url)
    if day and (published is None or (source in WEAK_DATE_SOURCES
                                      and abs(published.date() - day) > URL_DAY_TOLERANCE)):
        published, source = datetime(day.year, day.month, day.day, tzinfo=UTC), "url"
    if published is not None:
        published = in_local_time(published, [v for _s, v in candidates] + times[1:LOCAL_TIME_ELEMENTS])
        published = on_url_day(published, day) if day else published
    modified, modified_source = _first_date([("json-ld", ld.get("dateModified")),
                                             *((f"meta:{k}", metas.get(k)) for k in MODIFIED_KEYS)])
    return published, source, modified, modified_source


def _htmldate(tree: HtmlElement, url: str) -> tuple[datetime | None, str | None]:
    from htmldate import find_date

    try:
        found = find_date(tree, url=url, original_date=True, extensive_search=True)  # htmldate copies the tree
    except Exception as exc:  # htmldate is best effort
        logger.debug("htmldate failed on %s: %s", url, exc)
        return None, None
    moment = parse_date(found)
    return (moment, "htmldate") if plausible(moment) else (None, None)


SEPARATOR_CHARS = " |-–—:·•»/"  # what may stand between a headline and a site name or kicker
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+|\s+::\s+")


SITE_PART_MAX_WORDS = 6


def clean_title(title: str | None, site_names: list[str]) -> str | None:
    """The headline without a site suffix or prefix ("Headline | Site", "Site - Headline") and without the
    site's tagline on the far side of the site name ("Headline | Site | Since 2005")."""
    if not title:
        return None
    title = " ".join(unescape(title).split())  # JSON-LD headlines often carry "&quot;", "&#039;"
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    names = {"".join(chrome.words(n)) for n in site_names if n}
    labels = {n for n in names if len(n) >= 4}  # "testbote" of testbote.example names the site in a part

    def site_like(part: str) -> bool:
        toks = chrome.words(part)
        return "".join(toks) in names or (len(toks) <= SITE_PART_MAX_WORDS and any(t in labels for t in toks))

    # the first run of parts that are not the site's name: a tagline beyond the site name goes with it
    runs = [list(run) for is_site, run in groupby(parts, key=site_like) if not is_site]
    if runs and len(runs[0]) < len(parts):
        return " - ".join(runs[0])
    last, rest = parts[-1], " ".join(parts[:-1])
    if last[:1] in "„“”\"«»'‚‘’" or not (last[:1].isupper() or last[:1].isdigit()):
        return title  # a quoted or lower-case tail is part of the headline, not a site name
    if len(chrome.words(last)) <= 4 and len(chrome.words(rest)) >= 2 * len(chrome.words(last)):
        return title[: title.rfind(last)].rstrip(SEPARATOR_CHARS)
    return title


def _canonical(tree: HtmlElement, metas: dict[str, str], url: str) -> str | None:
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            return urljoin(url, link.get("href").strip())
    return urljoin(url, metas["og:url"]) if metas.get("og:url") else None


def _site_name(ld: dict[str, Any], metas: dict[str, str], url: str) -> str:
    publisher = _names(ld.get("publisher"))
    return metas.get("og:site_name") or (publisher[0] if publisher else None) or urlsplit(url).hostname or ""


_HOME_LINKS = frozenset({"home", "homepage", "start", "startseite", "inicio", "accueil", "news"})


_BREADCRUMB = XPath("//*[contains(@class, 'readcrumb') or contains(@id, 'readcrumb')]")  # Breadcrumb, breadcrumb


def _breadcrumb_section(tree: HtmlElement) -> str | None:
    """The last linked crumb of a breadcrumb trail (the article's own crumb is usually not a link)."""
    for el in _BREADCRUMB(tree):
        names = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if "breadcrumb" in names.lower():
            crumbs = [" ".join(a.text_content().split()) for a in el.iter("a")]
            crumbs = [c for c in crumbs if c and c.lower() not in _HOME_LINKS]
            return crumbs[-1] if crumbs else None
    return None


def _section(tree: HtmlElement, ld: dict[str, Any], metas: dict[str, str]) -> str | None:
    section = ld.get("articleSection")
    if isinstance(section, list):
        section = ", ".join(str(s) for s in section if s)
    if isinstance(section, str) and section.strip():
        return section.strip()
    return metas.get("article:section") or _breadcrumb_section(tree)


def page_metadata(tree: HtmlElement, url: str) -> PageMeta:
    ld, metas = json_ld_article(tree), _meta_map(tree)
    site = _site_name(ld, metas, url)
    raw_title = ld.get("headline") if isinstance(ld.get("headline"), str) else None
    raw_title = raw_title or metas.get("og:title") or metas.get("twitter:title") or _html_title(tree)
    declared = [names for names in (_names(ld.get("author")), *(_names(metas.get(k)) for k in AUTHOR_KEYS)) if names]
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    site_names = [site, host, host.split(".")[0]]
    authors, agencies = page_credits(declared, tree, [*site_names, *_names(ld.get("publisher"))])
    names = [*site_names, *_logo_headings(tree, url)]
    forms = _declared_forms(tree, ld, metas)
    published, source, modified, modified_source = find_dates(tree, ld, metas, url)
    return PageMeta(
        title=_headline(tree, clean_title(raw_title, names), site,
                        [t for form in forms if (t := clean_title(form, names))], url),
        raw_title=raw_title,
        authors=authors, agencies=agencies, image_url=_image_url(ld, metas, url), tags=_tags(tree, ld),
        paywalled=_paywalled(ld),
        published=published, date_source=source, modified=modified, modified_source=modified_source,
        declared_language=_declared_language(tree, ld, metas), site=site or None, section=_section(tree, ld, metas),
        description=metas.get("description") or metas.get("og:description"),
        canonical_url=_canonical(tree, metas, url), titles=_title_forms(tree, forms),
    )


HEADLINE_MAX_WORDS = 40
HEADLINE_OVERLAP = 0.5  # measured on the tuning half of the site split: 0.5 +19 titles on the string set, -1 on fundus


def _links_home(h1: HtmlElement, text: str, url: str) -> bool:
    """The ``<h1>`` is the site's logo: all its text is one link to the site's home page."""
    links = h1.findall(".//a")
    if len(links) != 1 or " ".join(links[0].text_content().split()) != text:
        return False
    home = urlsplit(urljoin(url, (links[0].get("href") or "").strip()))
    same_site = without_www(home.hostname or "") == without_www(urlsplit(url).hostname or "")
    return home.path in ("", "/") and not home.query and same_site


def _logo_headings(tree: HtmlElement, url: str) -> list[str]:
    """The site's name as its logo heading shows it (:func:`_links_home`), to strip from the ``<title>``."""
    texts = ((h1, " ".join(h1.text_content().split())) for h1 in list(tree.iter("h1"))[:3])
    return [text for h1, text in texts if text and _links_home(h1, text, url)]


def _headline(tree: HtmlElement, declared: str | None, site: str, forms: Sequence[str], url: str) -> str | None:
    """The visible headline (one of the first ``<h1>``) when it is a form of the declared title (at least
    half its words are in it; declared titles are often a longer SEO variant), else the declared title.

    An ``<h1>`` often carries a kicker ("Kultur", "Minderheit in Syrien") in an element of its own or
    before a separator; when a part of the ``<h1>`` without it is exactly one of the declared headline
    ``forms`` (JSON-LD headline, og/twitter title, ``<title>`` without the site name), and the whole
    ``<h1>`` is none of them, the sources agree on that part (:func:`_agreed_part`)."""
    if not declared:
        return declared
    wanted, house = set(chrome.words(declared)), "".join(chrome.words(site or ""))
    known = {key for form in (declared, *forms) if (key := " ".join(chrome.words(form)))}
    for h1 in list(tree.iter("h1"))[:3]:
        text = " ".join(h1.text_content().split())
        toks = chrome.words(text)
        if not toks or len(toks) > HEADLINE_MAX_WORDS or "".join(toks) == house or _links_home(h1, text, url):
            continue
        if " ".join(toks) not in known and (part := _agreed_part(h1, text, known)):
            return part
        if sum(t in wanted for t in toks) >= HEADLINE_OVERLAP * len(toks):
            return text
    return declared


def _agreed_part(h1: HtmlElement, text: str, known: set[str]) -> str | None:
    """The longest part of the ``<h1>`` that is one of the ``known`` headline forms (by words): a run of
    its text nodes (a kicker sits in an element of its own) or of its separator-delimited pieces."""
    nodes = [t for t in h1.itertext() if t.strip()]
    runs = [" ".join("".join(nodes[i:j]).split()) for i in range(len(nodes)) for j in range(i + 1, len(nodes) + 1)]
    pieces = _TITLE_SEPARATORS.split(text)
    runs += [" - ".join(pieces[i:j]) for i in range(len(pieces)) for j in range(i + 1, len(pieces) + 1)]
    agreed = [run for run in runs if " ".join(chrome.words(run)) in known]
    return max(agreed, key=len).strip(SEPARATOR_CHARS) if agreed else None


def _image_url(ld: dict[str, Any], metas: dict[str, str], url: str) -> str | None:
    """The lead image the page declares (og:image, twitter:image, JSON-LD image), as an absolute URL."""
    for value in (metas.get("og:image"), metas.get("og:image:url"), metas.get("og:image:secure_url"),
                  metas.get("twitter:image"), metas.get("twitter:image:src"), *_ld_urls(ld.get("image"))):
        if isinstance(value, str) and value.strip() and not value.strip().startswith("data:"):
            return urljoin(url, value.strip())
    return None


def _ld_urls(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [u for item in value for u in _ld_urls(item)]
    if isinstance(value, dict):
        return _ld_urls(value.get("url") or value.get("contentUrl"))
    return []


def _tags(tree: HtmlElement, ld: dict[str, Any]) -> tuple[str, ...]:
    """Keywords the page declares: ``article:tag`` metas, ``keywords``/``news_keywords``, JSON-LD keywords."""
    found: list[str] = []
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or "").strip().lower()
        content = (el.get("content") or "").strip()
        if key == "article:tag":
            found.append(content)
        elif key in ("keywords", "news_keywords"):
            found.extend(content.split(","))
    keywords = ld.get("keywords")
    found.extend(keywords.split(",") if isinstance(keywords, str)
                 else [k for k in keywords if isinstance(k, str)] if isinstance(keywords, list) else [])
    tags = (" ".join(t.split()) for t in found)
    return tuple(dict.fromkeys(t for t in tags if t and len(t) <= 100))


def _paywalled(ld: dict[str, Any]) -> bool | None:
    """From JSON-LD ``isAccessibleForFree`` (on the article or a part of it): False means paywalled."""
    parts = ld.get("hasPart")
    nodes = [ld, *(parts if isinstance(parts, list) else [parts] if isinstance(parts, dict) else [])]
    for node in nodes:
        value = node.get("isAccessibleForFree") if isinstance(node, dict) else None
        if isinstance(value, str):
            value = {"true": True, "false": False}.get(value.strip().lower())
        if isinstance(value, bool):
            return not value
    return None


def _declared_forms(tree: HtmlElement, ld: dict[str, Any], metas: dict[str, str]) -> list[str]:
    """The headline as each source declares it: JSON-LD, og, twitter, ``<title>`` (site names still in)."""
    forms = (ld.get("headline"), metas.get("og:title"), metas.get("twitter:title"), _html_title(tree))
    return [form for form in forms if isinstance(form, str) and form.strip()]


def _title_forms(tree: HtmlElement, declared: list[str]) -> tuple[str, ...]:
    """Every form of the title the body may repeat: the declared ones, the first ``<h1>``, and their
    separator-delimited parts of three words or more."""
    forms = [*declared, *[" ".join(h.text_content().split()) for h in tree.iter("h1")][:3]]
    out = []
    for form in forms:
        if form.strip():
            out.append(form)
            out.extend(p for p in _TITLE_SEPARATORS.split(form) if len(chrome.words(p)) >= 3)
    return tuple(dict.fromkeys(out))


def _html_title(tree: HtmlElement) -> str | None:
    el = tree.find(".//title")
    return " ".join(el.text_content().split()) if el is not None and el.text_content().strip() else None


def _declared_language(tree: HtmlElement, ld: dict[str, Any], metas: dict[str, str]) -> str | None:
    root = tree.getroottree().getroot()
    lang = root.get("lang") or root.get("xml:lang") or metas.get("og:locale") or metas.get("content-language")
    lang = lang or (ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None)
    return lang.replace("_", "-").split("-")[0].lower() if lang else None
