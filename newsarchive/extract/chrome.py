"""Generic chrome filters: page furniture that trafilatura leaves inside the article container.

Two stages, both site-agnostic (no rule names a site, a page, a URL or one site's wording):

- :func:`clean_tree` works on the parsed DOM before extraction. It drops elements whose class, id,
  aria-label or role name them as furniture (newsletter, subscribe, promo, paywall, related, teaser,
  share, social, comments, audio player, tags, captions and credits, dialogs), hidden elements, paragraphs
  that are one link (teasers), and lists whose items are links (related-story lists). Structural guards
  decide before names: never the article's text container or its ancestors, nor an element holding a large
  share of the page's paragraph words, nor one made mostly of *main-text* paragraphs (sentence-like, few
  links, in containers shaped like the one holding most such text: :class:`Paragraphs`), nor a subheading
  among them, nor an inline element inside running text (a linked word mid-sentence). So ``<p class="paywall">``
  around every paragraph, a grid named ``sidebar-grid__content`` or a hidden-until-script article body stay.
  Utility-class variants (``print:max-w-none``) are not names.
  A split article (several containers shaped like the text container) is joined (:func:`join_containers`).
- :func:`filter_lines` works on the extracted text: it drops a leading headline that repeats one of the
  page's title forms, lines that are common furniture phrases (English and German: "Read more:", "Mehr
  zum Thema", "Sign up for our newsletter", netiquette, photo credits, attributions, ...), bare datelines,
  and a second copy of the body. :func:`merge_passes` combines a precision and a recall extraction (off
  by default: it costs a second trafilatura run).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from lxml.etree import XPath
from lxml.html import HtmlElement

# class/id tokens that name furniture (matched against lower-cased tokens of class, id, aria-label). Not the
# names of a lead ("standfirst", "dek", "subline", "strapline"): the summary sentence under the headline is the
# article's (benchmark tuning half: keeping it costs the article-extraction set no F1, gains a strings 'with')
CHROME_TOKENS = frozenset("""
newsletter newsletters subscribe subscription subscriptions signup promo promos promotion paywall
related teaser teasers share sharing shares social socials sociallinks comment comments disqus
netiquette audioplayer podcast tags tag tagcloud taglist keywords breadcrumb breadcrumbs recommended
recommendations outbrain taboola trending mostread popular readmore morestories morenews moreon
scrim modal overlay popup cookie consent notification reprint reprints sidebar rail
caption captions figcaption credit credits photocredit copyright byline author authors bio
advert advertisement ad ads sponsored sponsor cta donate disclosure latest similar
kicker dateline timestamp abo src
""".split())
# two-token names ("read-more", "most-read", "more-on"): compared joined
CHROME_PAIRS = frozenset({"readmore", "mostread", "moreon", "morenews", "morestories", "audioplayer",
                          "signup", "sociallinks", "photocredit", "tagcloud", "taglist", "relatedlinks",
                          "relatedarticles", "relatedposts", "relatedstories", "editorspicks", "mehrzumthema"})
JOIN_MIN_WORDS = 10  # a split-off part of the article holds at least this many words in paragraphs
GUARD_SHARE = 0.45  # measured: 0.35-0.5 keep the benchmark F1 within 0.001; 0.6 costs 0.005
SENTENCE_MIN_WORDS = 10  # a body paragraph: at least this many words ...
SENTENCE_MAX_LINK_SHARE = 0.5  # ... and at most this share of them in links
MAIN_TEXT_SHARE = 0.5  # an element whose words are at least this much main-text paragraphs is article, not chrome
CHROME_ROLES = frozenset({"complementary", "navigation", "banner", "contentinfo", "dialog", "alertdialog"})
KEEP_TAGS = frozenset({"html", "body", "main", "article"})
INLINE_TAGS = frozenset("a abbr b bdi cite code em i kbd mark q s small span strong sub sup time u var".split())
SUBHEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_TOKEN = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")  # words of a class name, camelCase split
_TAXONOMY_HEADS = frozenset("tag category categories post format status type section topic".split())
_BLOCKS = XPath("//p | //div[text()[normalize-space()]]")  # paragraphs, and divs with bare text of their own
_CANDIDATES = XPath("//*[@class or @id or @aria-label or @role or @hidden or @style or @aria-hidden]"
                    " | //aside | //nav | //figcaption | //ul | //ol | //p[.//a]")


def name_tokens(value: str) -> list[str]:
    """``"Newsletter-title--small latestBox"`` -> ``["newsletter", "title", "small", "latest", "box"]``.

    A utility-class variant prefix (``print:``, ``md:``, ``hover:``) is not a token of the name.
    """
    return [t.lower() for cls in value.split() for t in _TOKEN.findall(cls.rpartition(":")[2])]


def _taxonomy(cls: str) -> bool:
    """A WordPress-style post class ("tag-deals", "category-news"): it names the post, not furniture."""
    head, dash, _rest = cls.partition("-")
    return bool(dash) and head.lower() in _TAXONOMY_HEADS


@lru_cache(maxsize=8192)  # class names recur across a site's pages; ~4.7 MB held at 65,536
def is_chrome_name(value: str) -> bool:
    toks = name_tokens(" ".join(cls for cls in value.split() if not _taxonomy(cls)))
    if any(t in CHROME_TOKENS for t in toks):
        return True
    return any(a + b in CHROME_PAIRS for a, b in zip(toks, toks[1:], strict=False))


def _hidden(el: HtmlElement) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    return bool(style) and "display:none" in style.replace(" ", "").lower()


def _named_chrome(el: HtmlElement) -> bool:
    if el.tag in KEEP_TAGS:
        return False
    if (el.get("role") or "").lower() in CHROME_ROLES or el.tag in ("aside", "figcaption", "nav"):
        return True
    names = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("aria-label"))))
    return bool(names) and is_chrome_name(names)


def text_len(el: HtmlElement) -> int:
    return len(el.text_content().split())


def link_share(el: HtmlElement) -> float:
    words = text_len(el)
    if not words:
        return 0.0
    return sum(text_len(a) for a in el.iter("a")) / words


def _few_links(block: HtmlElement) -> bool:
    """At most :data:`SENTENCE_MAX_LINK_SHARE` of the block's words are link text."""
    return block.find(".//a") is None or link_share(block) <= SENTENCE_MAX_LINK_SHARE


def _link_teaser(el: HtmlElement) -> bool:
    """A paragraph that is one short link, or a list whose every item is mostly a link."""
    if el.tag == "p":
        return 0 < text_len(el) <= 25 and link_share(el) >= 0.9
    items = [li for li in el if isinstance(li.tag, str) and li.tag == "li"]
    return len(items) >= 2 and all(link_share(li) >= 0.8 for li in items)


class Paragraphs:
    """The page's paragraphs, measured once: words per ``<p>`` (and per ``<div>`` of bare text lines split by
    ``<br>``), the article's text container, and its *main-text* paragraphs (sentence-like, few links, in
    containers shaped like the one holding the most such text: the same tag and class). Class names and
    visibility never decide against a main-text paragraph. A paragraph inside a link (a teaser card wrapped
    in ``<a>``) is not counted at all: it is link text, and must not shield its list as "the article"."""

    def __init__(self, root: HtmlElement) -> None:
        self.words: dict[HtmlElement, int] = {}
        own: dict[HtmlElement, int] = {}
        by_shape: dict[tuple[str, str], int] = {}
        sentence: dict[HtmlElement, tuple[str, str]] = {}
        for block in _BLOCKS(root):
            if next(block.iterancestors("a"), None) is not None:
                continue  # inside a link (a teaser card wrapped in <a>): link text, never the article's paragraphs
            if block.tag == "p":
                n = text_len(block)
                holder = block.getparent()
            else:  # a <div> whose own text (not its children's) is prose: "text<br>text<br>..."
                n = len((block.text or "").split()) + sum(len((c.tail or "").split()) for c in block)
                if n < SENTENCE_MIN_WORDS:
                    continue
                holder = block
            self.words[block] = n
            if holder is None:
                continue
            own[holder] = own.get(holder, 0) + n
            if n >= SENTENCE_MIN_WORDS and _few_links(block):
                shape = (str(holder.tag), (holder.get("class") or "").strip())
                by_shape[shape] = by_shape.get(shape, 0) + n
                sentence[block] = shape
        self.total = max(sum(self.words.values()), 1)
        self.anchor = max(own, key=own.__getitem__) if own else None
        main = max(by_shape, key=by_shape.__getitem__) if by_shape else None
        self.main = {p: n for p, n in self.words.items() if main is not None and sentence.get(p) == main}
        self.holders = {p.getparent() if p.tag == "p" else p for p in self.main}  # containers of the main text

    def inside(self, el: HtmlElement) -> int:
        """Paragraph words inside ``el`` (itself included)."""
        return sum(self.words.get(p, 0) for p in el.iter("p", "div"))

    def main_inside(self, el: HtmlElement) -> int:
        return sum(self.main.get(p, 0) for p in el.iter("p", "div"))


def text_anchor(root: HtmlElement) -> HtmlElement | None:
    """The element with the most words in its own paragraphs: the article's text container, usually."""
    return Paragraphs(root).anchor


def find_chrome(root: HtmlElement, *, guard_share: float = GUARD_SHARE,
                paragraphs: Paragraphs | None = None) -> list[HtmlElement]:
    """The furniture elements of ``root`` (outermost only).

    Never the article's text container or one of its ancestors, nor an element holding more than
    ``guard_share`` of the page's paragraph words, nor one whose words are mostly main-text paragraphs
    (:class:`Paragraphs`), whatever its name, role or visibility: a container named ``post-share-wrapper``,
    ``sidebar-grid__content`` or ``paywall`` can hold the article.
    """
    paras = paragraphs or Paragraphs(root)
    anchor = paras.anchor
    protected = set(anchor.iterancestors()) | {anchor} if anchor is not None else set()
    doomed: list[HtmlElement] = []
    # what lies inside an element already going: the candidates come in document order, so an element's
    # descendants come after it and are passed over without a look. They were 58% of the candidates on the
    # string set's tuning pages; clean() 4.9 -> 3.3 ms per page there and on fundus's (same elements dropped on
    # all 780 benchmark pages, /tmp script)
    gone: set[HtmlElement] = set()
    for el in _CANDIDATES(root):
        if el in gone or not isinstance(el.tag, str) or el in protected or el in paras.main:
            continue  # (a main-text paragraph is spared below anyway)
        if not (_hidden(el) or _named_chrome(el) or (el.tag in ("p", "ul", "ol") and _link_teaser(el))):
            continue
        if el.tag in INLINE_TAGS and _in_sentence(el):
            continue  # a linked or styled word in running text ("<a class=tag-link>Balkon</a>") is the sentence's
        if el.tag in SUBHEADINGS and not _hidden(el) and _among_main_text(el, paras):
            continue  # a subheading among the main paragraphs is the article's, whatever its class
        if paras.inside(el) > guard_share * paras.total:
            continue
        main = paras.main_inside(el)
        if main and main >= MAIN_TEXT_SHARE * max(text_len(el), 1):
            continue
        doomed.append(el)
        gone.update(el.iter())
    return doomed


def _in_sentence(el: HtmlElement) -> bool:
    """Words of the enclosing text stand on both sides of ``el``: it is part of a sentence, not a block."""
    if not (el.tail and el.tail.strip()):
        return False
    prev = el.getprevious()
    if prev is not None:
        return bool(prev.tail and prev.tail.strip()) or (isinstance(prev.tag, str) and prev.tag in INLINE_TAGS
                                                          and bool(prev.text_content().strip()))
    parent = el.getparent()
    return parent is not None and bool(parent.text and parent.text.strip())


def _among_main_text(heading: HtmlElement, paras: Paragraphs) -> bool:
    """The heading's block (its parent or grandparent) holds main-text paragraphs."""
    return any(paras.main_inside(block) for block in list(heading.iterancestors())[:2])


def clean_tree(root: HtmlElement, *, guard_share: float = GUARD_SHARE) -> int:
    """Drop furniture from ``root`` in place and join a split article; returns how many elements went."""
    return clean(root, guard_share=guard_share)[0]


def clean(root: HtmlElement, *, guard_share: float = GUARD_SHARE) -> tuple[int, int]:
    """:func:`clean_tree`, returning how many elements went and how many words the main-text paragraphs
    hold (what an extraction of the article should roughly come to)."""
    paras = Paragraphs(root)
    doomed = find_chrome(root, guard_share=guard_share, paragraphs=paras)
    for el in doomed:
        drop(el)
    join_containers(root, anchor=paras.anchor if paras.anchor is not None and paras.anchor.getparent() is not None
                    else None)
    return len(doomed), sum(paras.main.values())


def _own_paragraph_words(el: HtmlElement) -> int:
    return sum(text_len(p) for p in el if isinstance(p.tag, str) and p.tag == "p")


def _shape(el: HtmlElement) -> tuple[object, ...]:
    """Tag and class of an element and its two ancestors, and its depth: equal for the parts of one article."""
    chain = [el, *list(el.iterancestors())[:2]]
    return (len(list(el.iterancestors())), *((e.tag, (e.get("class") or "").strip()) for e in chain))


def join_containers(root: HtmlElement, *, anchor: HtmlElement | None = None) -> int:
    """Move the paragraphs of a split article (several containers of the same shape as the article container,
    with ads or teasers between them) into the first one, so extraction takes the article whole.
    Returns how many containers were merged in.
    """
    anchor = anchor if anchor is not None else text_anchor(root)
    if anchor is None or not (anchor.get("class") or "").strip():
        return 0
    cls = anchor.get("class")
    shape = _shape(anchor)
    related = set(anchor.iterancestors())
    peers = [el for el in root.iter(anchor.tag) if el is anchor or (
        el.get("class") == cls and el not in related and _shape(el) == shape
        and _own_paragraph_words(el) >= JOIN_MIN_WORDS and anchor not in set(el.iterancestors()))]
    if len(peers) < 2:
        return 0
    first = peers[0]
    for peer in peers[1:]:
        for child in list(peer):
            first.append(child)
        drop(peer)
    return len(peers) - 1


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
    r"(most|more) (read|popular|from)\b.*", r"popular on\b.*", r"more\s*:",
    r"(mehr zum thema|lesen sie (auch|mehr)|auch interessant|das könnte sie auch interessieren|weitere artikel"
    r"|zum thema|meistgelesen|ähnliche (artikel|news|nachrichten))\b.*",
    # newsletters, subscriptions, apps, social
    r".{0,80}\b(sign up|subscrib(e|ing) to|abonnieren|jetzt abo|newsletter bestellen|e-?paper)\b.{0,120}",
    r"(follow|like) (us|@?\w+( \w+){0,4}) on (twitter|facebook|instagram|youtube)\b.*",
    r"folgen sie uns\b.{0,80}", r"(teilen|share( this( article| story)?)?)( (auf|on|via|per) .{1,30})?", r"click here\b.*",
    r".{0,40}get the .{0,40}app\b.*", r"(download|listen|itunes|spotify)\s*:\s*https?://\S+",
    # audio players, comments, netiquette
    r".{0,40}\b(artikel (vor)?(an)?hören|vorlesen|audio ?(version|player|abspielen)|hörversion"
    r"|listen to (this|the) (article|story))\b.{0,80}",
    r"\d*\s*(comments?|kommentare?|postings?)\s*(\(\d+\))?", r".{0,120}\bnetiquette\b.*",
    r"(leave|post|write) a (comment|reply)\b.*", r"tell us what you think\b.*",
    # credits, tags, reading time, copyright
    r"(foto|bild|photo|image|credit|quelle|source)s?\s*[:©].{0,120}", r".{0,80}©.{0,80}",
    r"(copyright|\(c\))\b.{0,120}", r"(tags?|schlagwörter|themen|filed under)(\s*:.{0,200})?",
    r"(reading time|lesezeit)\s*:?.{0,30}",
    # attributions and contact lines after the story
    r"\(?(additional )?reporting by\b.*", r".*\bcontributed (to )?(this )?(report|reporting|story)\b.*",
    r".*\b(editing|edited|compiled) by\b.{0,80}", r"(write|email|e-mail|reach|contact) .{0,60}(@|\bat \S+@).*",
    r".{0,60}\bfollow (him|her|them|us|@\w+|\w+( \w+){0,3}) (on|at) (twitter|facebook|instagram)\b.*",
    r"(\S+@\S+\.\w+|(https?://)?(www\.)?(twitter|facebook|instagram)\.com/\S*)", r"(mit material von|mit agenturen)\b.{0,80}",
]
CHROME_LINE = re.compile(r"^\W*(?:" + "|".join(_PHRASES) + r")\W*$", re.I)
_WORD = re.compile(r"\w+")
DEDUPE_MIN_WORDS = 50
DEDUPE_MIN_RUN = 3
MERGE_MAX_GAP = 12  # recall-pass lines restored between two agreed lines, at most
MERGE_MIN_WORDS = 8
HEADING_MAX_WORDS = 20


def words(text: str) -> list[str]:
    """The lower-cased ``\\w+`` words of ``text`` (each line is tokenised by several filters: cached)."""
    return list(_words(text))


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def forget_lines() -> None:
    """Empty the line-word cache between pages: its hits are the same page's lines, read by several filters,
    while held between pages a full cache was ~18 MB of each extraction worker's private memory (tracemalloc,
    417 real pages; ``bench/profile_pool.py``)."""
    _words.cache_clear()


def _heading_like(line: str, candidates: Sequence[str]) -> bool:
    wl = words(line)
    for cand in candidates:
        wc = words(cand)
        if wl and wc and (wl == wc or (len(wl) >= 3 and wc[: len(wl)] == wl and len(wl) >= 0.6 * len(wc))):
            return True
    return False


def strip_heading(lines: list[str], titles: Sequence[str]) -> list[str]:
    """Drop leading lines (the first few) that repeat the headline in one of its forms."""
    out = list(lines)
    for _ in range(3):
        hit = next((i for i, line in enumerate(out[:3]) if _heading_like(line, titles)), None)
        if hit is None:
            break
        out.pop(hit)
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


_DATE_WORDS = frozenset("""
jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september
october november december januar februar märz mai juni juli oktober dezember janeiro fevereiro março abril
maio junho julho agosto setembro outubro novembro dezembro mon tue wed thu fri sat sun monday tuesday
wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag freitag samstag sonntag
segunda terça quarta quinta sexta feira sábado domingo am pm a m p m est edt pst pdt gmt utc cet cest mez
published updated posted last modified veröffentlicht aktualisiert stand publicado atualizado em de às at
on by um uhr le il the
""".split())


def is_date_line(line: str) -> bool:
    """A dateline such as "UPDATED: Tue., Nov. 19, 2019" or "22.01.2024 09:14 Uhr" (nothing but a date)."""
    toks = words(line)
    if not toks or len(toks) > 14 or not re.search(r"\b(19|20)\d\d\b|\b\d{1,2}:\d{2}\b", line):
        return False
    rest = [t for t in toks if not t.isdigit() and t not in _DATE_WORDS]
    return len(rest) <= 1


def is_chrome_line(line: str) -> bool:
    stripped = line.strip().lstrip("-•|").strip()
    if not stripped or len(stripped) >= 400:
        return False
    return CHROME_LINE.match(stripped) is not None or is_date_line(stripped)


def _sentence_like(line: str) -> bool:
    return len(words(line)) >= MERGE_MIN_WORDS and line.rstrip()[-1:] in ".!?\"”’)»"


def _trigrams(text: str) -> set[tuple[str, ...]]:
    toks = words(text)
    return {tuple(toks[i:i + 3]) for i in range(len(toks) - 2)}


def _novel(line: str, known: set[tuple[str, ...]]) -> bool:
    """Mostly text the other pass does not have (not the same paragraph worded with or without link text)."""
    grams = _trigrams(line)
    return bool(grams) and len(grams - known) > 0.5 * len(grams)


def merge_passes(precise: str, recall: str) -> str:
    """The precision pass, plus the recall pass's sentences that sit *between* two lines both passes share.

    A precision pass drops furniture around the article but also some paragraphs inside it; a recall pass
    keeps both. Full sentences the recall pass has between agreed lines are the article's own; anything
    outside the agreed span, and short unpunctuated lines (teaser headlines) inside it, stay dropped.
    """
    recall_lines = [ln for ln in recall.splitlines() if words(ln)]
    known = _trigrams(precise)
    position: dict[tuple[str, ...], int] = {}
    for i, line in enumerate(recall_lines):
        position.setdefault(tuple(words(line)), i)
    out: list[str] = []
    last = None
    for line in (ln for ln in precise.splitlines() if words(ln)):
        here = position.get(tuple(words(line)))
        if here is not None and last is not None and last < here <= last + MERGE_MAX_GAP:
            out.extend(ln for ln in recall_lines[last + 1: here] if _sentence_like(ln) and _novel(ln, known))
        out.append(line)
        last = here if here is not None else last
    return "\n".join(out)


def _sibling_text(el: HtmlElement, forward: bool) -> tuple[str, ...]:
    sib = el.getnext() if forward else el.getprevious()
    while sib is not None and not (isinstance(sib.tag, str) and words(sib.text_content())):
        sib = sib.getnext() if forward else sib.getprevious()
    return tuple(words(sib.text_content())) if sib is not None else ()


Heading = tuple[str, tuple[str, ...], tuple[str, ...]]  # title, words of the block before, of the block after


def heading_contexts(root: HtmlElement) -> list[Heading]:
    """Every short subheading (h2-h4) with the words of its neighbouring blocks, read before extraction
    (trafilatura rewrites the tree it works on)."""
    out = []
    for heading in root.iter("h2", "h3", "h4"):
        title = " ".join(heading.text_content().split())
        if title and len(words(title)) <= HEADING_MAX_WORDS:
            out.append((title, _sibling_text(heading, False), _sibling_text(heading, True)))
    return out


def insert_headings(text: str, headings: Sequence[Heading]) -> str:
    """Put back subheadings that stand between two paragraphs the extraction kept next to each other."""
    lines = text.splitlines()
    index = {tuple(words(line)): i for i, line in enumerate(lines)}
    inserts: dict[int, str] = {}
    for title, prev, nxt in headings:
        if tuple(words(title)) in index:
            continue
        before, after = index.get(prev), index.get(nxt)
        if before is not None and after == before + 1:
            inserts[after] = title
    if not inserts:
        return text
    return "\n".join(line for i, kept in enumerate(lines) for line in ([inserts[i]] if i in inserts else []) + [kept])


def restore_headings(root: HtmlElement, text: str) -> str:
    """:func:`insert_headings` with the subheadings of ``root``."""
    return insert_headings(text, heading_contexts(root))


def filter_lines(text: str, *, titles: Sequence[str] = ()) -> str:
    """The text without furniture lines, headline repeats (``titles``) and a second copy of the body."""
    lines = [ln for ln in text.splitlines() if words(ln)]
    lines = strip_heading(lines, [t for t in titles if t])
    lines = [ln for ln in lines if not is_chrome_line(ln)]
    return "\n".join(dedupe(lines))
