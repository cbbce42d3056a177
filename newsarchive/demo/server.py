"""Local demo news sites: one HTTP server per outlet on 127.0.0.1 (port 0), each its own netloc.

Each site serves robots.txt (``Disallow: /intern/`` and ``Sitemap:`` lines), a home page (links to sections
and articles, also with tracking parameters and fragments), section pages, article pages, an RSS or Atom
feed (autodiscoverable), a sitemap index with a regular and a Google News sitemap, a 301 from each
article's legacy URL, one linked dead link (404), a linked PDF, and a page under /intern/ that robots.txt
forbids. Responses carry ETag and Last-Modified and answer conditional requests with 304; bodies are
gzip-encoded when the client accepts gzip. ``hostile=True`` adds a redirect loop, a page that stalls,
a page with a wrong declared charset, a huge body, malformed HTML and binary bytes served as text/html.

>>> with serve_demo() as demo:            # doctest: +SKIP
...     demo.sites["wien24"]              # 'http://127.0.0.1:40123'

``python -m newsarchive.demo.server [--hostile] [--stories all]`` serves them in the foreground.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import logging
import random
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

from newsarchive.demo import assets, render
from newsarchive.demo.content import STORIES, Story

logger = logging.getLogger(__name__)

StoriesPerOutlet = Literal["own", "all"]
HTML = "text/html; charset=utf-8"
SITE_DATE = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
GIF = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")
HOSTILE_NAMES = ("loop", "stall", "charset", "huge", "malformed", "binary")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # as requested: path, query string and all
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived


@dataclass(frozen=True)
class Resource:
    body: bytes
    content_type: str
    last_modified: datetime
    status: int = 200
    compressible: bool = True
    etag: str = ""
    gzipped: bytes = b""

    @classmethod
    def make(cls, body: bytes | str, content_type: str, last_modified: datetime, *, status: int = 200,
             compressible: bool = True) -> Resource:
        data = body.encode("utf-8") if isinstance(body, str) else body
        etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
        packed = gzip.compress(data, mtime=0) if compressible else b""
        return cls(data, content_type, last_modified.replace(microsecond=0), status, compressible, etag, packed)


@dataclass(frozen=True)
class SiteUrls:
    """Every interesting URL of one demo site (absolute)."""

    base: str
    home: str
    robots: str
    feed: str
    feed_format: str
    sitemap_index: str
    sitemap: str
    news_sitemap: str
    sections: dict[str, str]
    articles: dict[str, str]  # story slug -> current article URL
    legacy: dict[str, str]  # story slug -> old URL answering 301 to the current one
    not_found: str  # linked from the home page, answers 404
    pdf: str
    intern: str  # linked, but robots.txt disallows it
    hostile: dict[str, str] = field(default_factory=dict)  # name -> URL (hostile=True only)
    scripted: str = ""  # a page whose article text a script inserts (scripted=True only)


@dataclass(frozen=True)
class SiteOptions:
    hostile: bool = False
    stall_seconds: float = 30.0
    huge_bytes: int = 20 * 1024 * 1024
    scripted: bool = False  # link a live-blog page whose article text only a browser sees


# -- one site ---------------------------------------------------------------------------------------------

class DemoSite:
    """One outlet's web site: its pages, its server thread, its request log."""

    def __init__(self, outlet_key: str, stories: Sequence[Story], options: SiteOptions, stop: threading.Event):
        self.outlet = render.get_outlet(outlet_key)
        self.options = options
        self.stop = stop
        self.stories: dict[str, Story] = {s.slug: s for s in stories}
        self.requests: list[LoggedRequest] = []
        self.lock = threading.Lock()
        handler = type(f"{outlet_key.capitalize()}Handler", (DemoHandler,), {"site": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.handle_error = self._handle_error  # type: ignore[method-assign]
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.resources: dict[str, Resource] = {}
        self.redirects: dict[str, tuple[int, str]] = {}
        self.dynamic: dict[str, Callable[[DemoHandler, bool], None]] = {}
        self.gif = Resource.make(GIF, "image/gif", SITE_DATE, compressible=False)
        self.not_found = Resource.make(render.render_not_found(outlet_key, base_url=self.base), HTML, SITE_DATE,
                                       status=404)
        self.rebuild()
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"demo-{outlet_key}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @staticmethod
    def _handle_error(request: Any, client_address: Any) -> None:
        logger.debug("demo site: error handling a request from %s", client_address, exc_info=True)

    # -- paths ------------------------------------------------------------------------------------------
    def number(self, offset: int) -> int:
        return self.outlet.id_base + offset

    def special_path(self, slug: str, offset: int) -> str:
        return render.path_for(self.outlet.key, slug, self.number(offset), SITE_DATE)

    @property
    def dead_path(self) -> str:
        return self.special_path("geloeschter-artikel-zur-nordkorea-reise", 990)

    @property
    def intern_path(self) -> str:
        return "/intern" + self.special_path("vorschau-redaktion-nicht-veroeffentlichen", 991)

    @property
    def pdf_path(self) -> str:
        return "/downloads/e-paper-ausgabe-2024-01-15.pdf"

    @property
    def scripted_path(self) -> str:
        return self.special_path("liveblog-zum-gipfel-in-pjoengjang", 989) if self.options.scripted else ""

    def hostile_paths(self) -> dict[str, str]:
        if not self.options.hostile:
            return {}
        names = ("endlose-weiterleitung-eins", "langsame-seite-bitte-warten", "falscher-zeichensatz-meldung",
                 "riesige-seite-mit-viel-text", "kaputtes-html-in-der-meldung", "binaere-daten-als-html")
        paths = {name: self.special_path(slug, 992 + i) for i, (name, slug) in enumerate(zip(HOSTILE_NAMES, names, strict=True))}
        paths["loop-b"] = self.special_path("endlose-weiterleitung-zwei", 999)
        return paths

    def urls(self) -> SiteUrls:
        b, o = self.base, self.outlet
        return SiteUrls(
            base=b, home=b + "/", robots=b + "/robots.txt", feed=b + o.feed_path, feed_format=o.feed_format,
            sitemap_index=b + o.sitemap_index_path, sitemap=b + o.sitemap_path, news_sitemap=b + o.news_sitemap_path,
            sections={s.slug: b + s.path for s in o.sections},
            articles={slug: b + render.article_path(o.key, s) for slug, s in self.stories.items()},
            legacy={slug: b + render.legacy_path(o.key, s) for slug, s in self.stories.items()},
            not_found=b + self.dead_path, pdf=b + self.pdf_path, intern=b + self.intern_path,
            hostile={k: b + v for k, v in self.hostile_paths().items() if k != "loop-b"},
            scripted=b + self.scripted_path if self.scripted_path else "",
        )

    # -- content ----------------------------------------------------------------------------------------
    def home_links(self) -> list[tuple[str, str]]:
        first = next(iter(self.stories.values()))
        links = [(render.legacy_path(self.outlet.key, first), f"Aus dem Archiv: {first.title}"),
                 (self.dead_path, "Nordkorea-Reise: Alle Hintergründe"),
                 (self.pdf_path, "Die heutige Ausgabe als PDF"),
                 (self.intern_path, "Redaktionsvorschau")]
        titles = {"loop": "Weiterleitung", "stall": "Live-Ticker (lädt)", "charset": "Meldung aus dem Archiv",
                  "huge": "Das komplette Protokoll", "malformed": "Eilmeldung", "binary": "Bildergalerie"}
        links += [(path, titles[name]) for name, path in self.hostile_paths().items() if name in titles]
        if self.scripted_path:
            links.append((self.scripted_path, f"Live: {first.title}"))
        return links

    def rebuild(self) -> None:
        """Render every page from the current stories (after a mutation too)."""
        key, base, stories = self.outlet.key, self.base, tuple(self.stories.values())
        newest = max(s.modified for s in stories)
        res: dict[str, Resource] = {
            "/": Resource.make(render.render_home(key, stories, base_url=base, extra_links=self.home_links()),
                               HTML, newest),
            "/robots.txt": Resource.make(render.render_robots(key, base_url=base), "text/plain; charset=utf-8",
                                         SITE_DATE),
            self.outlet.feed_path: Resource.make(render.render_feed(key, stories, base_url=base),
                                                 f"{self.outlet.feed_type}; charset=utf-8", newest),
            self.pdf_path: Resource.make(make_pdf(f"{self.outlet.name} E-Paper"), "application/pdf", SITE_DATE,
                                         compressible=False),
            self.intern_path: Resource.make(render.render_service_pages(key, base_url=base)["/impressum"], HTML,
                                            SITE_DATE),
        }
        res.update(self._xml_resources(stories, newest))
        res.update(requisite_resources(key, stories))
        for path, page in render.render_service_pages(key, base_url=base).items():
            res[path] = Resource.make(page, HTML, SITE_DATE)
        for section in self.outlet.sections:
            res[section.path] = Resource.make(render.render_section(key, section.slug, stories, base_url=base),
                                              HTML, newest)
        for story in stories:
            page = render.render_article(key, story, base_url=base, site_stories=stories)
            res[render.article_path(key, story)] = Resource.make(page, HTML, story.modified)
        redirects = {render.legacy_path(key, s): (301, base + render.article_path(key, s)) for s in stories}
        if self.options.hostile:
            res.update(hostile_resources(self, stories[0]))
        if self.scripted_path:
            res[self.scripted_path] = Resource.make(
                render.render_scripted(key, stories[0], self.scripted_path, base_url=base), HTML, newest)
        with self.lock:
            self.resources, self.redirects = res, redirects
        self.dynamic = self._dynamic_handlers()

    def _xml_resources(self, stories: Sequence[Story], newest: datetime) -> dict[str, Resource]:
        key, base, xml = self.outlet.key, self.base, "application/xml; charset=utf-8"
        return {
            self.outlet.sitemap_index_path: Resource.make(render.render_sitemap_index(key, stories, base_url=base),
                                                          xml, newest),
            self.outlet.sitemap_path: Resource.make(render.render_sitemap(key, stories, base_url=base), xml, newest),
            self.outlet.news_sitemap_path: Resource.make(render.render_news_sitemap(key, stories, base_url=base),
                                                         xml, newest),
        }

    def _dynamic_handlers(self) -> dict[str, Callable[[DemoHandler, bool], None]]:
        paths = self.hostile_paths()
        if not paths:
            return {}
        return {
            paths["loop"]: lambda h, head: h.send_redirect(302, self.base + paths["loop-b"]),
            paths["loop-b"]: lambda h, head: h.send_redirect(302, self.base + paths["loop"]),
            paths["stall"]: self.serve_stall,
            paths["huge"]: self.serve_huge,
        }

    def update_story(self, slug: str, paragraphs: Sequence[str | Sequence[str]]) -> Story:
        with self.lock:
            old = self.stories.get(slug)
        if old is None:
            raise KeyError(f"{self.outlet.key} publishes no story {slug!r}; it has: {', '.join(self.stories)}")
        now = datetime.now(UTC).replace(microsecond=0)
        new = old.with_paragraphs(paragraphs, max(now, old.modified + timedelta(seconds=1)))
        with self.lock:
            self.stories[slug] = new
        self.rebuild()
        return new

    # -- serving ----------------------------------------------------------------------------------------
    def log(self, handler: BaseHTTPRequestHandler) -> None:
        entry = LoggedRequest(handler.command, handler.path, dict(handler.headers.items()), time.monotonic())
        with self.lock:
            self.requests.append(entry)

    def respond(self, handler: DemoHandler, head: bool) -> None:
        self.log(handler)
        path = urlsplit(handler.path).path
        dynamic = self.dynamic.get(path)
        if dynamic is not None:
            dynamic(handler, head)
            return
        with self.lock:
            redirect = self.redirects.get(path)
            resource = self.resources.get(path) or self.media(path) or self.not_found
        if redirect is not None:
            handler.send_redirect(*redirect)
        else:
            handler.send_resource(resource, head)

    def media(self, path: str) -> Resource | None:
        return self.gif if path.startswith("/media/") and path.endswith(".gif") else None

    def serve_stall(self, handler: DemoHandler, head: bool) -> None:
        """Say nothing for ``stall_seconds`` (or until the server closes), then answer a short page."""
        if self.stop.wait(self.options.stall_seconds):
            handler.close_connection = True
            return
        page = render.render_not_found(self.outlet.key, base_url=self.base).replace("Seite nicht gefunden",
                                                                                  "Endlich geladen")
        handler.send_resource(Resource.make(page, HTML, SITE_DATE), head)

    def serve_huge(self, handler: DemoHandler, head: bool) -> None:
        """A ``huge_bytes`` HTML page generated chunk by chunk, never held in memory."""
        size = self.options.huge_bytes
        handler.send_response(200)
        handler.send_header("Content-Type", HTML)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        if not head:
            handler.close_connection = not stream_huge(handler.wfile, size, self.stop)


def stream_huge(out: Any, size: int, stop: threading.Event) -> bool:
    """Write ``size`` bytes of an endless HTML article; False when stopped or the client went away."""
    opening = b"<!DOCTYPE html><html lang=\"de\"><head><meta charset=\"utf-8\"><title>Protokoll</title></head><body>"
    para = ("<p>" + " ".join(STORIES[0].paragraphs[0]) + "</p>\n").encode("utf-8")
    chunk = para * max(1, 65536 // len(para))
    sent = 0
    try:
        for piece in (opening, *_repeat(chunk, size - len(opening))):
            if stop.is_set():
                return False
            piece = piece[: size - sent]
            out.write(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return sent == size


def _repeat(chunk: bytes, total: int) -> Any:
    while total > 0:
        yield chunk[:total]
        total -= len(chunk)


class DemoHandler(BaseHTTPRequestHandler):
    site: DemoSite
    protocol_version = "HTTP/1.1"
    server_version = "DemoNews/1.0"
    sys_version = ""
    timeout = 30

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        try:
            self.site.respond(self, head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        logger.debug("%s %s", self.address_string(), format % args)

    def accepts_gzip(self) -> bool:
        for token in (self.headers.get("Accept-Encoding") or "").split(","):
            name, _, params = token.strip().partition(";")
            if name.strip().lower() in ("gzip", "x-gzip"):
                q = params.strip().lower()
                try:
                    return not (q.startswith("q=") and float(q[2:] or 0) == 0)
                except ValueError:
                    return True
        return False

    def not_modified(self, resource: Resource) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            wanted = {t.strip().removeprefix("W/") for t in tags.split(",")}
            return "*" in wanted or resource.etag in wanted
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return resource.last_modified <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def send_redirect(self, status: int, location: str) -> None:
        body = f'<html><body>Moved to <a href="{location}">{location}</a></body></html>'.encode()
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Type", HTML)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_resource(self, resource: Resource, head: bool) -> None:
        validators = resource.status == 200 and resource.etag
        if validators and self.not_modified(resource):
            self.send_response(304)
            self._validators(resource, weak=False)
            self.end_headers()
            return
        use_gzip = resource.compressible and self.accepts_gzip()
        body = resource.gzipped if use_gzip else resource.body
        self.send_response(resource.status)
        self.send_header("Content-Type", resource.content_type)
        self.send_header("Content-Length", str(len(body)))
        if resource.compressible:
            self.send_header("Vary", "Accept-Encoding")
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        if validators:
            self._validators(resource, weak=use_gzip)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _validators(self, resource: Resource, *, weak: bool) -> None:
        self.send_header("ETag", ("W/" if weak else "") + resource.etag)
        self.send_header("Last-Modified", render.http_date(resource.last_modified))
        self.send_header("Cache-Control", "public, max-age=60")


# -- page requisites -------------------------------------------------------------------------------------------

def requisite_resources(outlet_key: str, stories: Sequence[Story]) -> dict[str, Resource]:
    """Stylesheets, font, script, favicon and the images of the outlet's pages (see demo/assets.py)."""
    css, js = "text/css; charset=utf-8", "application/javascript; charset=utf-8"
    brand, accent = assets.colors_of(outlet_key)
    res = {
        f"/static/{outlet_key}.css": Resource.make(assets.stylesheet(outlet_key), css, SITE_DATE),
        "/static/fonts.css": Resource.make(assets.FONTS_CSS, css, SITE_DATE),
        "/static/fonts/demo-icons.ttf": Resource.make(assets.truetype(), "font/ttf", SITE_DATE),
        "/static/site.js": Resource.make(assets.SITE_JS, js, SITE_DATE),
        "/static/paper.png": Resource.make(assets.png(48, 48, ((246, 243, 236), (238, 234, 224)), stripe=6),
                                           "image/png", SITE_DATE, compressible=False),
        "/favicon.ico": Resource.make(assets.ico(brand), "image/x-icon", SITE_DATE, compressible=False),
        f"/media/logo-{outlet_key}.png": Resource.make(assets.png(96, 20, (brand, accent), stripe=8), "image/png",
                                                       SITE_DATE, compressible=False),
    }
    for story in stories:
        colors = assets.colors_of(story.slug)
        for width in (640, 960):
            res[f"/media/{story.slug}-{width}.png"] = Resource.make(
                assets.png(width, width * 9 // 16, colors), "image/png", SITE_DATE, compressible=False)
    return res


# -- hostile pages -------------------------------------------------------------------------------------------

def hostile_resources(site: DemoSite, story: Story) -> dict[str, Resource]:
    paths = site.hostile_paths()
    text = story.lead_text() + " " + " ".join(story.paragraph_texts())
    latin = (f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{story.title}</title></head>'
             f"<body><article><h1>{story.title}</h1><p>{text}</p></article></body></html>").encode("latin-1", "replace")
    return {
        paths["charset"]: Resource.make(latin, HTML, SITE_DATE),
        paths["malformed"]: Resource.make(malformed_html(story), HTML, SITE_DATE),
        paths["binary"]: Resource.make(random.Random(4711).randbytes(64 * 1024), HTML, SITE_DATE),
    }


def malformed_html(story: Story) -> str:
    paras = story.paragraph_texts()
    return (
        f"<html><head><title>{story.title}<meta charset=utf-8>\n<body><div class=article id=main"
        f"<h1>{story.title}</h2><p>{story.lead_text()}<p><b><i>{paras[0]}</b></i>\n<table><tr><td>"
        f"{paras[-1]}</div></span></td>\n<p class='unterminated>Kaputt & unvollständig &nbsp &#xZZ; < 3"
        "\x00<script>var x = '</div>';</script><div><div><div><ul><li>eins<li>zwei</ol>"
        "<!-- nicht geschlossener Kommentar"
    )


def make_pdf(title: str) -> bytes:
    """A small valid one-page PDF (binary: it starts with the customary high-byte comment)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({title}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- the set of sites -------------------------------------------------------------------------------------

class DemoServer:
    """The running demo sites. ``sites``: outlet key -> base URL. Close it (or use ``with``)."""

    def __init__(self, sites: dict[str, DemoSite], stop: threading.Event, hostile: bool):
        self._sites = sites
        self._stop = stop
        self.hostile = hostile
        self.sites: dict[str, str] = {key: site.base for key, site in sites.items()}
        self.closed = False

    def __enter__(self) -> DemoServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._stop.set()
        for site in self._sites.values():
            site.close()

    def _site(self, outlet: str) -> DemoSite:
        try:
            return self._sites[outlet]
        except KeyError:
            raise KeyError(f"no demo site {outlet!r}; running: {', '.join(self._sites)}") from None

    @property
    def requests(self) -> dict[str, list[LoggedRequest]]:
        """Outlet key -> requests received so far, in order (a snapshot)."""
        out = {}
        for key, site in self._sites.items():
            with site.lock:
                out[key] = list(site.requests)
        return out

    def clear_requests(self) -> None:
        for site in self._sites.values():
            with site.lock:
                site.requests.clear()

    def urls(self, outlet: str) -> SiteUrls:
        return self._site(outlet).urls()

    def stories(self, outlet: str) -> tuple[Story, ...]:
        site = self._site(outlet)
        with site.lock:
            return tuple(site.stories.values())

    def article_url(self, outlet: str, slug: str) -> str:
        urls = self.urls(outlet)
        if slug not in urls.articles:
            raise KeyError(f"{outlet} publishes no story {slug!r}; it has: {', '.join(urls.articles)}")
        return urls.articles[slug]

    def update_story(self, outlet: str, slug: str, paragraphs: Sequence[str | Sequence[str]]) -> Story:
        """Replace a published story's body paragraphs; its page, ETag and Last-Modified change."""
        return self._site(outlet).update_story(slug, paragraphs)

    def sites_toml(self, *, feeds: bool = True, sitemaps: bool = True, patterns: bool = True,
                   max_pages: int = 200, depth: int = 2, rendered: Sequence[str] = ()) -> str:
        """A sites.toml for :func:`newsarchive.crawler.sites.load_sites` naming every running site;
        the outlets in ``rendered`` get ``render = true`` (pages rendered in a browser)."""
        lines = ["# demo sites (newsarchive.demo.server)", "[defaults]", f"max_pages = {max_pages}",
                 f"depth = {depth}", ""]
        for key, site in self._sites.items():
            urls = site.urls()
            lines += [f"[sites.{key}]", f'start_urls = ["{urls.home}"]']
            if key in rendered:
                lines.append("render = true")
            if feeds:
                lines.append(f'feeds = ["{urls.feed}"]')
            if sitemaps:
                lines.append(f'sitemaps = ["{urls.sitemap_index}"]')
            if patterns:
                lines.append(f"article_pattern = '{render.article_pattern(key)}'")
            lines.append("")
        return "\n".join(lines)


def serve_demo(*, hostile: bool = False, stories_per_outlet: StoriesPerOutlet = "own",
               outlets: Sequence[str] | None = None, stall_seconds: float = 30.0,
               huge_bytes: int = 20 * 1024 * 1024, scripted: bool = False) -> DemoServer:
    """Start the demo sites (each on its own 127.0.0.1 port) and return them running.

    ``stories_per_outlet``: "own" (each outlet publishes its seed story) or "all" (every outlet publishes all
    five, for template learning). ``outlets``: a subset of :data:`newsarchive.demo.render.OUTLETS`.
    ``scripted``: each outlet also links a live-blog page whose article text a script inserts (for
    ``render = true`` crawls: only a browser sees that text).
    """
    if stories_per_outlet not in ("own", "all"):
        raise ValueError(f"stories_per_outlet must be 'own' or 'all', not {stories_per_outlet!r}")
    keys = list(outlets) if outlets is not None else list(render.OUTLETS)
    options = SiteOptions(hostile=hostile, stall_seconds=stall_seconds, huge_bytes=huge_bytes, scripted=scripted)
    stop = threading.Event()
    sites: dict[str, DemoSite] = {}
    try:
        for key in keys:
            render.get_outlet(key)
            own = tuple(s for s in STORIES if s.outlet == key)
            sites[key] = DemoSite(key, own if stories_per_outlet == "own" else STORIES, options, stop)
    except BaseException:
        for site in sites.values():
            site.server.server_close()
        raise
    for site in sites.values():
        site.start()
    return DemoServer(sites, stop, hostile)


def wait_for_signal() -> None:
    """Block the main thread until a signal's Python handler raises (Ctrl-C: ``KeyboardInterrupt``).

    ``threading.Event().wait()`` can miss the signal: if it arrives after the interpreter last checked for
    signals but before the thread blocks in ``sem_wait``, nothing interrupts that wait and the process
    hangs (seen once under heavy load). Here the C-level handler also writes to a wake-up socket, so a
    signal that comes before ``select`` makes it return at once, and one that comes during it interrupts it.
    """
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    try:
        while True:
            select.select([reader], [], [])
            try:  # a signal whose handler returned without raising: drain its byte and wait on
                reader.recv(512)
            except BlockingIOError:
                pass
    finally:
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newsarchive.demo.server",
                                     description="Serve the demo news sites on 127.0.0.1 until Ctrl-C or SIGTERM.")
    parser.add_argument("--hostile", action="store_true", help="add the hostile pages (loops, stalls, ...)")
    parser.add_argument("--stories", choices=("own", "all"), default="own", help="stories per outlet")
    parser.add_argument("--sites-toml", metavar="PATH", help="also write a sites.toml for the running sites")
    args = parser.parse_args(argv)
    # Ctrl-C and SIGTERM (kill, a service manager) both stop the sites, as they stop the scheduler. SIGINT gets
    # its handler even when it came ignored: a background job of a non-interactive shell (`server &` in a
    # script, a CI step) inherits SIGINT ignored, and such a server could then not be stopped by SIGINT at all.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.default_int_handler)  # raises KeyboardInterrupt
    with serve_demo(hostile=args.hostile, stories_per_outlet=args.stories) as demo:
        try:  # Ctrl-C may come as soon as the first address is printed, before the wait begins
            for key, url in demo.sites.items():
                print(f"{key:12} {url}/", flush=True)
            if args.sites_toml:
                with open(args.sites_toml, "w", encoding="utf-8") as fh:
                    fh.write(demo.sites_toml())
                print(f"sites.toml: {args.sites_toml}", flush=True)
            wait_for_signal()
        except KeyboardInterrupt:
            print("stopping", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
