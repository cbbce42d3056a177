"""Generic chrome filters: page furniture that trafilatura leaves inside the article container.

Two stages, both site-agnostic (no rule names a site, a page or a URL):

- :func:`clean_tree` works on the parsed DOM before extraction. It drops elements whose class, id,
  aria-label or role name them as furniture (newsletter, subscribe, promo, paywall, related, teaser,
  share, social, comments, audio player, tags, captions and credits, hidden dialogs), paragraphs that are
  one link (teasers), and lists whose items are links (related-story lists). A guard keeps any element
  that holds a large share of the page's paragraph text, so a badly named article container survives.
- :func:`filter_lines` works on the extracted text: it drops a leading headline (and dek) that repeat
  the page title/description, lines that are known furniture phrases (in English and German: "Read
  more:", "Mehr zum Thema", "Sign up for our newsletter", netiquette, photo credits, ...), and
  duplicated lines (one copy of each body paragraph).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml.html import HtmlElement

# class/id tokens that name furniture (matched against lower-cased tokens of class, id, aria-label)
CHROME_TOKENS = frozenset("""
newsletter newsletters subscribe subscription subscriptions signup promo promos promotion paywall
related teaser teasers share sharing shares social socials sociallinks comment comments disqus
netiquette audioplayer podcast tags tag tagcloud taglist keywords breadcrumb breadcrumbs recommended
recommendations outbrain taboola trending mostread popular readmore morestories morenews moreon
scrim modal overlay popup cookie consent notification reprint reprints print sidebar rail
caption captions figcaption credit credits photocredit copyright byline author authors bio
advert advertisement ad ads sponsored sponsor cta donate disclosure latest similar
""".split())
# two-token names ("read-more", "most-read", "more-on"): compared joined
CHROME_PAIRS = frozenset({"readmore", "mostread", "moreon", "morenews", "morestories", "audioplayer",
                          "signup", "sociallinks", "photocredit", "tagcloud", "taglist", "relatedlinks",
                          "relatedarticles", "relatedposts", "relatedstories", "editorspicks", "mehrzumthema"})
CHROME_ROLES = frozenset({"complementary", "navigation", "banner", "contentinfo", "dialog", "alertdialog"})
KEEP_TAGS = frozenset({"html", "body", "main", "article"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def name_tokens(value: str) -> list[str]:
    """``"Newsletter-title--small latestBox"`` -> ``["newsletter", "title", "small", "latest", "box"]``."""
    return [t for t in _SPLIT.split(_CAMEL.sub(" ", value).lower()) if t]


_TAXONOMY = re.compile(r"(?<![\w-])(tag|category|categories|post|format|status|type|section|topic)-[\w-]+", re.I)


def is_chrome_name(value: str) -> bool:
    toks = name_tokens(_TAXONOMY.sub(" ", value))  # WordPress-style "tag-deals category-news" name the post
    if any(t in CHROME_TOKENS for t in toks):
        return True
    return any(a + b in CHROME_PAIRS for a, b in zip(toks, toks[1:], strict=False))


def _hidden(el: HtmlElement) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return el.get("hidden") is not None or "display:none" in style or el.get("aria-hidden") == "true"


def _named_chrome(el: HtmlElement) -> bool:
    if el.tag in KEEP_TAGS:
        return False
    if (el.get("role") or "").lower() in CHROME_ROLES or el.tag in ("aside", "figcaption", "nav"):
        return True
    names = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("aria-label"))))
    return bool(names) and is_chrome_name(names)


def text_len(el: HtmlElement) -> int:
    return len(" ".join(el.itertext()).split())


def _paragraph_words(root: HtmlElement) -> int:
    return sum(text_len(p) for p in root.iter("p"))


def link_share(el: HtmlElement) -> float:
    words = text_len(el)
    if not words:
        return 0.0
    return sum(text_len(a) for a in el.iter("a")) / words


def _link_teaser(el: HtmlElement) -> bool:
    """A paragraph that is one short link, or a list whose every item is mostly a link."""
    if el.tag == "p":
        return 0 < text_len(el) <= 25 and link_share(el) >= 0.9
    items = [li for li in el if isinstance(li.tag, str) and li.tag == "li"]
    return len(items) >= 2 and all(link_share(li) >= 0.8 for li in items)


def find_chrome(root: HtmlElement, *, guard_share: float = 0.35) -> list[HtmlElement]:
    """The furniture elements of ``root`` (outermost only).

    An element is kept whatever its name when it holds more than ``guard_share`` of the page's paragraph
    words or of all its words (a container named ``post-share-wrapper`` can hold the whole article).
    """
    total_p, total = max(_paragraph_words(root), 1), max(text_len(root), 1)
    doomed: list[HtmlElement] = []
    skip: set[HtmlElement] = set()
    for el in root.iter():
        if not isinstance(el.tag, str) or el in skip:
            continue
        if _hidden(el) or _named_chrome(el) or (el.tag in ("p", "ul", "ol") and _link_teaser(el)):
            if _paragraph_words(el) <= guard_share * total_p and text_len(el) <= guard_share * total:
                doomed.append(el)
                skip.update(el.iterdescendants())
    return doomed


def clean_tree(root: HtmlElement, *, guard_share: float = 0.35) -> int:
    """Drop furniture from ``root`` in place; returns how many elements were removed."""
    doomed = find_chrome(root, guard_share=guard_share)
    for el in doomed:
        drop(el)
    return len(doomed)


def drop(el: HtmlElement) -> None:
    """Remove ``el`` but keep its tail text in the document."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


# -- text stage ---------------------------------------------------------------------------------------------
_PHRASES = [
    # teasers and "more on this topic"
    r"(read|see|watch|listen) (more|also|next)\b.*", r"related( (posts?|stories|articles|content|coverage))?\s*:.*",
    r"(also|more) on [\w.]+\b.*", r"you (may|might) (also )?(like|enjoy)\b.*", r"don'?t miss\b.*",
    r"(most|more) (read|popular|from)\b.*", r"popular on\b.*", r"explore further\b.*", r"more\s*:",
    r"(mehr zum thema|lesen sie (auch|mehr)|auch interessant|das könnte sie auch interessieren|weitere artikel"
    r"|zum thema|meistgelesen|ähnliche (artikel|news|nachrichten))\b.*",
    # newsletters, subscriptions, apps, social
    r".{0,80}\b(sign up|subscribe|newsletter|abonnieren|abonnement|jetzt abo|e-?paper)\b.{0,120}",
    r"(follow|like) (us|@?\w+( \w+){0,4}) on (twitter|facebook|instagram|youtube)\b.*",
    r"(folgen sie uns|teilen|share this|share on|like this story)\b.*", r"click here\b.*",
    r".{0,40}get the .{0,40}app\b.*", r"(download|listen|itunes|spotify)\s*:\s*https?://\S+",
    # audio players, comments, netiquette
    r".{0,40}\b(artikel (vor)?(an)?hören|vorlesen|audio(version|player)?|hörversion)\b.{0,80}",
    r"\d*\s*(comments?|kommentare?|postings?)\s*(\(\d+\))?", r".{0,120}\bnetiquette\b.*",
    r"(leave|post|write) a (comment|reply)\b.*", r"tell us what you think\b.*",
    r"(atenção|achtung)\s*:\s*coment.*",
    # credits, tags, reading time, copyright
    r"(foto|bild|photo|image|credit|quelle|source)s?\s*[:©].{0,120}", r".{0,80}©.{0,80}",
    r"(copyright|\(c\))\b.{0,120}", r"(tags?|schlagwörter|themen|filed under)\s*:?.{0,200}",
    r"(tempo de leitura|reading time|lesezeit)\s*:?.{0,30}",
]
CHROME_LINE = re.compile(r"^\W*(?:" + "|".join(_PHRASES) + r")\W*$", re.I)
_WORD = re.compile(r"\w+")
DEDUPE_MIN_WORDS = 50
DEDUPE_MIN_RUN = 3


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def same_text(a: str, b: str) -> bool:
    wa, wb = words(a), words(b)
    return bool(wa) and wa == wb


def _heading_like(line: str, candidates: Sequence[str]) -> bool:
    wl = words(line)
    for cand in candidates:
        wc = words(cand)
        if wl and wc and (wl == wc or (len(wl) >= 3 and wc[: len(wl)] == wl and len(wl) >= 0.6 * len(wc))):
            return True
    return False


def strip_heading(lines: list[str], title: str | None, description: str | None) -> list[str]:
    """Drop leading lines that repeat the headline (title) or the dek (description)."""
    heads = [t for t in (title,) if t]
    out = list(lines)
    while out and _heading_like(out[0], heads):
        out.pop(0)
    return out


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """(start, end) of every maximal run of True in ``flags``."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    return runs


def dedupe(lines: Sequence[str]) -> list[str]:
    """Drop a second copy of the body: a run of repeated lines that starts over from the text's opening.

    Other repeated lines are kept: recipe steps and "Pre-workout meal" schedules repeat for real.
    """
    keys = [tuple(words(line)) for line in lines]
    seen: set[tuple[str, ...]] = set()
    repeated = []
    for key in keys:
        repeated.append(key in seen)
        seen.add(key)
    opening = set(keys[:3])
    drop_at: set[int] = set()
    for start, end in _runs(repeated):
        size = sum(len(keys[i]) for i in range(start, end))
        if keys[start] in opening and end - start >= DEDUPE_MIN_RUN and size >= DEDUPE_MIN_WORDS:
            drop_at.update(range(start, end))
    return [line for i, line in enumerate(lines) if i not in drop_at]


def is_chrome_line(line: str) -> bool:
    stripped = line.strip().lstrip("-•|").strip()
    return bool(stripped) and len(stripped) < 400 and CHROME_LINE.match(stripped) is not None


def filter_lines(text: str, *, title: str | None = None, description: str | None = None) -> str:
    lines = [ln for ln in text.splitlines() if words(ln)]
    lines = strip_heading(lines, title, description)
    lines = [ln for ln in lines if not is_chrome_line(ln)]
    return "\n".join(dedupe(lines))
