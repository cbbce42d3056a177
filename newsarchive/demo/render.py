"""HTML, feeds and sitemaps of five fictional news outlets, modelled on the seed stories' real ones.

Every outlet has its own markup (div soup or ``<article>``, JSON-LD or Open Graph, RSS or Atom) and puts its
chrome *inside* the article container, as real sites do. Any story renders in any outlet's template
(:func:`render_article`), so one site can publish several stories with the same template chrome.

A page's chrome (:func:`page_chrome`) is the outlet's site-wide lines (the ``scope="site"`` lines of the
outlet's own seed story: netiquette, newsletter box, ...) plus the story's own ``scope="page"`` lines
(reader comments, captions, similar-news teasers). Every body sentence and every one of those chrome lines
shows in the page text.

All functions take ``base_url`` (scheme and host, no trailing slash) so that canonical links, feeds and
sitemaps carry the URL the page is served under; the default is the outlet's ``.example`` brand domain.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal

from newsarchive.demo.content import STORIES_BY_ID, ChromeLine, Story

FeedFormat = Literal["rss", "atom"]
WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass(frozen=True)
class Section:
    slug: str
    label: str
    path: str


@dataclass(frozen=True)
class Outlet:
    key: str
    name: str
    domain: str
    home_story: str  # id of the seed story whose site-wide chrome is this outlet's template chrome
    feed_format: FeedFormat
    feed_path: str
    sections: tuple[Section, ...]
    id_base: int
    tagline: str
    sitemap_index_path: str = "/sitemap_index.xml"
    sitemap_path: str = "/sitemap-articles.xml"
    news_sitemap_path: str = "/sitemap-news.xml"

    @property
    def default_base(self) -> str:
        return f"https://www.{self.domain}"

    @property
    def news_section(self) -> Section:
        """The section every article of the site is filed under."""
        return self.sections[0]

    @property
    def feed_type(self) -> str:
        return "application/rss+xml" if self.feed_format == "rss" else "application/atom+xml"


OUTLETS: dict[str, Outlet] = {o.key: o for o in (
    Outlet("wien24", "WIEN24", "wien24.example", "000", "rss", "/rss.xml",
           (Section("welt", "Welt", "/welt/"), Section("oesterreich", "Österreich", "/oesterreich/"),
            Section("sport", "Sport", "/sport/"), Section("leute", "Leute", "/leute/")),
           5987610, "Österreichs schnellste Nachrichten"),
    Outlet("kronenpost", "Kronenpost", "kronenpost.example", "001", "atom", "/feed.atom",
           (Section("nachrichten", "Nachrichten", "/nachrichten"), Section("oesterreich", "Österreich", "/oesterreich"),
            Section("wirtschaft", "Wirtschaft", "/wirtschaft"), Section("sport", "Sport", "/sport")),
           3221000, "Die Zeitung für Österreich"),
    Outlet("newsflux", "Newsflux", "newsflux.example", "002", "rss", "/rss/international.xml",
           (Section("international", "International", "/international/"), Section("schweiz", "Schweiz", "/schweiz/"),
            Section("wirtschaft", "Wirtschaft", "/wirtschaft/")),
           480000, "Switzerland Latest News, Switzerland Headlines"),
    Outlet("siamkurier", "Der Siam-Kurier", "siamkurier.example", "003", "atom", "/atom.xml",
           (Section("ausland", "Ausland", "/nachrichten/ausland"), Section("thailand", "Thailand", "/nachrichten/thailand"),
            Section("asien", "Asien", "/nachrichten/asien")),
           187000, "Die deutschsprachige Zeitung in Thailand"),
    Outlet("nx24", "NX24", "nx24.example", "004", "rss", "/rss",
           (Section("politik", "Politik", "/politik/"), Section("wirtschaft", "Wirtschaft", "/wirtschaft/"),
            Section("panorama", "Panorama", "/panorama/"), Section("sport", "Sport", "/sport/")),
           24660100, "Nachrichten rund um die Uhr"),
)}


def get_outlet(key: str) -> Outlet:
    try:
        return OUTLETS[key]
    except KeyError:
        raise KeyError(f"unknown demo outlet {key!r}; known: {', '.join(OUTLETS)}") from None


# -- chrome of one page ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageChrome:
    site: tuple[ChromeLine, ...]
    page: tuple[ChromeLine, ...]

    def lines(self) -> tuple[ChromeLine, ...]:
        return self.site + self.page

    def site_texts(self, kind: str) -> tuple[str, ...]:
        return tuple(c.text for c in self.site if c.kind == kind)

    def page_texts(self, kind: str) -> tuple[str, ...]:
        return tuple(c.text for c in self.page if c.kind == kind)

    def page_groups(self, kinds: Iterable[str]) -> list[list[ChromeLine]]:
        wanted = set(kinds)
        groups: dict[int, list[ChromeLine]] = {}
        for line in self.page:
            if line.kind in wanted:
                groups.setdefault(line.group, []).append(line)
        return [groups[g] for g in sorted(groups)]


def page_chrome(outlet_key: str, story: Story) -> PageChrome:
    """The chrome lines an article page of ``story`` on ``outlet_key`` shows."""
    outlet = get_outlet(outlet_key)
    site = tuple(c for c in STORIES_BY_ID[outlet.home_story].chrome if c.scope == "site")
    return PageChrome(site=site, page=tuple(c for c in story.chrome if c.scope == "page"))


# -- small helpers ------------------------------------------------------------------------------------------

def esc(text: str) -> str:
    return html.escape(text, quote=True)


def json_ld(data: dict[str, Any]) -> str:
    body = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{body}\n</script>'


def iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def long_date(when: datetime) -> str:
    return f"{WEEKDAYS[when.weekday()]}, {when.day}. {MONTHS[when.month - 1]} {when.year}"


def article_number(outlet: Outlet, story: Story) -> int:
    return outlet.id_base + int(story.id) if story.id.isdigit() else outlet.id_base + 900


def description(story: Story) -> str:
    return story.lead[0] if story.lead else (story.paragraphs[0][0] if story.paragraphs else story.title)


def author_ld(outlet: Outlet, story: Story) -> dict[str, str]:
    if story.author:
        return {"@type": "Person", "name": story.author}
    return {"@type": "Organization", "name": outlet.name}


def paragraphs_html(story: Story, *, css: str = "", first_prefix: str = "",
                    insert_after: dict[int, str] | None = None) -> str:
    """The body paragraphs with their subheadings; ``insert_after`` puts boxes between paragraphs."""
    cls = f' class="{css}"' if css else ""
    out: list[str] = []
    for index, text in enumerate(story.paragraph_texts()):
        out.extend(f"<h2>{esc(h)}</h2>" for h in story.subheading_before(index))
        prefix = first_prefix if index == 0 else ""
        out.append(f"<p{cls}>{prefix}{esc(text)}</p>")
        if insert_after and index in insert_after:
            out.append(insert_after[index])
    return "\n".join(out)


def lead_html(story: Story, tag: str = "p", css: str = "lead", bold_dateline: bool = True) -> str:
    if not story.lead:
        return ""
    dateline = ""
    if story.dateline:
        dateline = f"<strong>{esc(story.dateline)}</strong> " if bold_dateline else f"{esc(story.dateline)} "
    return f'<{tag} class="{css}">{dateline}{esc(story.lead_text())}</{tag}>'


# -- templates ------------------------------------------------------------------------------------------

class Template:
    """What all outlet templates share; each outlet overrides the markup."""

    css = "body{font-family:sans-serif;margin:0}"
    body_class = "page"
    # regex (for sites.toml) matching the outlet's article URLs and the legacy URLs that redirect to them
    article_pattern = r"/[a-z0-9-]+-\d+\.html(?=$|[?#])|/archiv/\d{4}/\d{2}/[a-z0-9-]+\.html(?=$|[?#])"
    service_paths: tuple[tuple[str, str], ...] = (
        ("/impressum", "Impressum"), ("/datenschutz", "Datenschutz"), ("/agb", "AGB"), ("/kontakt", "Kontakt"))

    def __init__(self, outlet: Outlet):
        self.outlet = outlet

    # URLs
    def path_for(self, slug: str, number: int, when: datetime) -> str:
        return f"{self.outlet.news_section.path.rstrip('/')}/{slug}-{number}.html"

    def article_path(self, story: Story) -> str:
        return self.path_for(story.slug, article_number(self.outlet, story), story.published)

    def legacy_path(self, story: Story) -> str:
        return f"/archiv/{story.published:%Y/%m}/{story.slug}.html"

    # page skeleton
    def page(self, base: str, *, title: str, canonical: str, meta: str, body: str) -> str:
        feed = f"{base}{self.outlet.feed_path}"
        return (
            '<!DOCTYPE html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<link rel=\"canonical\" href=\"{esc(canonical)}\">\n"
            f'<link rel="alternate" type="{self.outlet.feed_type}" title="{esc(self.outlet.name)}" href="{esc(feed)}">\n'
            f"{meta}\n{self.requisite_links()}\n<style>{self.css}</style>\n"
            f"<script>window.dataLayer=window.dataLayer||[];dataLayer.push({{site:'{self.outlet.key}'}});</script>\n"
            f'</head>\n<body class="{self.body_class}">\n{self.brand_bar()}\n{body}\n</body>\n</html>\n'
        )

    def requisite_links(self) -> str:
        """The outlet's stylesheet (which @imports the font), favicon and lazy-loading script."""
        return (f'<link rel="stylesheet" href="/static/{self.outlet.key}.css">\n'
                '<link rel="icon" href="/favicon.ico" type="image/x-icon">\n'
                '<script src="/static/site.js" defer></script>')

    def brand_bar(self) -> str:
        """A strip with the outlet's logo, lazy-loaded (``data-src``, swapped in by site.js)."""
        return (f'<div class="brandbar"><img class="lazy" src="/media/blank.gif" data-src="/media/logo-{self.outlet.key}'
                '.png" width="96" height="20" alt=""></div>')

    def nav_links(self) -> str:
        return "".join(f'<li><a href="{s.path}">{esc(s.label)}</a></li>' for s in self.outlet.sections)

    def cookie_banner(self) -> str:
        return ('<div class="cookie-banner" role="dialog"><p>Wir verwenden Cookies und ähnliche Technologien, '
                'um Inhalte zu personalisieren und Zugriffe zu analysieren.</p>'
                '<button>Akzeptieren</button> <button>Einstellungen</button></div>')

    def footer(self) -> str:
        return (f'<footer><ul><li><a href="/impressum">Impressum</a></li><li><a href="/datenschutz">Datenschutz</a>'
                f'</li><li><a href="/agb">AGB</a></li></ul><p>© {esc(self.outlet.name)} – {esc(self.outlet.tagline)}'
                "</p></footer>")

    def header(self) -> str:
        return (f'<header><a class="logo" href="/">{esc(self.outlet.name)}</a>'
                f'<nav><ul>{self.nav_links()}</ul></nav></header>')

    # article parts (generic markup for chrome kinds an outlet does not model itself)
    def figure(self, chrome: PageChrome, story: Story) -> str:
        captions, credits = chrome.page_texts("caption"), chrome.page_texts("credit")
        if not captions and not credits:
            return ""
        first = captions[0] if captions else story.title
        extra = "".join(f'<p class="caption-repeat">{esc(c)}</p>' for c in captions[1:])
        credit = "".join(f'<span class="credit">{esc(c)}</span>' for c in credits)
        return (f'<figure class="media"><picture><source media="(min-width: 1400px)" srcset="/media/{story.slug}'
                f'-960.png"><img src="/media/{story.slug}-640.png" srcset="/media/{story.slug}-640.png 640w, '
                f'/media/{story.slug}-960.png 960w" sizes="640px" alt="{esc(first)}" width="640" height="360">'
                f'</picture><figcaption>{esc(first)} {credit}</figcaption>{extra}</figure>')

    def related_teasers(self, chrome: PageChrome, heading: str = "Das könnte Sie auch interessieren") -> str:
        items = []
        for group in chrome.page_groups(("teaser-title", "teaser-text", "read-more")):
            parts = {c.kind: c.text for c in group}
            items.append(
                f'<li><a href="https://quelle-{group[0].group}.example/news" rel="nofollow">'
                f'<strong>{esc(parts.get("teaser-title", ""))}</strong></a> <span>{esc(parts.get("teaser-text", ""))}'
                f'</span> <a class="more" href="https://quelle-{group[0].group}.example/news" rel="nofollow">'
                f'{esc(parts.get("read-more", "Weiterlesen"))}</a></li>')
        return f'<aside class="related"><h3>{esc(heading)}</h3><ul>{"".join(items)}</ul></aside>' if items else ""

    def comments(self, chrome: PageChrome) -> str:
        out = []
        for group in chrome.page_groups(("comment-meta", "comment-title", "comment")):
            parts = "".join(f'<div class="{c.kind}">{esc(c.text)}</div>' for c in group)
            out.append(f'<li class="posting">{parts}</li>')
        return f'<ol class="postings">{"".join(out)}</ol>' if out else ""

    def site_stories_box(self, base: str, stories: Sequence[Story], current: Story | None, heading: str) -> str:
        items = "".join(
            f'<li><a href="{self.article_path(s)}">{esc(s.title)}</a></li>' for s in stories if s is not current)
        return f'<div class="more-news"><h3>{esc(heading)}</h3><ul>{items}</ul></div>' if items else ""

    # pages
    def article_meta(self, base: str, story: Story) -> str:
        return f'<meta name="description" content="{esc(description(story))}">'

    def article_body(self, base: str, story: Story, chrome: PageChrome, stories: Sequence[Story]) -> str:
        raise NotImplementedError

    def render_article(self, base: str, story: Story, stories: Sequence[Story]) -> str:
        chrome = page_chrome(self.outlet.key, story)
        body = "\n".join((self.cookie_banner(), self.header(), self.article_body(base, story, chrome, stories),
                          self.footer()))
        og_image = f'<meta property="og:image" content="{base}/media/{story.slug}-960.png">'
        return self.page(base, title=f"{story.title} | {self.outlet.name}", canonical=base + self.article_path(story),
                         meta=self.article_meta(base, story) + "\n" + og_image, body=body)

    def render_scripted(self, base: str, story: Story, path: str) -> str:
        """A live-blog page whose article text is not in the markup: a script inserts it (as single-page
        news apps do), so only a browser sees the article."""
        data = json.dumps({"lead": story.lead_text(), "paragraphs": list(story.paragraph_texts()),
                           "byline": story.byline}, ensure_ascii=False).replace("</", "<\\/")
        main = (f'<main class="live"><article class="live-article"><h1>Live: {esc(story.title)}</h1>'
                '<div id="live-body" class="live-body"><p class="loading">Der Liveblog wird geladen …</p></div>'
                '</article>'
                # far below the first screen: the browser loads it only once the page is scrolled
                f'<aside class="live-gallery" style="margin-top:6000px"><img loading="lazy" '
                f'src="/media/{story.slug}-960.png" width="960" height="540" alt=""></aside></main>\n'
                f'<script type="application/json" id="live-data">{data}</script>\n'
                "<script>(function () {\n"
                "  var data = JSON.parse(document.getElementById('live-data').textContent);\n"
                "  var body = document.getElementById('live-body');\n"
                "  body.textContent = '';\n"
                "  [data.lead].concat(data.paragraphs, [data.byline]).forEach(function (text) {\n"
                "    if (!text) { return; }\n"
                "    var p = document.createElement('p'); p.textContent = text; body.appendChild(p);\n"
                "  });\n"
                "})();</script>")
        body = "\n".join((self.header(), main, self.footer()))
        return self.page(base, title=f"Live: {story.title} | {self.outlet.name}", canonical=base + path,
                         meta=f'<meta name="description" content="{esc(description(story))}">', body=body)

    def teaser(self, story: Story, extra_query: str = "") -> str:
        return (f'<div class="teaser"><h2><a href="{self.article_path(story)}{extra_query}">{esc(story.title)}</a>'
                f'</h2><p>{esc(description(story))}</p></div>')

    def listing(self, stories: Sequence[Story]) -> str:
        if not stories:
            return '<p class="empty">Derzeit keine Meldungen in dieser Rubrik.</p>'
        return "\n".join(self.teaser(s) for s in stories)

    def render_home(self, base: str, stories: Sequence[Story], extra_links: Sequence[tuple[str, str]]) -> str:
        variants = []
        for n, story in enumerate(stories):
            path = self.article_path(story)
            variants.append(f'<li><a href="{path}?utm_source=homepage&amp;utm_medium=teaser&amp;utm_campaign=top{n}">'
                            f'{esc(story.title)}</a> <a href="{path}#kommentare">Zu den Kommentaren</a> '
                            f'<a href="{path}?fbclid=IwAR0demo{n}xyz">Teilen</a></li>')
        extras = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for href, text in extra_links)
        main = (f'<main class="home"><h1>{esc(self.outlet.name)}</h1>\n{self.listing(stories)}\n'
                f'<section class="most-read"><h2>Meistgelesen</h2><ol>{"".join(variants)}</ol></section>\n'
                f'<section class="service"><h2>Weitere Meldungen</h2><ul>{extras}</ul></section></main>')
        body = "\n".join((self.cookie_banner(), self.header(), main, self.footer()))
        return self.page(base, title=f"{self.outlet.name} – {self.outlet.tagline}", canonical=base + "/",
                         meta=f'<meta name="description" content="{esc(self.outlet.tagline)}">', body=body)

    def render_section(self, base: str, section: Section, stories: Sequence[Story]) -> str:
        listed = stories if section == self.outlet.news_section else ()
        main = f'<main class="section"><h1>{esc(section.label)}</h1>\n{self.listing(listed)}</main>'
        body = "\n".join((self.cookie_banner(), self.header(), main, self.footer()))
        return self.page(base, title=f"{section.label} | {self.outlet.name}", canonical=base + section.path,
                         meta=f'<meta name="description" content="{esc(section.label)} – {esc(self.outlet.name)}">',
                         body=body)

    def render_info(self, base: str, path: str, title: str) -> str:
        main = (f'<main class="info"><h1>{esc(title)}</h1><p>{esc(self.outlet.name)} ({esc(self.outlet.domain)}) ist '
                'ein fiktives Medium der newsarchive-Demo.</p></main>')
        body = "\n".join((self.header(), main, self.footer()))
        return self.page(base, title=f"{title} | {self.outlet.name}", canonical=base + path, meta="", body=body)

    def render_not_found(self, base: str) -> str:
        main = ('<main class="error"><h1>Seite nicht gefunden</h1><p>Die angeforderte Seite existiert nicht '
                'oder wurde entfernt.</p><p><a href="/">Zur Startseite</a></p></main>')
        body = "\n".join((self.header(), main, self.footer()))
        return self.page(base, title=f"404 | {self.outlet.name}", canonical=base + "/", meta="", body=body)


class Wien24(Template):
    """Austrian tabloid (oe24-like): div soup, Open Graph + article:published_time, teaser rows in the body."""

    css = ".article_body p{font-size:18px}.teaser_row{display:flex}#cookieLayer{position:fixed;bottom:0}"
    body_class = "article_page"
    article_pattern = r"/welt/[a-z0-9-]+/\d{6,}(?=$|[?#])|/archiv/\d{4}/\d{2}/[a-z0-9-]+\.html(?=$|[?#])"
    service_paths = (("/impressum", "Impressum"), ("/datenschutz", "Datenschutz"), ("/kontakt", "Kontakt"), ("/tv/", "TV"))

    def path_for(self, slug: str, number: int, when: datetime) -> str:
        return f"/welt/{slug}/{number}"

    def cookie_banner(self) -> str:
        return ('<div id="cookieLayer" class="cookie-layer"><div class="cl_text">Wir und unsere Partner speichern '
                'und/oder greifen auf Informationen auf einem Gerät zu.</div><a class="cl_btn" href="#">Alle akzeptieren'
                '</a><a class="cl_btn2" href="#">Ablehnen</a></div>')

    def header(self) -> str:
        return (f'<div id="wrapper"><div class="header"><div class="logo"><a href="/">{esc(self.outlet.name)}</a></div>'
                f'<ul class="mainNav">{self.nav_links()}<li><a href="/tv/">TV</a></li></ul></div>')

    def footer(self) -> str:
        return ('<div class="footer"><div class="footer_links"><a href="/impressum">Impressum</a> | '
                '<a href="/datenschutz">Datenschutz</a> | <a href="/kontakt">Kontakt</a></div>'
                f'<div class="copyright">© 2024 {esc(self.outlet.domain)}</div></div></div>')

    def article_meta(self, base: str, story: Story) -> str:
        url = base + self.article_path(story)
        return "\n".join((
            f'<meta name="description" content="{esc(description(story))}">',
            f'<meta property="og:type" content="article"><meta property="og:title" content="{esc(story.title)}">',
            f'<meta property="og:url" content="{esc(url)}"><meta property="og:site_name" content="{self.outlet.name}">',
            f'<meta property="og:description" content="{esc(description(story))}">',
            f'<meta property="article:published_time" content="{iso(story.published)}">',
            f'<meta property="article:modified_time" content="{iso(story.modified)}">',
            f'<meta property="article:section" content="{self.outlet.news_section.label}">',
        ))

    def top_teasers(self, chrome: PageChrome) -> str:
        pairs: dict[int, list[str]] = {}
        for line in chrome.site:
            if line.kind in ("teaser-title", "teaser-text"):
                pairs.setdefault(line.group, []).append(line.text)
        paths = [s.path for s in self.outlet.sections]
        boxes = "".join(
            f'<div class="teaserBox"><a href="{paths[g % len(paths)]}"><span class="teaser_title">{esc(lines[0])}'
            f'</span>\n<span class="teaser_sub">{esc(" ".join(lines[1:]))}</span></a></div>'
            for g, lines in sorted(pairs.items()))
        return f'<div class="teaser_row"><div class="row_title">Top-News</div>{boxes}</div>'

    def article_body(self, base: str, story: Story, chrome: PageChrome, stories: Sequence[Story]) -> str:
        when = story.modified
        head = (f'<div class="articleHead"><h1 class="article_headline">{esc(story.title)}</h1>'
                + (f'<h2 class="article_subline">{esc(story.kicker)}</h2>' if story.kicker else "")
                + f'<div class="article_date">{when:%d.%m.%Y}, {when:%H:%M}</div></div>')
        byline = f'<p class="autor">{esc(story.byline)}</p>' if story.byline else ""
        return (f'<div id="content"><div class="breadcrumb"><a href="/">Home</a> &gt; '
                f'<a href="/welt/">Welt</a></div>\n<div class="article_box">{head}\n{self.figure(chrome, story)}\n'
                f'<div class="article_body" id="articleBody">\n{lead_html(story)}\n'
                f'{paragraphs_html(story, insert_after={0: self.ad()})}\n{byline}\n'
                f'{self.related_teasers(chrome)}{self.comments(chrome)}\n{self.top_teasers(chrome)}\n'
                f'{self.site_stories_box(base, stories, story, "Mehr aus Welt")}</div></div></div>')

    @staticmethod
    def ad() -> str:
        return '<div class="ad_container"><span class="ad_label">Anzeige</span><div id="ad-medrect"></div></div>'


class Kronenpost(Template):
    """Krone-like: ``<article>``, JSON-LD NewsArticle, comment section with netiquette inside the article."""

    css = ".c_article{max-width:760px}.c_netiquette{font-size:12px}"
    body_class = "c_body"
    article_pattern = r"/\d{6,}-[a-z0-9-]+(?=$|[?#])"
    service_paths = (("/impressum", "Impressum"), ("/datenschutz", "Datenschutz"), ("/agb", "AGB"), ("/abo", "Pur-Abo"), ("/login", "Anmelden"))

    def path_for(self, slug: str, number: int, when: datetime) -> str:
        return f"/{number}-{slug}"

    def legacy_path(self, story: Story) -> str:
        return f"/artikel/{article_number(self.outlet, story)}-{story.slug}"

    def cookie_banner(self) -> str:
        return ('<div id="sp_message_container" class="cmp-container"><p>Wir brauchen Ihre Zustimmung. '
                'Diese Webseite verwendet Cookies und Tracking-Technologien.</p><button class="cmp-accept">'
                'Zustimmen</button><a href="/abo">Pur-Abo ohne Werbung</a></div>')

    def header(self) -> str:
        return (f'<header class="c_header"><a class="c_logo" href="/" title="{esc(self.outlet.name)}">'
                f'{esc(self.outlet.name)}</a><nav class="c_nav"><ul>{self.nav_links()}</ul></nav>'
                '<a class="c_login" href="/login">Anmelden</a></header>')

    def article_meta(self, base: str, story: Story) -> str:
        url = base + self.article_path(story)
        data = {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": story.title,
            "description": description(story), "datePublished": iso(story.published),
            "dateModified": iso(story.modified), "author": [author_ld(self.outlet, story)],
            "publisher": {"@type": "Organization", "name": self.outlet.name,
                          "logo": {"@type": "ImageObject", "url": f"{base}/media/logo.gif"}},
            "mainEntityOfPage": {"@type": "WebPage", "@id": url}, "inLanguage": story.language,
        }
        return (f'<meta name="description" content="{esc(description(story))}">\n'
                f'<meta property="og:title" content="{esc(story.title)}">\n{json_ld(data)}')

    def comment_section(self, chrome: PageChrome) -> str:
        heading = "".join(f"<h3>{esc(t)}</h3>" for t in chrome.site_texts("comments-heading"))
        netiquette = "".join(f"<p>{esc(t)}</p>" for t in chrome.site_texts("netiquette"))
        return (f'<section class="c_comments" id="kommentare">{heading}<div class="c_netiquette">{netiquette}</div>'
                f'<div class="c_postings">{self.comments(chrome)}</div>'
                '<button class="c_comments_more">Weitere Kommentare laden</button></section>')

    def article_body(self, base: str, story: Story, chrome: PageChrome, stories: Sequence[Story]) -> str:
        kicker = f'<div class="c_kicker">{esc(story.kicker)}</div>' if story.kicker else ""
        info = (f'<div class="c_info"><time datetime="{iso(story.published)}">{story.published:%d.%m.%Y %H:%M}'
                '</time></div>')
        byline = f'<p class="c_author">{esc(story.byline)}</p>' if story.byline else ""
        return (f'<main id="main"><div class="c_breadcrumbs"><ol><li><a href="/">Startseite</a></li>'
                f'<li><a href="/nachrichten">Nachrichten</a></li></ol></div>\n'
                f'<article class="c_article" data-id="{article_number(self.outlet, story)}"><div class="c_content">'
                f'{kicker}<h1 class="c_title">{esc(story.title)}</h1>{info}\n'
                f'<div class="c_lead">{lead_html(story, css="c_lead_text")}</div>\n'
                f'<div class="c_video"><button class="c_play">Video abspielen</button></div>\n{self.figure(chrome, story)}'
                f'<div class="c_outer"><div class="c_text">\n{paragraphs_html(story)}\n{byline}</div></div>\n'
                f'{self.related_teasers(chrome)}\n{self.comment_section(chrome)}\n</div></article>\n'
                f'{self.site_stories_box(base, stories, story, "Mehr Nachrichten")}</main>')


class Newsflux(Template):
    """Swiss news aggregator: Bootstrap-ish div soup, English UI, "Similar News" teasers with "Read more »"."""

    css = ".news-detail{padding:8px}.similar-news .item{border-bottom:1px solid #ddd}"
    body_class = "news-page"
    article_pattern = r"/news/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-\d+\.html(?=$|[?#])|/archiv/\d{4}/\d{2}/[a-z0-9-]+\.html(?=$|[?#])"
    service_paths = (("/impressum", "Imprint"), ("/datenschutz", "Privacy"))

    def path_for(self, slug: str, number: int, when: datetime) -> str:
        return f"/news/{when:%Y/%m/%d}/{slug}-{number}.html"

    def cookie_banner(self) -> str:
        return ('<div class="cookie-consent alert"><span>This website uses cookies to ensure you get the best '
                'experience.</span> <a href="/datenschutz">Learn more</a> <button>Got it!</button></div>')

    def header(self) -> str:
        return (f'<div class="navbar"><div class="container"><a class="navbar-brand" href="/">{esc(self.outlet.name)}'
                f' Switzerland</a><ul class="nav navbar-nav">{self.nav_links()}</ul></div></div>')

    def footer(self) -> str:
        return (f'<div class="footer"><div class="container"><p>{esc(self.outlet.domain)} is a news aggregator. '
                'All articles belong to their respective sources.</p><a href="/impressum">Imprint</a> · '
                '<a href="/datenschutz">Privacy</a></div></div>')

    def article_meta(self, base: str, story: Story) -> str:
        url = base + self.article_path(story)
        return "\n".join((
            f'<meta name="description" content="{esc(description(story))}">',
            f'<meta property="og:title" content="{esc(story.title)}"><meta property="og:url" content="{esc(url)}">',
            '<meta property="og:type" content="article"><meta property="og:locale" content="de_CH">',
            f'<meta property="article:published_time" content="{iso(story.published)}">',
            f'<meta name="pubdate" content="{iso(story.published)}">',
        ))

    def similar(self, chrome: PageChrome) -> str:
        heading = "".join(
            f'<div class="similar-title"><strong>{esc(t.split(":", 1)[0])}:</strong>{esc(t.split(":", 1)[1])}</div>'
            for t in chrome.site_texts("related-heading"))
        items = []
        for group in chrome.page_groups(("teaser-title", "teaser-text", "read-more")):
            parts = {c.kind: c.text for c in group}
            href = f"https://quelle-{group[0].group}.example/news/{group[0].group}"
            items.append(f'<div class="item"><a href="{href}" rel="nofollow"><h5>{esc(parts.get("teaser-title", ""))}'
                         f'</h5></a><p>{esc(parts.get("teaser-text", ""))}</p>'
                         f'<a class="read-more" href="{href}" rel="nofollow">{esc(parts.get("read-more", ""))}</a></div>')
        return f'<div class="similar-news">{heading}{"".join(items)}</div>'

    def article_body(self, base: str, story: Story, chrome: PageChrome, stories: Sequence[Story]) -> str:
        source = "".join(f'<b class="src">{esc(t)}</b>' for t in chrome.site_texts("source-label"))
        label = "".join(f'<div class="news-site-label">{esc(t)}</div>' for t in chrome.site_texts("site-label"))
        trending = self.site_stories_box(base, stories, story, "Trending")
        return (f'<div class="container"><div class="row"><div class="col-md-8"><div class="news-detail">'
                f'<h1 class="news-title">{esc(story.title)}</h1><div class="news-meta"><span class="date">'
                f'{story.published:%d.%m.%Y %H:%M}</span> · <a href="/international/">International</a></div>\n'
                f'{self.figure(chrome, story)}<div class="news-summary">{lead_html(story, css="summary")}</div>\n'
                f'<div class="news-content">{paragraphs_html(story, first_prefix=source)}'
                f'{self.byline(story)}{self.comments(chrome)}</div>\n'
                f'{label}\n{self.similar(chrome)}</div></div>\n<div class="col-md-4 sidebar">{trending}</div></div></div>')

    @staticmethod
    def byline(story: Story) -> str:
        return f'<p class="author">{esc(story.byline)}</p>' if story.byline else ""


class Siamkurier(Template):
    """German-language paper in Thailand (Der-Farang-like): ``<article>`` with microdata and JSON-LD,
    photo caption repeated as text, subscription promo and reader comments inside the article."""

    css = ".abo-box{background:#ffe}.comment-list{list-style:none}"
    body_class = "single single-post"
    article_pattern = r"/nachrichten/ausland/\d+-[a-z0-9-]+(?=$|[?#])|/archiv/\d{4}/\d{2}/[a-z0-9-]+\.html(?=$|[?#])"
    service_paths = (("/impressum", "Impressum"), ("/datenschutz", "Datenschutz"), ("/abo", "E-Paper und Abo"))

    def path_for(self, slug: str, number: int, when: datetime) -> str:
        return f"/nachrichten/ausland/{number}-{slug}"

    def cookie_banner(self) -> str:
        return ('<div id="cookie-notice" class="cookie-notice"><span>Diese Website benutzt Cookies. Wenn Sie die '
                'Website weiter nutzen, gehen wir von Ihrem Einverständnis aus.</span><a class="button">OK</a></div>')

    def header(self) -> str:
        return (f'<div id="page" class="site"><header id="masthead" class="site-header"><div class="site-branding">'
                f'<p class="site-title"><a href="/" rel="home">{esc(self.outlet.name)}</a></p><p class="site-description">'
                f'{esc(self.outlet.tagline)}</p></div><nav id="site-navigation" class="main-navigation"><ul>'
                f'{self.nav_links()}<li><a href="/abo">E-Paper</a></li></ul></nav></header>')

    def footer(self) -> str:
        return (f'<footer id="colophon" class="site-footer"><p>© {esc(self.outlet.name)}, Pattaya</p>'
                '<a href="/impressum">Impressum</a> <a href="/datenschutz">Datenschutz</a></footer></div>')

    def article_meta(self, base: str, story: Story) -> str:
        data = {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": story.title,
            "datePublished": iso(story.published), "dateModified": iso(story.modified),
            "author": author_ld(self.outlet, story), "inLanguage": story.language,
            "publisher": {"@type": "Organization", "name": self.outlet.name},
        }
        return f'<meta name="description" content="{esc(description(story))}">\n{json_ld(data)}'

    def figure(self, chrome: PageChrome, story: Story) -> str:
        captions = chrome.page_texts("caption") + chrome.page_texts("credit")
        if not captions:
            return ""
        lightbox = "".join(f'<div class="photo-credit-text">{esc(c)}</div>' for c in captions[1:])
        return (f'<figure class="wp-caption"><a href="/media/{story.slug}.gif"><img src="/media/{story.slug}.gif" '
                f'alt="{esc(captions[0])}"></a><figcaption class="wp-caption-text">{esc(captions[0])}</figcaption>'
                f'</figure>{lightbox}')

    def promo(self, chrome: PageChrome) -> str:
        lines = chrome.site_texts("subscription")
        if not lines:
            return ""
        rest = "".join(f"<p>{esc(t)}</p>" for t in lines[1:])
        return f'<div class="abo-box"><h3>{esc(lines[0])}</h3>{rest}<a class="button" href="/abo">Jetzt abonnieren</a></div>'

    def comment_area(self, chrome: PageChrome) -> str:
        required = "".join(f'<p class="required-note">{esc(t)}</p>' for t in chrome.site_texts("form-label"))
        posts = []
        for group in chrome.page_groups(("comment-meta", "comment-title", "comment")):
            meta = "".join(f'<div class="comment-meta">{esc(c.text)}</div>' for c in group if c.kind == "comment-meta")
            title = "".join(f"<h4>{esc(c.text)}</h4>" for c in group if c.kind == "comment-title")
            text = "".join(f"<p>{esc(c.text)}</p>" for c in group if c.kind == "comment")
            posts.append(f'<li class="comment">{meta}{title}<div class="comment-content">{text}</div></li>')
        return (f'<div id="comments" class="comments-area"><form class="comment-form"><label>Name *</label>'
                f'<input name="author"><label>Kommentar *</label><textarea name="comment"></textarea>{required}'
                f'<button>Kommentar abschicken</button></form><ol class="comment-list">{"".join(posts)}</ol></div>')

    def article_body(self, base: str, story: Story, chrome: PageChrome, stories: Sequence[Story]) -> str:
        number = article_number(self.outlet, story)
        return (f'<div class="breadcrumbs"><a href="/">Startseite</a> › <a href="/nachrichten/ausland">Ausland</a></div>'
                f'<article id="post-{number}" class="news-article" itemscope itemtype="https://schema.org/NewsArticle">'
                f'<h1 class="entry-title" itemprop="headline">{esc(story.title)}</h1>'
                f'<div class="entry-meta"><time itemprop="datePublished" datetime="{iso(story.published)}">'
                f'{story.published:%d.%m.%y %H:%M}</time></div>\n{self.figure(chrome, story)}\n'
                f'<div class="entry-content" itemprop="articleBody">{lead_html(story, css="intro")}\n'
                f'{paragraphs_html(story)}\n{self.byline(story)}{self.related_teasers(chrome)}{self.promo(chrome)}</div>\n'
                f'{self.comment_area(chrome)}</article>\n'
                f'{self.site_stories_box(base, stories, story, "Weitere Nachrichten aus dem Ausland")}')

    @staticmethod
    def byline(story: Story) -> str:
        return f'<p class="byline">{esc(story.byline)}</p>' if story.byline else ""


class Nx24(Template):
    """n-tv-like: JSON-LD + Open Graph, audio player notice, "Mehr zum Thema" box between paragraphs,
    newsletter box inside the article."""

    css = ".article__text p{line-height:1.5}.teaser-box{border:1px solid #ccc}"
    body_class = "site--article"
    article_pattern = r"-article\d+\.html(?=$|[?#])|/archiv/\d{4}/\d{2}/[a-z0-9-]+\.html(?=$|[?#])"
    service_paths = (("/impressum", "Impressum"), ("/datenschutz", "Datenschutz"), ("/agb", "AGB"), ("/live", "Live-TV"))

    def path_for(self, slug: str, number: int, when: datetime) -> str:
        return f"/politik/{slug}-article{number}.html"

    def cookie_banner(self) -> str:
        return ('<div class="cmp-banner" id="cmp"><h2>Wir respektieren Ihre Privatsphäre</h2><p>Mit Ihrer '
                'Zustimmung verarbeiten wir Daten für Werbung und Analyse.</p><button>Akzeptieren und weiter</button>'
                '</div>')

    def header(self) -> str:
        return (f'<header class="header"><a class="header__logo" href="/">{esc(self.outlet.name)}</a>'
                f'<nav class="header__nav"><ul>{self.nav_links()}</ul></nav><a class="header__live" href="/live">'
                'Live-TV</a></header>')

    def article_meta(self, base: str, story: Story) -> str:
        url = base + self.article_path(story)
        data = {
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": story.title,
            "alternativeHeadline": story.kicker, "datePublished": iso(story.published),
            "dateModified": iso(story.modified), "author": author_ld(self.outlet, story),
            "publisher": {"@type": "Organization", "name": self.outlet.name}, "url": url,
            "articleSection": "Politik",
        }
        return "\n".join((
            f'<meta name="description" content="{esc(description(story))}">',
            f'<meta property="og:title" content="{esc(story.kicker + " " + story.title).strip()}">',
            f'<meta property="og:type" content="article"><meta property="og:url" content="{esc(url)}">',
            json_ld(data),
        ))

    def audio(self, chrome: PageChrome) -> str:
        lines = chrome.site_texts("audio")
        if not lines:
            return ""
        time = f'<span class="audio-player__time">{esc(lines[0])}</span>'
        notice = "".join(f'<p class="audio-player__notice">{esc(t)}</p>' for t in lines[1:])
        return f'<div class="article__audio audio-player"><button>▶</button>{time}{notice}</div>'

    def more_box(self, chrome: PageChrome, stories: Sequence[Story], story: Story) -> str:
        heading = "".join(f"<h3>{esc(t)}</h3>" for t in chrome.site_texts("related-heading"))
        items = "".join(f'<li><a href="{self.article_path(s)}">{esc(s.title)}</a></li>' for s in stories
                        if s is not story) or '<li><a href="/politik/">Alle Nachrichten aus der Politik</a></li>'
        return f'<div class="article__aside"><section class="teaser-box">{heading}<ul>{items}</ul></section></div>'

    def newsletter(self, chrome: PageChrome) -> str:
        lines = chrome.site_texts("newsletter")
        if not lines:
            return ""
        return (f'<div class="article__newsletter"><h3>{esc(lines[0])}</h3><form><input type="email" '
                f'placeholder="E-Mail-Adresse"><label><input type="checkbox"> {esc(lines[1])}</label>'
                f'<button>Abonnieren</button></form><a class="newsletter__close" href="#">{esc(lines[2])}</a></div>')

    def article_body(self, base: str, story: Story, chrome: PageChrome, stories: Sequence[Story]) -> str:
        channel = "".join(f'<span class="article__channel">{esc(t)}</span>' for t in chrome.site_texts("section-label"))
        kicker = f'<span class="article__kicker">{esc(story.kicker)}</span> ' if story.kicker else ""
        box = self.more_box(chrome, stories, story)
        middle = min(3, max(len(story.paragraphs) - 2, 0))
        source = f'<p class="article__source">{esc(story.byline)}</p>' if story.byline else ""
        return (f'<main><div class="breadcrumb"><a href="/">Startseite</a> <a href="/politik/">Politik</a></div>'
                f'<article class="article"><div class="article__header">{channel}<h2>{kicker}'
                f'<span class="article__headline">{esc(story.title)}</span></h2><span class="article__date">'
                f'{long_date(story.published)} {story.published:%H:%M} Uhr</span></div>\n{self.audio(chrome)}\n'
                f'{self.figure(chrome, story)}\n<div class="article__text">{lead_html(story, css="article__lead")}\n'
                f'{paragraphs_html(story, insert_after={middle: box})}\n{source}</div>\n'
                f'{self.related_teasers(chrome, "Weitere Artikel")}{self.comments(chrome)}{self.newsletter(chrome)}'
                f'</article></main>')


TEMPLATES: dict[str, Template] = {
    "wien24": Wien24(OUTLETS["wien24"]), "kronenpost": Kronenpost(OUTLETS["kronenpost"]),
    "newsflux": Newsflux(OUTLETS["newsflux"]), "siamkurier": Siamkurier(OUTLETS["siamkurier"]),
    "nx24": Nx24(OUTLETS["nx24"]),
}


def template(outlet_key: str) -> Template:
    get_outlet(outlet_key)
    return TEMPLATES[outlet_key]


def _base(outlet_key: str, base_url: str | None) -> str:
    return (base_url or get_outlet(outlet_key).default_base).rstrip("/")


# -- public rendering API -----------------------------------------------------------------------------------

def article_path(outlet_key: str, story: Story) -> str:
    return template(outlet_key).article_path(story)


def legacy_path(outlet_key: str, story: Story) -> str:
    """The article's old URL path, which the demo server answers with a 301 to :func:`article_path`."""
    return template(outlet_key).legacy_path(story)


def path_for(outlet_key: str, slug: str, number: int, when: datetime) -> str:
    """An article-shaped path on the outlet (for pages that are not stories: hostile pages, dead links)."""
    return template(outlet_key).path_for(slug, number, when)


def render_article(outlet_key: str, story: Story, *, base_url: str | None = None,
                   site_stories: Sequence[Story] = ()) -> str:
    """The article page of ``story`` in the outlet's template; ``site_stories`` fill its teaser boxes."""
    return template(outlet_key).render_article(_base(outlet_key, base_url), story, site_stories or (story,))


def render_scripted(outlet_key: str, story: Story, path: str, *, base_url: str | None = None) -> str:
    """A page at ``path`` whose article text (``story``'s) a script inserts: only a browser sees it."""
    return template(outlet_key).render_scripted(_base(outlet_key, base_url), story, path)


def render_home(outlet_key: str, stories: Sequence[Story], *, base_url: str | None = None,
                extra_links: Sequence[tuple[str, str]] = ()) -> str:
    """The home page: teasers of ``stories``, tracking-parameter and fragment links, ``extra_links`` (href, text)."""
    return template(outlet_key).render_home(_base(outlet_key, base_url), stories, extra_links)


def render_section(outlet_key: str, section_slug: str, stories: Sequence[Story], *,
                   base_url: str | None = None) -> str:
    outlet = get_outlet(outlet_key)
    section = next((s for s in outlet.sections if s.slug == section_slug), None)
    if section is None:
        raise KeyError(f"{outlet_key} has no section {section_slug!r}")
    return template(outlet_key).render_section(_base(outlet_key, base_url), section, stories)


def render_not_found(outlet_key: str, *, base_url: str | None = None) -> str:
    return template(outlet_key).render_not_found(_base(outlet_key, base_url))


def render_service_pages(outlet_key: str, *, base_url: str | None = None) -> dict[str, str]:
    """Imprint, privacy and the like: path -> HTML, for every such link of the outlet's template."""
    tpl, base = template(outlet_key), _base(outlet_key, base_url)
    return {path: tpl.render_info(base, path, title) for path, title in tpl.service_paths}


def article_pattern(outlet_key: str) -> str:
    """A regex matching the outlet's article URLs (and legacy ones), for sites.toml ``article_pattern``."""
    return template(outlet_key).article_pattern


# -- feeds, sitemaps, robots.txt --------------------------------------------------------------------------------

def xml_esc(text: str) -> str:
    return html.escape(text, quote=False)


def _newest(stories: Sequence[Story]) -> datetime:
    return max((s.modified for s in stories), default=datetime(2024, 1, 1, tzinfo=UTC))


def _feed_link(outlet: Outlet, url: str) -> str:
    """NX24 tags its feed links with tracking parameters, as many real feeds do."""
    return f"{url}?utm_source=rss&utm_medium=feed&utm_campaign={outlet.key}" if outlet.key == "nx24" else url


def render_feed(outlet_key: str, stories: Sequence[Story], *, base_url: str | None = None) -> str:
    """The outlet's feed: RSS 2.0 or Atom 1.0 (see ``Outlet.feed_format``)."""
    outlet, base = get_outlet(outlet_key), _base(outlet_key, base_url)
    ordered = sorted(stories, key=lambda s: s.published, reverse=True)
    if outlet.feed_format == "rss":
        return _rss(outlet, base, ordered)
    return _atom(outlet, base, ordered)


def _rss(outlet: Outlet, base: str, stories: Sequence[Story]) -> str:
    items = []
    for story in stories:
        url = base + article_path(outlet.key, story)
        creator = f"<dc:creator>{xml_esc(story.author)}</dc:creator>" if story.author else ""
        items.append(
            f"<item><title>{xml_esc(story.title)}</title><link>{xml_esc(_feed_link(outlet, url))}</link>"
            f'<guid isPermaLink="false">{outlet.key}-{article_number(outlet, story)}</guid>'
            f"<pubDate>{http_date(story.published)}</pubDate><category>{outlet.news_section.label}</category>"
            f"{creator}<description>{xml_esc(description(story))}</description></item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>{xml_esc(outlet.name)} – {outlet.news_section.label}</title><link>{base}/</link>"
        f"<description>{xml_esc(outlet.tagline)}</description><language>de</language>"
        f"<lastBuildDate>{http_date(_newest(stories))}</lastBuildDate>\n"
        f'<atom:link href="{base}{outlet.feed_path}" rel="self" type="application/rss+xml"/>\n'
        + "\n".join(items) + "\n</channel>\n</rss>\n")


def _atom(outlet: Outlet, base: str, stories: Sequence[Story]) -> str:
    entries = []
    for story in stories:
        url = base + article_path(outlet.key, story)
        entries.append(
            f"<entry><title>{xml_esc(story.title)}</title>"
            f'<id>tag:{outlet.domain},{story.published:%Y-%m-%d}:{article_number(outlet, story)}</id>'
            f'<link rel="alternate" type="text/html" href="{xml_esc(url)}"/>'
            f"<published>{iso(story.published)}</published><updated>{iso(story.modified)}</updated>"
            f"<author><name>{xml_esc(story.author or outlet.name)}</name></author>"
            f"<summary>{xml_esc(description(story))}</summary></entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">\n'
        f"<title>{xml_esc(outlet.name)}</title><subtitle>{xml_esc(outlet.tagline)}</subtitle>"
        f"<id>{base}/</id><updated>{iso(_newest(stories))}</updated>\n"
        f'<link rel="self" type="application/atom+xml" href="{base}{outlet.feed_path}"/>'
        f'<link rel="alternate" type="text/html" href="{base}/"/>\n'
        + "\n".join(entries) + "\n</feed>\n")


def render_sitemap_index(outlet_key: str, stories: Sequence[Story], *, base_url: str | None = None) -> str:
    outlet, base = get_outlet(outlet_key), _base(outlet_key, base_url)
    lastmod = iso(_newest(stories))
    maps = "".join(f"<sitemap><loc>{base}{path}</loc><lastmod>{lastmod}</lastmod></sitemap>"
                   for path in (outlet.sitemap_path, outlet.news_sitemap_path))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">{maps}</sitemapindex>\n'


def render_sitemap(outlet_key: str, stories: Sequence[Story], *, base_url: str | None = None) -> str:
    """Home, sections and articles with ``lastmod``."""
    outlet, base = get_outlet(outlet_key), _base(outlet_key, base_url)
    newest = iso(_newest(stories))
    urls = [f"<url><loc>{base}/</loc><lastmod>{newest}</lastmod><changefreq>hourly</changefreq></url>"]
    urls += [f"<url><loc>{base}{s.path}</loc><changefreq>hourly</changefreq></url>" for s in outlet.sections]
    urls += [f"<url><loc>{xml_esc(base + article_path(outlet_key, s))}</loc><lastmod>{iso(s.modified)}</lastmod></url>"
             for s in stories]
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n' + "\n".join(urls) + "\n</urlset>\n"


def render_news_sitemap(outlet_key: str, stories: Sequence[Story], *, base_url: str | None = None) -> str:
    """A Google News sitemap (news:publication_date, news:title)."""
    outlet, base = get_outlet(outlet_key), _base(outlet_key, base_url)
    urls = [
        f"<url><loc>{xml_esc(base + article_path(outlet_key, s))}</loc><news:news><news:publication>"
        f"<news:name>{xml_esc(outlet.name)}</news:name><news:language>{s.language}</news:language>"
        f"</news:publication><news:publication_date>{iso(s.published)}</news:publication_date>"
        f"<news:title>{xml_esc(s.title)}</news:title></news:news></url>"
        for s in stories]
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">\n'
            + "\n".join(urls) + "\n</urlset>\n")


def render_robots(outlet_key: str, *, base_url: str | None = None, disallow: Sequence[str] = ("/intern/",)) -> str:
    outlet, base = get_outlet(outlet_key), _base(outlet_key, base_url)
    rules = "".join(f"Disallow: {path}\n" for path in disallow)
    return (f"# robots.txt for {outlet.domain}\nUser-agent: *\n{rules}Allow: /\n\n"
            f"User-agent: GPTBot\nDisallow: /\n\n"
            f"Sitemap: {base}{outlet.sitemap_index_path}\nSitemap: {base}{outlet.news_sitemap_path}\n")
