"""Wayback-style replay of the archive over HTTP, plus the search pages (a plain WSGI app, no framework).

Routes (``TS`` is 1-14 digits, ``YYYYMMDDhhmmss``, padded like the Wayback Machine):

* ``/web/TS/URL`` - the capture of URL nearest TS: an HTML page is shown under a banner ("archived copy,
  captured ...", earlier/later captures) with the page itself in a sandboxed frame, as pywb does; anything
  else (images, CSS, redirects) is answered directly; ``/web/TSmp_/URL`` - the page itself: the original
  status, headers and bytes, HTML and CSS rewritten so links and subresources stay in the archive (as
  ``mp_`` addresses, so navigation stays inside the frame); ``/web/TSid_/URL`` serves the bytes unrewritten
  (with their original ``Content-Encoding``); ``/web/URL`` - the newest capture; ``/web/*/URL`` - the
  timeline and list of captures;
* ``/`` and ``/search`` - full-text search over articles with facet counts (site, language, month), sorted
  by relevance or date; ``/export.jsonl`` and ``/export.csv`` - the same result set as a download;
  ``/article/ID`` - one extracted article with its story cluster and versions; ``/diff?url=U&from=N&to=M`` -
  two versions side by side; ``/stories`` - stories that ran at several outlets.

Isolation: every archived response carries ``Content-Security-Policy: sandbox`` without ``allow-same-origin``,
so archived scripts run in an opaque origin and cannot read the archive's own pages, cookies or storage;
``default-src 'self'`` keeps archived pages from loading anything from the live web. Nothing is read from
disk but WARC records the index points at, inside the WARC directory.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from newsarchive.archive.charset import decode_html
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.lookup import ArchiveLookup, NotArchived, parse_timestamp
from newsarchive.archive.models import Capture
from newsarchive.archive.warc import StoredRecord, decoded_body
from newsarchive.web import pages
from newsarchive.web.pages import Reply
from newsarchive.web.rewrite import archive_path, rewrite_css, rewrite_html

logger = logging.getLogger(__name__)

ARCHIVED_CSP = ("sandbox allow-scripts allow-forms allow-popups allow-modals; "
                "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; form-action 'self'")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length",
               "proxy-authenticate", "proxy-authorization"}
_RENAMED = {"set-cookie", "set-cookie2", "content-security-policy", "content-security-policy-report-only",
            "strict-transport-security", "x-frame-options", "clear-site-data", "alt-svc", "public-key-pins",
            "report-to", "nel", "cross-origin-opener-policy", "cross-origin-embedder-policy", "refresh"}
_WEB_PATH = re.compile(r"^(?P<ts>\d{1,14})(?P<mod>[a-z]{2}_)?/(?P<url>.*)$", re.DOTALL)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def normalise_target(raw: str) -> str:
    """The archived URL from a ``/web/...`` path: repairs ``http:/x`` and encoded or scheme-less forms."""
    if raw.lower().startswith(("http%3a", "https%3a")):
        raw = unquote(raw)
    raw = re.sub(r"^(https?):/+", r"\1://", raw, flags=re.IGNORECASE)
    if not re.match(r"^https?://", raw, re.IGNORECASE):
        raw = "http://" + raw.lstrip("/")
    return raw


def _archived_headers(record: StoredRecord, base_url: str, ts: str) -> list[tuple[str, str]]:
    from urllib.parse import urljoin

    out: list[tuple[str, str]] = []
    for name, value in record.http_headers:
        lname = name.lower()
        if lname in _HOP_BY_HOP:
            continue
        if lname in _RENAMED:
            out.append((f"X-Archive-Orig-{name}", value))
        elif lname == "location":
            out.append((name, archive_path(ts, urljoin(base_url, value.strip()))))
        else:
            out.append((name, value))
    return out


def _body_for(record: StoredRecord, url: str, ts: str, rewrite: bool) -> tuple[bytes, str | None]:
    """(body, new Content-Type or None to keep the original headers and Content-Encoding)."""
    ctype = (record.http_header("Content-Type") or "").lower()
    if not rewrite or not ("html" in ctype or "css" in ctype):
        return record.payload, None
    body = decoded_body(record)
    if "css" in ctype:
        text, _ = decode_html(body, ctype)
        return rewrite_css(text, url, ts).encode("utf-8"), "text/css; charset=utf-8"
    text, _ = decode_html(body, ctype)
    return rewrite_html(text, url, ts).encode("utf-8"), "text/html; charset=utf-8"


def archived_reply(record: StoredRecord, capture: Capture, *, rewrite: bool = True, framed: bool = False) -> Reply:
    """The original status, headers and bytes of ``record`` (captured as ``capture``), made safe to serve.

    Rewritten bodies (HTML, CSS) are decoded, so their ``Content-Encoding`` header goes; bodies served as
    stored keep theirs: a decoded body never goes out with a gzip header. ``framed``: the page is shown in
    the banner frame, so its links and subresources point at ``mp_`` addresses and stay inside the frame.
    """
    ts = timestamp(capture.fetched_at) + ("mp_" if framed else "")
    headers = _archived_headers(record, capture.url, ts)
    body, ctype = _body_for(record, capture.url, ts, rewrite)
    if ctype is not None:
        headers = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "content-type")]
        headers.append(("Content-Type", ctype))
    headers += [
        ("Content-Length", str(len(body))),
        ("Content-Security-Policy", ARCHIVED_CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Memento-Datetime", capture.fetched_at.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")),
        ("Link", f'<{capture.url}>; rel="original"'),
        ("X-Archive-Record-ID", capture.record_id),
    ]
    if _is_font(record, capture.url):  # pages run in an opaque origin (sandbox), and fonts load in CORS mode
        headers = [(k, v) for k, v in headers if k.lower() != "access-control-allow-origin"]
        headers.append(("Access-Control-Allow-Origin", "*"))
    status = record.status_line.encode("latin-1", "replace").decode("latin-1") or "200 OK"
    return Reply(status, headers, body)


def _is_font(record: StoredRecord, url: str) -> bool:
    ctype = (record.http_header("Content-Type") or "").lower()
    return ctype.startswith(("font/", "application/font", "application/x-font", "application/vnd.ms-fontobject")) \
        or urlsplit(url).path.lower().endswith((".woff", ".woff2", ".ttf", ".otf", ".eot"))


class ReplayApp:
    """The WSGI application: archived captures under ``/web/``, search and article pages elsewhere."""

    def __init__(self, index: ArchiveIndex, warc_dir: str | Path):
        from newsarchive.archive.search import ensure_search_index

        self.index = index
        self.lookup = ArchiveLookup(index, warc_dir)
        ensure_search_index(index.engine)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            reply = self.dispatch(environ)
        except Exception:  # one broken record or row must not take the server down
            logger.exception("error answering %s", environ.get("PATH_INFO"))
            reply = pages.error_page("500 Internal Server Error", "The archive could not answer this request.")
        start_response(reply.status, reply.headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else reply.body]

    def dispatch(self, environ: dict[str, Any]) -> Reply:
        raw = environ.get("newsarchive.raw_uri") or _rebuild_uri(environ)
        path, _, query = raw.partition("?")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return pages.error_page("405 Method Not Allowed", "The archive is read-only.")
        if raw.startswith("/web/"):
            return self.web(raw[len("/web/"):])
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        if path in ("/", "/search"):
            return pages.search_page(self.index, params)
        if m := re.fullmatch(r"/article/(\d{1,12})", path):
            return pages.article_page(self.index, int(m.group(1)))
        if path == "/stories":
            return pages.stories_page(self.index)
        if path == "/diff":
            return pages.diff_page(self.index, params)
        if path in ("/export.jsonl", "/export.csv"):
            return self.export(path.rsplit(".", 1)[1], params)
        return pages.error_page("404 Not Found", "There is no such page in the archive.")

    def export(self, fmt: str, params: dict[str, str]) -> Reply:
        """The current result set of the search page as a JSONL or CSV download (same words, filters, order)."""
        from newsarchive.web import results

        query, sort = pages.query_from(params), pages.sort_from(params)
        try:
            rows = results.result_rows(self.index, query, sort)
            data = results.jsonl(rows) if fmt == "jsonl" else results.csv_bytes(rows)
        except ValueError as exc:  # QueryError
            return pages.error_page("400 Bad Request", str(exc))
        ctype = "application/x-ndjson; charset=utf-8" if fmt == "jsonl" else "text/csv; charset=utf-8"
        return pages.download(data, ctype, f"newsarchive-search.{fmt}")

    def web(self, rest: str) -> Reply:
        """``*/URL`` the timeline; ``TS/URL`` the banner frame around an HTML page (other types as they are);
        ``TSmp_/URL`` the replayed page itself (links stay ``mp_``); ``TSid_/URL`` the stored bytes."""
        if rest.startswith("*/"):
            url = normalise_target(rest[2:])
            return pages.captures_page(url, self.lookup.captures(url))
        m = _WEB_PATH.match(rest)
        ts, mod, target = (m["ts"], m["mod"], m["url"]) if m else (None, None, rest)
        url = normalise_target(target)
        try:
            capture = self.lookup.nearest(url, parse_timestamp(ts) if ts else None)
            original = self.lookup.original(capture)
        except NotArchived as exc:
            return pages.error_page("404 Not Found", str(exc), url=url)
        if mod is None and _framed(original):
            content = archive_path(timestamp(capture.fetched_at) + "mp_", capture.url)
            return pages.frame_page(capture, self.lookup.captures(capture.url), content)
        try:
            record = self.lookup.read(original)
        except NotArchived as exc:
            return pages.error_page("404 Not Found", str(exc), url=url)
        if record.status == 0:
            return pages.error_page("404 Not Found", f"{url}: record without an HTTP response", url=url)
        return archived_reply(record, capture, rewrite=mod != "id_", framed=mod is not None and mod != "id_")


def _framed(capture: Capture) -> bool:
    """Whether ``/web/TS/URL`` shows this capture under the banner: an HTML page that is not a redirect."""
    return "html" in (capture.content_type or "").lower() and not 300 <= capture.status < 400


def _rebuild_uri(environ: dict[str, Any]) -> str:
    from urllib.parse import quote

    path = quote(environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace"), safe="/:@!$&'()*+,;=~%")
    query = environ.get("QUERY_STRING", "")
    return path + ("?" + query if query else "")


# -- server ---------------------------------------------------------------------------------------------------
class _Handler(WSGIRequestHandler):
    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["newsarchive.raw_uri"] = self.path if self.path.startswith("/") else urlsplit(self.path).path
        return environ

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (signature of BaseHTTPRequestHandler)
        logger.info("%s " + format, self.address_string(), *args)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


@dataclass(frozen=True)
class ReplayOptions:
    host: str = "127.0.0.1"
    port: int = 8080


class ReplayServer:
    """The replay server on ``options.host:port`` (port 0: any free port), served from a thread or forever."""

    def __init__(self, index: ArchiveIndex, warc_dir: str | Path, options: ReplayOptions | None = None):
        options = options or ReplayOptions()
        self.app = ReplayApp(index, warc_dir)
        self.httpd = make_server(options.host, options.port, self.app, server_class=_ThreadingServer,
                                 handler_class=_Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def __enter__(self) -> ReplayServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="replay", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self.httpd.server_close()

