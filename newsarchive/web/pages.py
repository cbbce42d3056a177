"""The replay server's own HTML pages: search, article view, capture list, errors. No JavaScript at all.

Every value is escaped; the pages carry a CSP that forbids scripts and framing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.search import MARK_END, MARK_START, SearchQuery, facets, search_articles
from newsarchive.web.rewrite import archive_path

if TYPE_CHECKING:
    from collections.abc import Sequence

PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
PAGE_SIZE = 20
_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#243b53;color:#fff;padding:.6em 1.2em}header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:60em;margin:0 auto;padding:1em 1.2em}
form.search{display:flex;flex-wrap:wrap;gap:.5em;align-items:end;margin-bottom:1em}
form.search label{display:flex;flex-direction:column;font-size:.8em;color:#555}
input,select,button{font:inherit;padding:.3em .5em}
.hit{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.7em 1em;margin:.6em 0}
.hit h2{font-size:1.1em;margin:0 0 .2em}.meta{color:#666;font-size:.85em}
mark{background:#ffe58a}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;font-size:.9em}
dt{color:#666}dd{margin:0;overflow-wrap:anywhere}article p{margin:.6em 0}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em;text-align:left}
"""


@dataclass(frozen=True)
class Reply:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def page(title: str, body: str, status: str = "200 OK") -> Reply:
    doc = (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{esc(title)} - newsarchive</title>"
           f"<meta name=viewport content='width=device-width'><style>{_STYLE}</style></head><body>"
           f"<header><a href='/'>newsarchive</a></header><main>{body}</main></body></html>")
    data = doc.encode("utf-8")
    return Reply(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                          ("Content-Security-Policy", PAGE_CSP), ("X-Frame-Options", "DENY"),
                          ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")], data)


def error_page(status: str, message: str, url: str | None = None) -> Reply:
    more = f"<p><a href='{esc('/web/*/' + url)}'>All captures of this URL</a></p>" if url else ""
    return page(status, f"<h1>{esc(status)}</h1><p class=error>{esc(message)}</p>{more}", status)


def _date(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def query_from(params: dict[str, str]) -> SearchQuery:
    try:
        number = max(1, int(params.get("page", "1")))
    except ValueError:
        number = 1
    end = _date(params.get("to"))
    return SearchQuery(q=params.get("q", "")[:500], site=params.get("site") or None,
                       language=params.get("lang") or None, date_from=_date(params.get("from")),
                       date_to=end.replace(hour=23, minute=59, second=59) if end else None,
                       limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)


def _select(name: str, label: str, options: Sequence[str], chosen: str) -> str:
    opts = "".join(f"<option{' selected' if o == chosen else ''}>{esc(o)}</option>" for o in options)
    return f"<label>{label}<select name={name}><option value=''>any</option>{opts}</select></label>"


def _form(index: ArchiveIndex, params: dict[str, str]) -> str:
    found = facets(index)
    return ("<form class=search action='/search' method=get role=search>"
            f"<label>Words<input type=search name=q value='{esc(params.get('q', ''))}' size=30 autofocus></label>"
            + _select("site", "Site", found.sites, params.get("site", ""))
            + _select("lang", "Language", found.languages, params.get("lang", ""))
            + f"<label>From<input type=date name=from value='{esc(params.get('from', ''))}'></label>"
            f"<label>To<input type=date name=to value='{esc(params.get('to', ''))}'></label>"
            "<button type=submit>Search</button></form>")


def snippet_html(snippet: str) -> str:
    return esc(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def search_page(index: ArchiveIndex, params: dict[str, str]) -> Reply:
    query = query_from(params)
    results = search_articles(index, query)
    rows = []
    for hit in results.hits:
        original = archive_path(_ts(hit.fetched_at), hit.url)
        rows.append(f"<div class=hit><h2><a class=title href='/article/{hit.article_id}'>{esc(hit.title)}</a></h2>"
                    f"<div class=meta>{esc(hit.site)} · {esc(hit.language or '?')} · {when(hit.published)} · "
                    f"<a href='{esc(original)}'>archived original</a></div><p>{snippet_html(hit.snippet)}</p></div>")
    number = query.offset // PAGE_SIZE + 1
    nav = []
    if number > 1:
        nav.append(f"<a rel=prev href='/search?{esc(urlencode({**params, 'page': number - 1}))}'>previous</a>")
    if query.offset + len(results.hits) < results.total:
        nav.append(f"<a rel=next href='/search?{esc(urlencode({**params, 'page': number + 1}))}'>next</a>")
    summary = f"<p class=count>{results.total} article{'s' if results.total != 1 else ''}</p>"
    body = _form(index, params) + summary + "".join(rows) + f"<p>{' · '.join(nav)}</p>"
    return page(f"Search {query.q}" if query.q else "Search", body)


def _ts(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S") if moment else "2"


def article_page(index: ArchiveIndex, article_id: int) -> Reply:
    with index.sessions() as s:
        article = s.get(Article, article_id)
        capture = s.get(Capture, article.capture_id) if article else None
    if article is None or capture is None:
        return error_page("404 Not Found", f"There is no article {article_id}.")
    original = archive_path(_ts(capture.fetched_at), capture.url)
    fields = [("Site", article.site), ("URL", article.url), ("Canonical", article.canonical_url),
              ("Author", article.author), ("Published", when(article.published)), ("Date from", article.date_source),
              ("Modified", when(article.modified) if article.modified else None), ("Language", article.language),
              ("Section", article.section), ("Words", article.word_count), ("Fetched", when(capture.fetched_at)),
              ("HTTP status", capture.status), ("Extractor", f"{article.extractor} {article.extractor_version}"),
              ("WARC", f"{capture.warc_file} @ {capture.warc_offset}"), ("Record", capture.record_id)]
    meta = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in fields if v not in (None, ""))
    paragraphs = "".join(f"<p>{esc(line)}</p>" for line in article.text.splitlines() if line.strip())
    body = (f"<h1 class=article-title>{esc(article.title or article.url)}</h1>"
            f"<p><a class=original href='{esc(original)}'>View the archived original</a> · "
            f"<a href='{esc('/web/*/' + capture.url)}'>all captures</a></p>"
            f"<dl class=article-meta>{meta}</dl>"
            + (f"<p class=status>No article text: {esc(article.reason)}</p>" if article.status != "ok" else "")
            + f"<article lang='{esc(article.language or '')}'>{paragraphs}</article>")
    return page(article.title or article.url, body)


def captures_page(url: str, captures: list[Capture]) -> Reply:
    if not captures:
        return error_page("404 Not Found", f"{url} is not in the archive")
    rows = "".join(
        f"<tr><td><a href='{esc(archive_path(_ts(c.fetched_at), c.url))}'>{when(c.fetched_at)}</a></td>"
        f"<td>{c.status}</td><td>{esc(c.record_type)}</td><td>{esc(c.content_type or '')}</td>"
        f"<td>{esc(c.url)}</td></tr>" for c in captures)
    body = (f"<h1>{len(captures)} capture{'s' if len(captures) != 1 else ''} of {esc(url)}</h1>"
            f"<table class=captures><tr><th>Time</th><th>Status</th><th>Record</th><th>Type</th><th>URL</th></tr>"
            f"{rows}</table>")
    return page(f"Captures of {url}", body)

