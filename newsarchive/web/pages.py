"""The replay server's own HTML pages: search with facets, article view with its story and versions, the
side-by-side diff of two versions, story clusters, the timeline of captures, the banner frame around a replayed
page, errors. No JavaScript at all.

Every value is escaped; the pages carry a CSP that forbids scripts and framing by others. The frame page may
frame the archive's own ``mp_`` replay, whose responses keep their own sandbox CSP (see replay.py).
"""

from __future__ import annotations

import calendar
import difflib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.search import MARK_END, MARK_START, SearchQuery, facets
from newsarchive.web.results import SORTS, FacetCounts, facet_counts, find
from newsarchive.web.rewrite import archive_path

if TYPE_CHECKING:
    from collections.abc import Sequence

PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
FRAME_CSP = PAGE_CSP + "; frame-src 'self'"  # the banner page frames the archive's own mp_ replay, nothing else
PAGE_SIZE = 20
_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#243b53;color:#fff;padding:.6em 1.2em;display:flex;gap:1.5em}
header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:72em;margin:0 auto;padding:1em 1.2em}
form.search{display:flex;flex-wrap:wrap;gap:.5em;align-items:end;margin-bottom:1em}
form.search label{display:flex;flex-direction:column;font-size:.8em;color:#555}
input,select,button{font:inherit;padding:.3em .5em}
.results{display:grid;grid-template-columns:14em 1fr;gap:1.5em}
aside.facets h3{font-size:.85em;text-transform:uppercase;color:#555;margin:.8em 0 .2em}
aside.facets ul{list-style:none;margin:0;padding:0;font-size:.9em}aside.facets li{display:flex;gap:.4em}
aside.facets .n{color:#777;margin-left:auto}aside.facets .on{font-weight:700}
.hit{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.7em 1em;margin:.6em 0}
.hit h2{font-size:1.1em;margin:0 0 .2em}.meta{color:#666;font-size:.85em}
.toolbar{display:flex;gap:1em;align-items:baseline;flex-wrap:wrap}
mark{background:#ffe58a}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;font-size:.9em}
dt{color:#666}dd{margin:0;overflow-wrap:anywhere}article p{margin:.6em 0}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em;text-align:left}
section.box{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:1em 0}
table.diff{table-layout:fixed;font-size:.9em}table.diff td{vertical-align:top;white-space:pre-wrap;width:50%}
table.diff td.del{background:#fde2e1}table.diff del{background:#f6b3ae}table.diff ins{background:#9fe29f;text-decoration:none}table.diff td.add{background:#dcf5dc}table.diff td.chg{background:#fff4c2}
.timeline{display:flex;flex-wrap:wrap;gap:.4em;margin:1em 0}
.month{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.3em .6em;min-width:8em}
.month.empty{opacity:.5}.month b{display:block;font-size:.85em;color:#555}.month a{display:inline-block;width:.8em;height:.8em;
border-radius:50%;background:#2f6fb0;margin:.1em}.month a.revisit{background:#8aa9c9}.month a.error{background:#c0392b}
"""
_NAV = "<a href='/'>newsarchive</a><a href='/search'>Search</a><a href='/stories'>Stories</a>"


@dataclass(frozen=True)
class Reply:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def page(title: str, body: str, status: str = "200 OK", *, csp: str = PAGE_CSP, frame: bool = False) -> Reply:
    main = body if frame else f"<main>{body}</main>"
    doc = (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{esc(title)} - newsarchive</title>"
           f"<meta name=viewport content='width=device-width'><style>{_STYLE}</style></head><body>"
           f"{'' if frame else '<header>' + _NAV + '</header>'}{main}</body></html>")
    return html_reply(doc.encode("utf-8"), status, csp)


def html_reply(data: bytes, status: str = "200 OK", csp: str = PAGE_CSP) -> Reply:
    return Reply(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                          ("Content-Security-Policy", csp), ("X-Frame-Options", "DENY"),
                          ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")], data)


def download(data: bytes, content_type: str, filename: str) -> Reply:
    return Reply("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data))),
                            ("Content-Disposition", f'attachment; filename="{filename}"'),
                            ("Content-Security-Policy", PAGE_CSP), ("X-Content-Type-Options", "nosniff")], data)


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


def sort_from(params: dict[str, str]) -> str:
    """``relevance`` or ``date``; without words there is no relevance, so results are newest first."""
    sort = params.get("sort", "")
    return sort if sort in SORTS else "relevance"


def _select(name: str, label: str, options: Sequence[str], chosen: str) -> str:
    opts = "".join(f"<option{' selected' if o == chosen else ''}>{esc(o)}</option>" for o in options)
    return f"<label>{label}<select name={name}><option value=''>any</option>{opts}</select></label>"


def _form(index: ArchiveIndex, params: dict[str, str]) -> str:
    found = facets(index)
    sorts = "".join(f"<option value={s}{' selected' if s == sort_from(params) else ''}>{s}</option>" for s in SORTS)
    return ("<form class=search action='/search' method=get role=search>"
            f"<label>Words<input type=search name=q value='{esc(params.get('q', ''))}' size=30 autofocus></label>"
            + _select("site", "Site", found.sites, params.get("site", ""))
            + _select("lang", "Language", found.languages, params.get("lang", ""))
            + f"<label>From<input type=date name=from value='{esc(params.get('from', ''))}'></label>"
            f"<label>To<input type=date name=to value='{esc(params.get('to', ''))}'></label>"
            f"<label>Sort<select name=sort>{sorts}</select></label>"
            "<button type=submit>Search</button></form>")


def _link(params: dict[str, str], **changes: str) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v and k != "page"}
    return "/search?" + urlencode(merged)


def _month_range(month: str) -> tuple[str, str]:
    year, number = (int(x) for x in month.split("-"))
    return f"{month}-01", f"{month}-{calendar.monthrange(year, number)[1]:02d}"


def _facet_list(title: str, cls: str, items: list[tuple[str, int]], params: dict[str, str], key: str) -> str:
    rows = []
    for value, count in items:
        if key == "month":
            start, end = _month_range(value)
            on, href = params.get("from") == start and params.get("to") == end, _link(params, **{"from": start,
                                                                                                    "to": end})
        else:
            on, href = params.get(key) == value, _link(params, **{key: value})
        if on:
            href = _link(params, **({"from": "", "to": ""} if key == "month" else {key: ""}))
        rows.append(f"<li{' class=on' if on else ''}><a href='{esc(href)}'>{esc(value)}</a>"
                    f"<span class=n>{count}</span></li>")
    return f"<h3>{title}</h3><ul class='facet-{cls}'>{''.join(rows) or '<li>-</li>'}</ul>"


def facets_html(counts: FacetCounts, params: dict[str, str]) -> str:
    return ("<aside class=facets>" + _facet_list("Site", "site", counts.sites, params, "site")
            + _facet_list("Language", "lang", counts.languages, params, "lang")
            + _facet_list("Month", "month", counts.months, params, "month") + "</aside>")


def snippet_html(snippet: str) -> str:
    return esc(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def search_page(index: ArchiveIndex, params: dict[str, str]) -> Reply:
    query, sort = query_from(params), sort_from(params)
    try:
        results, counts = find(index, query, sort), facet_counts(index, query)
    except ValueError as exc:  # a query that cannot match as written (QueryError): say why
        return page("Search", _form(index, params) + f"<p class=error>{esc(exc)}</p>", "400 Bad Request")
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
    kept = urlencode({k: v for k, v in params.items() if k != "page" and v})
    toolbar = (f"<div class=toolbar><p class=count>{results.total} article{'s' if results.total != 1 else ''}</p>"
               f"<span class=export>Download these results: <a class=jsonl href='/export.jsonl?{esc(kept)}'>JSONL</a>"
               f" · <a class=csv href='/export.csv?{esc(kept)}'>CSV</a></span></div>")
    listing = toolbar + "".join(rows) + f"<p>{' · '.join(nav)}</p>"
    body = _form(index, params) + f"<div class=results>{facets_html(counts, params)}<div>{listing}</div></div>"
    return page(f"Search {query.q}" if query.q else "Search", body)


def _ts(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S") if moment else "2"


def _story_box(index: ArchiveIndex, article_id: int, url: str) -> str:
    """The other outlets that ran this story (its story cluster), with links to their articles; other
    versions of this article are in the versions box, not here."""
    from newsarchive.archive.dedup import NotClustered, story_of

    try:
        story = story_of(index, article_id)
    except NotClustered:
        return ""
    others = [m for m in story.members if m.article_id != article_id and m.url != url]
    if not others:
        return ""
    items = "".join(f"<li><a href='/article/{m.article_id}'>{esc(m.title or m.url)}</a> "
                    f"<span class=meta>{esc(m.site)} · {esc(m.method)} · similarity {m.similarity:.2f}</span></li>"
                    for m in others)
    return (f"<section class='box story'><h2>Same story at {len(story.sites)} outlets</h2><ul>{items}</ul>"
            f"<p><a href='/stories#story-{story.story_id}'>all stories</a></p></section>")


def _versions_box(index: ArchiveIndex, article: Article) -> str:
    versions = index.article_versions(article.url)
    if len(versions) < 2:
        return ""
    items = []
    for number, version in enumerate(versions, 1):
        current = " (this one)" if version.id == article.id else ""
        compare = (f" · <a class=diff href='{esc('/diff?' + urlencode({'url': article.url, 'from': number - 1, 'to': number}))}'>"
                   f"changes from version {number - 1}</a>" if number > 1 else "")
        items.append(f"<li><a href='/article/{version.id}'>version {number}</a>, captured {when(version.fetched_at)}"
                     f"{current}{compare}</li>")
    return f"<section class='box versions'><h2>{len(versions)} versions</h2><ol>{''.join(items)}</ol></section>"


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
            f"<a class=all-captures href='{esc('/web/*/' + capture.url)}'>all captures</a></p>"
            f"<dl class=article-meta>{meta}</dl>"
            + (f"<p class=status>No article text: {esc(article.reason)}</p>" if article.status != "ok" else "")
            + _story_box(index, article.id, article.url) + _versions_box(index, article)
            + f"<article lang='{esc(article.language or '')}'>{paragraphs}</article>")
    return page(article.title or article.url, body)


def inline_diff(old: str, new: str) -> tuple[str, str]:
    """Two changed lines as HTML, the words only one of them has wrapped in ``<del>`` and ``<ins>``."""
    a, b = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    left, right = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        gone, came = esc("".join(a[i1:i2])), esc("".join(b[j1:j2]))
        left.append(gone if tag == "equal" or not gone else f"<del>{gone}</del>")
        right.append(came if tag == "equal" or not came else f"<ins>{came}</ins>")
    return "".join(left), "".join(right)


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def _pairs(left: list[str], right: list[str]) -> list[tuple[str | None, str | None]]:
    """Lines of a changed block side by side: each old line beside the most similar new line after the last
    pair (at least half alike), the rest alone: an edited paragraph beside its new form, not its neighbour's."""
    pairs: list[tuple[str | None, str | None]] = []
    j = 0
    for a in left:
        scores = [(_similar(a, right[k]), k) for k in range(j, len(right))]
        score, best = max(scores, key=lambda pair: (pair[0], -pair[1]), default=(0.0, -1))
        if score >= 0.5:
            pairs += [(None, b) for b in right[j:best]] + [(a, right[best])]
            j = best + 1
        else:
            pairs.append((a, None))
    return pairs + [(None, b) for b in right[j:]]


def side_by_side(old: Sequence[str], new: Sequence[str]) -> str:
    """Table rows: old lines left, new lines right; deleted, added and changed lines marked by class, and
    within a changed line the words that changed."""
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        left, right = list(old[i1:i2]), list(new[j1:j2])
        if tag == "equal":
            rows += [f"<tr><td>{esc(a)}</td><td>{esc(b)}</td></tr>" for a, b in zip(left, right, strict=True)]
            continue
        for a, b in _pairs(left, right):
            if a is not None and b is not None:
                html_a, html_b = inline_diff(a, b)
                rows.append(f"<tr><td class=chg>{html_a}</td><td class=chg>{html_b}</td></tr>")
            else:
                rows.append(f"<tr><td class='{'del' if a is not None else ''}'>{esc(a or '')}</td>"
                            f"<td class='{'add' if b is not None else ''}'>{esc(b or '')}</td></tr>")
    return "".join(rows)


def _version_lines(article: Article) -> list[str]:
    return [f"# {article.title or ''}"] + [line for line in article.text.splitlines() if line.strip()]


def diff_page(index: ArchiveIndex, params: dict[str, str]) -> Reply:
    """``/diff?url=U&from=N&to=M``: versions N and M (1-based; default the last two) side by side."""
    url = params.get("url", "")
    versions = index.article_versions(url) if url else []
    if len(versions) < 2:
        return error_page("404 Not Found", f"{url or 'this URL'} has fewer than two archived versions")
    try:
        a, b = int(params.get("from", len(versions) - 1)), int(params.get("to", len(versions)))
        old, new = versions[a - 1], versions[b - 1]
        if not (1 <= a <= len(versions) and 1 <= b <= len(versions)):
            raise IndexError(a, b)
    except (ValueError, IndexError):
        return error_page("400 Bad Request", f"there are {len(versions)} versions; from and to must be 1..{len(versions)}")
    left, right = _version_lines(old), _version_lines(new)
    changed = sum(1 for op in difflib.SequenceMatcher(None, left, right, autojunk=False).get_opcodes() if op[0] != "equal")
    body = (f"<h1>Changes in {esc(new.title or url)}</h1>"
            f"<p class=meta>{esc(url)} · {changed} changed passage{'s' if changed != 1 else ''}</p>"
            f"<table class=diff><tr><th>version {a}, captured {when(old.fetched_at)} "
            f"(<a href='/article/{old.id}'>view</a>)</th><th>version {b}, captured {when(new.fetched_at)} "
            f"(<a href='/article/{new.id}'>view</a>)</th></tr>{side_by_side(left, right)}</table>")
    return page(f"Changes in {new.title or url}", body)


def stories_page(index: ArchiveIndex) -> Reply:
    """Story clusters with articles at two or more outlets: which outlets ran the same (wire) story."""
    from newsarchive.archive.dedup import stories

    found = [s for s in stories(index, min_size=2, limit=200) if len(s.sites) > 1]
    blocks = []
    for story in found:
        items = "".join(f"<li><a href='/article/{m.article_id}'>{esc(m.title or m.url)}</a> "
                        f"<span class=meta>{esc(m.site)} · {esc(m.method)}</span></li>" for m in story.members)
        blocks.append(f"<section class='box story' id='story-{story.story_id}'><h2>{esc(story.members[0].title)}</h2>"
                      f"<p class=meta>{story.size} articles at {len(story.sites)} outlets: "
                      f"{esc(', '.join(story.sites))}</p><ul>{items}</ul></section>")
    intro = (f"<h1>{len(found)} stor{'ies' if len(found) != 1 else 'y'} at several outlets</h1>"
             if found else "<h1>Stories</h1><p>No story ran at more than one outlet yet.</p>")
    return page("Stories", intro + "".join(blocks))


def _dot(c: Capture) -> str:
    cls = "revisit" if c.record_type == "revisit" else "error" if c.status >= 400 else "capture"
    return (f"<a class={cls} href='{esc(archive_path(_ts(c.fetched_at), c.url))}' "
            f"title='{esc(when(c.fetched_at))} · {c.status} {esc(c.record_type)}'></a>")


def _month_span(captures: list[Capture], most: int = 36) -> dict[str, list[Capture]]:
    """Every month from the first capture to the last (empty ones too, so gaps show), if there are few enough."""
    first = min(c.fetched_at for c in captures).astimezone(UTC)
    last = max(c.fetched_at for c in captures).astimezone(UTC)
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > most:
        return {}
    return {f"{first.year + (first.month - 1 + i) // 12}-{(first.month - 1 + i) % 12 + 1:02d}": [] for i in range(count)}


def captures_page(url: str, captures: list[Capture]) -> Reply:
    """The timeline of captures of a URL (one box per month, a dot per capture) and the list of them."""
    if not captures:
        return error_page("404 Not Found", f"{url} is not in the archive")
    months = _month_span(captures)
    for c in sorted(captures, key=lambda c: c.fetched_at):
        months.setdefault(c.fetched_at.astimezone(UTC).strftime("%Y-%m"), []).append(c)
    timeline = "".join(f"<div class='month{'' if cs else ' empty'}'><b>{m} · {len(cs)}</b>{''.join(_dot(c) for c in cs)}"
                       "</div>" for m, cs in months.items())
    rows = "".join(
        f"<tr><td><a href='{esc(archive_path(_ts(c.fetched_at), c.url))}'>{when(c.fetched_at)}</a></td>"
        f"<td>{c.status}</td><td>{esc(c.record_type)}</td><td>{esc(c.content_type or '')}</td>"
        f"<td>{esc(c.url)}</td></tr>" for c in captures)
    first, last = min(c.fetched_at for c in captures), max(c.fetched_at for c in captures)
    body = (f"<h1>{len(captures)} capture{'s' if len(captures) != 1 else ''} of {esc(url)}</h1>"
            f"<p class=meta>from {when(first)} to {when(last)}</p><div class=timeline>{timeline}</div>"
            f"<table class=captures><tr><th>Time</th><th>Status</th><th>Record</th><th>Type</th><th>URL</th></tr>"
            f"{rows}</table>")
    return page(f"Captures of {url}", body)


_BANNER_STYLE = ("html,body{height:100%}body{display:flex;flex-direction:column}"
                 ".banner{background:#243b53;color:#fff;padding:.35em 1em;font-size:.85em;display:flex;gap:1em;"
                 "flex-wrap:wrap;align-items:baseline}.banner a{color:#cfe3ff}.banner b{color:#fff}"
                 "iframe{flex:1;border:0;width:100%;background:#fff}")


def frame_page(capture: Capture, captures: list[Capture], content_path: str) -> Reply:
    """The banner ("archived copy, captured ...", other captures) above the replayed page in a sandboxed frame.

    ``content_path`` is the ``mp_`` address of the capture: served with the archived page's own sandbox CSP,
    so the page runs in an opaque origin whatever the frame allows.
    """
    ordered = sorted(captures, key=lambda c: c.fetched_at)
    pos = next((i for i, c in enumerate(ordered) if c.id == capture.id), None)
    prev_c = ordered[pos - 1] if pos is not None and pos > 0 else None
    next_c = ordered[pos + 1] if pos is not None and pos + 1 < len(ordered) else None

    def hop(c: Capture | None, label: str, cls: str) -> str:
        return (f"<a class={cls} href='{esc(archive_path(_ts(c.fetched_at), c.url))}'>{label} "
                f"({when(c.fetched_at)})</a>" if c else "")

    banner = (f"<div class=banner role=banner><a href='/'>newsarchive</a>"
              f"<span class=archived>Archived copy of <b>{esc(capture.url)}</b>, captured "
              f"<b class=captured>{when(capture.fetched_at)}</b></span>"
              f"{hop(prev_c, '&larr; earlier', 'prev')}{hop(next_c, 'later &rarr;', 'next')}"
              f"<a class=all href='{esc('/web/*/' + capture.url)}'>all {len(ordered)} captures</a>"
              f"<a class=raw href='{esc(content_path)}' target=_top>without banner</a></div>")
    frame = (f"<iframe id=replay title='archived page' src='{esc(content_path)}' "
             "sandbox='allow-scripts allow-forms allow-popups allow-modals'></iframe>")
    body = f"<style>{_BANNER_STYLE}</style>{banner}{frame}"
    return page(f"Archived: {capture.url}", body, csp=FRAME_CSP, frame=True)
