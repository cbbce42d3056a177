"""Replay server: wayback-style URLs, original bytes/status/headers, revisits, rewriting, isolation, traversal."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsarchive.archive.lookup import parse_timestamp
from newsarchive.web.replay import ARCHIVED_CSP, ReplayOptions, ReplayServer, normalise_target
from newsarchive.web.rewrite import rewrite_html
from tests.archive_builder import (
    BERICHT_URL,
    CSS_URL,
    OLD_URL,
    PHOTO,
    PHOTO_URL,
    STORY_HTML,
    STORY_URL,
    BuiltArchive,
    build_archive,
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    """Shared by the read-only tests; tests that change rows use ``fresh`` and ``fresh_server``."""
    return build_archive(tmp_path_factory.mktemp("replay") / "home")


@pytest.fixture(scope="module")
def server(archive: BuiltArchive) -> Iterator[ReplayServer]:
    with ReplayServer(archive.index, archive.warc_dir, ReplayOptions(port=0)) as srv:
        yield srv


@pytest.fixture
def fresh(tmp_path: Path) -> BuiltArchive:
    return build_archive(tmp_path / "home")


@pytest.fixture
def fresh_server(fresh: BuiltArchive) -> Iterator[ReplayServer]:
    with ReplayServer(fresh.index, fresh.warc_dir, ReplayOptions(port=0)) as srv:
        yield srv


def get(server: ReplayServer, path: str, method: str = "GET") -> tuple[int, str, dict[str, str], bytes]:
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    conn.putrequest(method, path, skip_accept_encoding=True)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, resp.reason, headers, body


def test_binds_loopback_by_default() -> None:
    assert ReplayOptions().host == "127.0.0.1"


def test_timestamp_padding() -> None:
    assert parse_timestamp("2024").isoformat() == "2024-01-01T00:00:00+00:00"
    assert parse_timestamp("20240305").isoformat() == "2024-03-05T00:00:00+00:00"
    assert parse_timestamp("20240305123456").isoformat() == "2024-03-05T12:34:56+00:00"
    assert normalise_target("https:/news.example/a") == "https://news.example/a"
    assert normalise_target("news.example/a") == "http://news.example/a"
    assert normalise_target("https%3A%2F%2Fnews.example%2Fa") == "https://news.example/a"


def test_raw_mode_returns_original_bytes_and_encoding(server: ReplayServer) -> None:
    status, reason, headers, body = get(server, f"/web/20240301100000id_/{STORY_URL}")
    assert (status, reason) == (200, "OK")
    assert headers["content-encoding"] == "gzip"  # stored compressed, served compressed, with its header
    assert gzip.decompress(body).decode("utf-8") == STORY_HTML
    assert headers["etag"] == '"story-v1"'
    assert "set-cookie" not in headers and headers["x-archive-orig-set-cookie"].startswith("session=")
    assert "transfer-encoding" not in headers
    assert headers["content-security-policy"] == ARCHIVED_CSP
    assert headers["x-archive-orig-content-security-policy"] == "default-src *"
    assert headers["memento-datetime"] == "Fri, 01 Mar 2024 10:00:00 GMT"


def test_rewritten_html_is_decoded_without_gzip_header(server: ReplayServer) -> None:
    status, _, headers, body = get(server, f"/web/20240301100000mp_/{STORY_URL}")
    assert status == 200
    assert "content-encoding" not in headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == ARCHIVED_CSP  # the framed page keeps its own sandbox
    page = body.decode("utf-8")
    # inside the frame, links and subresources stay mp_ addresses: navigation stays under the banner
    assert 'src="/web/20240301100000mp_/https://news.example/img/photo.png"' in page
    assert 'href="/web/20240301100000mp_/https://news.example/style.css"' in page
    assert "href='/web/20240301100000mp_/https://news.example/politik/'" in page
    assert f'href="/web/20240301100000mp_/{BERICHT_URL}"' in page
    assert 'src="/web/20240301100000mp_/https://cdn.example/tracker.js"' in page
    assert "srcset=\"/web/20240301100000mp_/https://news.example/img/photo.png 1x," in page
    assert int(headers["content-length"]) == len(body)


def test_html_page_is_framed_under_a_banner(archive: BuiltArchive, server: ReplayServer) -> None:
    status, _, headers, body = get(server, f"/web/20240305/{STORY_URL}")
    page = body.decode("utf-8")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "frame-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert "default-src 'none'" in csp and headers["x-frame-options"] == "DENY"
    assert f"Archived copy of <b>{STORY_URL}</b>, captured <b class=captured>2024-03-05 10:00 UTC</b>" in page
    assert f"<iframe id=replay title='archived page' src='/web/20240305100000mp_/{STORY_URL}' " in page
    assert "sandbox='allow-scripts allow-forms allow-popups allow-modals'" in page  # never allow-same-origin
    assert f"class=prev href='/web/20240301100000/{STORY_URL}'" in page
    assert f"class=next href='/web/20240308100000/{STORY_URL}'" in page
    assert f"href='/web/*/{STORY_URL}'>all 3 captures" in page
    # the framed address resolves the identical-payload revisit to the original page, with the sandbox CSP
    status, _, headers, body = get(server, f"/web/20240305100000mp_/{STORY_URL}")
    assert status == 200 and headers["content-security-policy"] == ARCHIVED_CSP
    assert headers["x-archive-record-id"] == archive.captures["story_revisit"].record_id
    assert b"Harbour bridge reopens" in body


def test_banner_escapes_the_archived_url(tmp_path: Path) -> None:
    from newsarchive.archive.warc import HttpExchange
    from tests.archive_builder import Builder, at

    builder = Builder(tmp_path / "x")
    url = "https://news.example/a?q=%3Cscript%3E'\"><script>alert(1)</script>"
    builder.exchange("x", HttpExchange(url, 200, [("Content-Type", "text/html")], b"<p>x</p>", fetched_at=at()))
    built = builder.close()
    with ReplayServer(built.index, built.warc_dir, ReplayOptions(port=0)) as srv:
        status, _, _, body = get(srv, "/web/2024/" + url.replace(" ", "%20").replace('"', "%22")
                                 .replace("<", "%3C").replace(">", "%3E"))
    assert status == 200 and b"<script>" not in body and b"<iframe id=replay" in body
    assert b"'\"><" not in body


def test_binary_and_css_subresources(server: ReplayServer) -> None:
    status, _, headers, body = get(server, f"/web/20240301100000/{PHOTO_URL}")
    assert (status, headers["content-type"], body) == (200, "image/png", PHOTO)
    status, _, headers, body = get(server, f"/web/20240301100000/{CSS_URL}")
    assert status == 200 and "url('/web/20240301100100/https://news.example/img/photo.png')" in body.decode()


def test_nearest_capture_by_time_and_revisits_resolve(archive: BuiltArchive, server: ReplayServer) -> None:
    # 2024-03-05 is nearest the identical-payload revisit, 2024-03-09 the 304 revisit: both resolve to the original
    for ts, record in (("20240305", "story_revisit"), ("20240309", "story_304"), ("2024", "story")):
        status, _, headers, body = get(server, f"/web/{ts}id_/{STORY_URL}")
        assert status == 200, ts
        assert headers["x-archive-record-id"] == archive.captures[record].record_id
        assert gzip.decompress(body).decode("utf-8") == STORY_HTML
    # no timestamp: the newest capture (under the banner; its mp_ address serves the original's bytes)
    status, _, headers, body = get(server, f"/web/{STORY_URL}")
    assert status == 200 and f"src='/web/20240308100000mp_/{STORY_URL}'".encode() in body
    status, _, headers, _ = get(server, f"/web/20240308100000mp_/{STORY_URL}")
    assert status == 200 and headers["x-archive-record-id"] == archive.captures["story_304"].record_id


def test_latin1_page_is_served_as_utf8(server: ReplayServer) -> None:
    status, _, headers, body = get(server, f"/web/2024mp_/{BERICHT_URL}")
    assert status == 200 and "Hafenbrücke wieder geöffnet" in body.decode("utf-8")


def test_redirect_keeps_status_and_points_into_archive(server: ReplayServer) -> None:
    status, reason, headers, _ = get(server, f"/web/20240301095900/{OLD_URL}")
    assert (status, reason) == (301, "Moved Permanently")
    assert headers["location"] == f"/web/20240301095900/{STORY_URL.replace('https', 'http')}"


def test_archived_404_keeps_its_status(server: ReplayServer) -> None:
    status, _, _, body = get(server, "/web/2024id_/https://news.example/robots.txt")
    assert status == 404 and body == b"not found"


def test_capture_list(server: ReplayServer) -> None:
    status, _, _, body = get(server, f"/web/*/{STORY_URL}")
    page = body.decode()
    assert status == 200 and "3 captures of" in page
    assert "/web/20240301100000/" in page and "/web/20240308100000/" in page
    # the timeline: one box for March 2024 holding a dot per capture, revisits marked as such
    assert "<div class='month'><b>2024-03 · 3</b>" in page
    assert page.count("<a class=revisit ") == 2 and page.count("<a class=capture ") == 1


def test_unknown_url_is_404(server: ReplayServer) -> None:
    status, _, headers, body = get(server, "/web/2024/https://elsewhere.example/")
    assert status == 404 and b"not in the archive" in body
    assert "script-src" not in headers["content-security-policy"] and "default-src 'none'" in headers[
        "content-security-policy"]


@pytest.mark.parametrize("path", [
    "/../index.sqlite", "/web/../../index.sqlite", "/static/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
    "/web/2024/file:///etc/passwd", "/warcs/", "/index.sqlite", "/article/..%2f..%2fetc%2fpasswd",
    "/web/2024/../../warcs/",
])
def test_no_path_outside_the_archive(server: ReplayServer, path: str) -> None:
    status, _, _, body = get(server, path)
    assert status == 404
    assert b"root:" not in body and b"SQLite format" not in body and b"WARC/1.1" not in body


def test_index_row_pointing_outside_warc_dir_is_refused(fresh: BuiltArchive, fresh_server: ReplayServer) -> None:
    from newsarchive.archive.models import Capture

    archive, server = fresh, fresh_server
    secret = archive.root / "secret.warc.gz"
    secret.write_bytes((archive.warc_dir / archive.captures["photo"].warc_file).read_bytes())
    with archive.index.session() as s:
        row = s.get(Capture, archive.captures["photo"].id)
        assert row is not None
        row.warc_file = "../secret.warc.gz"
    status, _, _, body = get(server, f"/web/2024/{PHOTO_URL}")
    assert status == 404 and b"outside the WARC directory" in body


def test_read_only(server: ReplayServer) -> None:
    assert get(server, f"/web/2024/{STORY_URL}", method="POST")[0] == 405


def test_rewrite_leaves_special_links() -> None:
    html = ("<a href='#top'>t</a><a href=\"javascript:void(0)\">j</a><img src=data:image/png;base64,xx>"
            "<a href=mailto:x@y.z>m</a><a href=/a?b=1&amp;c=2>q</a><base href='https://o.example/dir/'>"
            "<a href=rel.html>r</a>")
    out = rewrite_html(html, "https://news.example/x/y.html", "2024")
    assert "href='#top'" in out and 'href="javascript:void(0)"' in out and "src=data:" not in out
    assert 'src="data:image/png;base64,xx"' in out and 'href="mailto:x@y.z"' in out
    assert 'href="/web/2024/https://o.example/a?b=1&amp;c=2"' in out
    assert 'href="/web/2024/https://o.example/dir/rel.html"' in out
    meta = rewrite_html('<meta http-equiv="refresh" content="0; url=https://live.example/x">', "https://a.b/", "2024")
    assert meta == '<meta http-equiv="refresh" content="0; url=/web/2024/https://live.example/x">'


def test_cli_serves_on_loopback(archive: BuiltArchive) -> None:
    import re
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "newsarchive", "replay", "--home", str(archive.root), "--port", "0"],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/ \(search\)", line)
        assert found, line
        with urllib.request.urlopen(f"{found.group(1)}/web/2024id_/{PHOTO_URL}", timeout=10) as resp:
            assert resp.read() == PHOTO
    finally:
        proc.terminate()
        proc.wait(10)


def test_pages_escape_everything(fresh: BuiltArchive, fresh_server: ReplayServer) -> None:
    from newsarchive.archive.models import Article

    archive, server = fresh, fresh_server
    with archive.index.session() as s:
        row = s.get(Article, archive.articles["story"].id)
        assert row is not None
        row.title = "<script>alert('title')</script>"
    status, _, headers, body = get(server, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E+bridge")
    assert status == 200 and b"<script>" not in body and b"&lt;script&gt;" in body
    status, _, _, body = get(server, f"/article/{archive.articles['story'].id}")
    assert status == 200 and b"<script>" not in body and b"&lt;script&gt;alert(&#x27;title&#x27;)" in body
    assert "script-src" not in headers["content-security-policy"] and "default-src 'none'" in headers[
        "content-security-policy"]


def test_archived_url_with_query_string(tmp_path: Path) -> None:
    from newsarchive.archive.warc import HttpExchange
    from tests.archive_builder import Builder, at

    builder = Builder(tmp_path / "q")
    url = "https://news.example/list?page=2&sort=new"
    builder.exchange("list", HttpExchange(url, 200, [("Content-Type", "text/plain")], b"page two", fetched_at=at()))
    built = builder.close()
    with ReplayServer(built.index, built.warc_dir, ReplayOptions(port=0)) as srv:
        status, _, _, body = get(srv, f"/web/2024/{url}")
        assert (status, body) == (200, b"page two")
        assert get(srv, "/web/2024/https://news.example/list?page=3")[0] == 404


def test_timeline_shows_empty_months_between_captures(tmp_path: Path) -> None:
    from newsarchive.archive.warc import HttpExchange
    from tests.archive_builder import Builder, at

    builder = Builder(tmp_path / "t")
    url = "https://news.example/live"
    for name, days in (("jan", -40), ("mar", 0), ("may", 70)):
        builder.exchange(name, HttpExchange(url, 200, [("Content-Type", "text/plain")], name.encode(),
                                            fetched_at=at(days=days)))
    built = builder.close()
    with ReplayServer(built.index, built.warc_dir, ReplayOptions(port=0)) as srv:
        status, _, _, body = get(srv, f"/web/*/{url}")
    page = body.decode()
    assert status == 200
    months = [m for m in ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05") if f"<b>{m} · " in page]
    assert months == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    assert "<div class='month empty'><b>2024-02 · 0</b>" in page and "<div class='month'><b>2024-05 · 1</b>" in page


def test_new_pages_escape_and_refuse_bad_input(fresh: BuiltArchive, fresh_server: ReplayServer) -> None:
    from newsarchive.archive.models import Article

    with fresh.index.session() as s:
        row = s.get(Article, fresh.articles["story"].id)
        assert row is not None
        row.site = "<script>alert('site')</script>"
    status, _, headers, body = get(fresh_server, "/search?q=bridge")
    assert status == 200 and b"<script>alert" not in body and b"&lt;script&gt;alert(&#x27;site&#x27;)" in body
    status, _, _, body = get(fresh_server, "/diff?url=%3Cscript%3Ex")
    assert status == 404 and b"<script>x" not in body and b"&lt;script&gt;x" in body
    status, _, _, body = get(fresh_server, f"/diff?url={STORY_URL}&from=x")
    assert status == 404  # one version only: nothing to compare
    status, _, headers, body = get(fresh_server, "/export.csv?q=bridge")
    assert status == 200 and headers["content-disposition"] == 'attachment; filename="newsarchive-search.csv"'
    import csv
    import io

    table = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    assert [(r["url"], r["title"]) for r in table] == [(STORY_URL, "Harbour bridge reopens after repairs")]
    assert "steel cables" in table[0]["text"] and "\n" in table[0]["text"]  # paragraphs kept in the quoted field
    status, _, headers, body = get(fresh_server, "/export.jsonl?lang=de")
    assert status == 200 and headers["content-type"].startswith("application/x-ndjson")
    assert [line.count(b'"site": "zeitung"') for line in body.splitlines()] == [1]
    status, _, _, body = get(fresh_server, "/search?q=-bridge")  # only an excluded word: says why
    assert status == 400 and b"needs a word that is not excluded" in body
    assert get(fresh_server, "/export.jsonl?q=-bridge")[0] == 400
    status, _, _, body = get(fresh_server, "/stories")
    assert status == 200 and b"No story ran at more than one outlet yet." in body


@pytest.fixture(params=["sqlite", "postgresql"])
def either(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BuiltArchive]:
    if request.param == "sqlite":
        yield build_archive(tmp_path / "home")
        return
    from tests.pg import pg_unavailable_reason, temp_pg_database

    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with temp_pg_database() as url:
        built = build_archive(tmp_path / "pg", index_url=url)
        yield built
        built.index.close()


def test_result_set_facets_order_and_rows_on_both_databases(either: BuiltArchive) -> None:
    from newsarchive.archive.search import SearchQuery, ensure_search_index
    from newsarchive.web.results import facet_counts, find, result_rows

    ensure_search_index(either.index.engine)
    everything = SearchQuery()
    counts = facet_counts(either.index, everything)
    assert counts.sites == [("news", 1), ("zeitung", 1)] and sorted(counts.languages) == [("de", 1), ("en", 1)]
    assert counts.months == [("2024-03", 2)]
    assert facet_counts(either.index, SearchQuery(q="bridge OR Hafenbrücke", language="de")).sites == [("zeitung", 1)]
    by_date = find(either.index, SearchQuery(q="bridge OR Hafenbrücke"), sort="date")
    assert [h.url for h in by_date.hits] == [BERICHT_URL, STORY_URL] and by_date.total == 2  # newest first
    assert "\x02" in by_date.hits[1].snippet  # the match is marked in the snippet
    assert [h.url for h in find(either.index, SearchQuery(q="bridge OR Hafenbrücke", limit=1, offset=1),
                                sort="date").hits] == [STORY_URL]
    rows = list(result_rows(either.index, SearchQuery(q="steel"), sort="relevance"))
    assert [(r["url"], r["site"], r["fetched_at"]) for r in rows] == [(STORY_URL, "news", "2024-03-01T10:00:00+00:00")]


def test_side_by_side_marks_changed_words_and_escapes() -> None:
    from newsarchive.web.pages import inline_diff, side_by_side

    left, right = inline_diff("Die <b>alte</b> Brücke bleibt", "Die neue Brücke bleibt offen")
    assert left == "Die <del>&lt;b&gt;alte&lt;/b&gt;</del> Brücke bleibt"
    assert right == "Die <ins>neue</ins> Brücke bleibt<ins> offen</ins>"
    # an edited line sits beside its new form, not beside whatever new line has the same position
    rows = side_by_side(["same", "gone <x>", "the old bridge stays open"], ["same", "the new bridge stays open",
                                                                             "brand new"])
    assert rows.count("<tr>") == 4 and "<td class='del'>gone &lt;x&gt;</td><td class=''></td>" in rows
    assert "<td class=chg>the <del>old</del> bridge stays open</td><td class=chg>the <ins>new</ins> bridge" in rows
    assert rows.endswith("<td class=''></td><td class='add'>brand new</td></tr>")
