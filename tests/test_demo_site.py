"""The demo news sites: seed data, templates, and what the servers answer."""

from __future__ import annotations

import gzip
import http.client
import itertools
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest

from newsarchive.crawler.sites import load_sites
from newsarchive.demo import render
from newsarchive.demo.content import STORIES, load_stories
from newsarchive.demo.server import DemoServer

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SM = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
# the fictional brand names in stories.json and the real ones of the seeds they replace
BRANDS = [("kronenpost.example", "krone.at"), ("Kronenpost Medien (KPM)", "Krone Multimedia (KMM)"),
          ("KPM", "KMM"), ("NX24 Nachrichtenfernsehen GmbH", "n-tv Nachrichtenfernsehen GmbH"),
          ("nx24.example", "ntv.de")]
# where each outlet's article text sits; its chrome must sit in there too
CONTAINERS = {"wien24": "//div[@id='articleBody']", "kronenpost": "//article", "newsflux": "//div[@class='news-detail']",
              "siamkurier": "//article", "nx24": "//article"}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def page_text(html: str | bytes, xpath: str = "//body") -> str:
    tree = lxml.html.fromstring(html)
    for node in tree.xpath("//script|//style"):
        node.drop_tree()
    return norm(" ".join(n.text_content() for n in tree.xpath(xpath)))


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    data: bytes

    def header(self, name: str) -> str:
        return str(self.headers.get(name, ""))


def get(url: str, method: str = "GET", **headers: str) -> Reply:
    """One request, no redirect following, no automatic decompression."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""),
                 headers={k.replace("_", "-"): v for k, v in headers.items()})
    response = conn.getresponse()
    reply = Reply(response.status, response.headers, response.read())
    conn.close()
    return reply


def body(response: Reply) -> bytes:
    return response.data


# -- seed data -------------------------------------------------------------------------------------------

def test_five_stories_one_per_outlet_with_dates_and_language() -> None:
    assert [s.id for s in STORIES] == ["000", "001", "002", "003", "004"]
    assert sorted(s.outlet for s in STORIES) == sorted(render.OUTLETS)
    assert all(s.language == "de" and s.published.tzinfo and s.modified >= s.published for s in STORIES)
    by_id = {s.id: s for s in STORIES}
    assert by_id["000"].published.date() == by_id["004"].published.date() == datetime(2024, 1, 15).date()
    assert by_id["003"].published.strftime("%Y-%m") == "2024-11" and by_id["002"].published.year == 2023
    assert len({s.slug for s in STORIES}) == 5 and all(s.title and s.body_sentences() for s in STORIES)


def test_body_and_chrome_do_not_overlap() -> None:
    for story in STORIES:
        body_text = story.body_text()
        assert not [line for line in story.chrome_lines() if len(line) > 12 and line in body_text], story.id
        assert story.chrome, f"story {story.id} has no chrome"


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed texts not found at {SEEDS}")
def test_every_seed_line_is_classified_and_body_is_verbatim() -> None:
    """Each non-blank seed line is fully covered by title/kicker/dateline/byline, body sentences, chrome."""
    for story in STORIES:
        seed = (SEEDS / story.seed_file).read_text(encoding="utf-8")
        pieces = [story.title, story.kicker, story.dateline, story.byline, *story.body_sentences(),
                  *story.chrome_lines()]
        real = []
        for piece in pieces:
            for fictional, original in BRANDS:
                piece = piece.replace(fictional, original)
            real.append(piece)
        for sentence in story.body_sentences():
            assert sentence in seed, f"{story.id}: body sentence not verbatim from the seed: {sentence[:60]}"
        for line in filter(str.strip, seed.splitlines()):
            rest = line
            for piece in sorted(filter(None, real), key=len, reverse=True):
                rest = rest.replace(piece, "")
            assert not rest.strip(), f"{story.id}: seed text not classified: {rest.strip()[:80]!r}"


def test_update_makes_a_new_version_and_rejects_empty_paragraphs() -> None:
    story = STORIES[0]
    later = story.modified + timedelta(hours=1)
    new = story.with_paragraphs(["Neu.", ["Satz eins.", "Satz zwei."]], later)
    assert new.paragraph_texts() == ("Neu.", "Satz eins. Satz zwei.") and new.modified == later
    assert new.lead == story.lead and STORIES[0] is story
    with pytest.raises(ValueError):
        story.with_paragraphs([""], later)
    assert load_stories() == STORIES


# -- templates -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("outlet,story", list(itertools.product(render.OUTLETS, STORIES)),
                         ids=lambda v: v if isinstance(v, str) else v.id)
def test_every_story_renders_in_every_outlet_with_body_and_chrome(outlet: str, story: object) -> None:
    assert hasattr(story, "body_sentences")
    html = render.render_article(outlet, story, site_stories=STORIES)  # type: ignore[arg-type]
    text = page_text(html)
    missing = [s for s in story.body_sentences() if norm(s) not in text]  # type: ignore[attr-defined]
    assert not missing, f"body sentences missing: {missing[:2]}"
    chrome = render.page_chrome(outlet, story)  # type: ignore[arg-type]
    absent = [c.text for c in chrome.lines() if norm(c.text) not in text]
    assert not absent, f"chrome lines missing: {absent[:2]}"
    assert story.title in text  # type: ignore[attr-defined]
    tree = lxml.html.fromstring(html)
    assert tree.get("lang") == "de"
    assert tree.xpath("//link[@rel='canonical']/@href")[0].endswith(render.article_path(outlet, story))  # type: ignore[arg-type]
    assert tree.xpath("//link[@rel='alternate']/@type") == [render.OUTLETS[outlet].feed_type]


@pytest.mark.parametrize("outlet", render.OUTLETS)
def test_own_story_chrome_sits_inside_the_article_container(outlet: str) -> None:
    story = next(s for s in STORIES if s.outlet == outlet)
    html = render.render_article(outlet, story, site_stories=STORIES)
    inside = page_text(html, CONTAINERS[outlet])
    assert all(norm(s) in inside for s in story.body_sentences())
    assert all(norm(line) in inside for line in story.chrome_lines()), "seed chrome sits in the article container"
    assert story.chrome_lines(), "and there is chrome to find"


def _metadata(outlet: str) -> tuple[dict[str, object], dict[str, str]]:
    story = next(s for s in STORIES if s.outlet == outlet)
    tree = lxml.html.fromstring(render.render_article(outlet, story))
    ld = [json.loads(t) for t in tree.xpath("//script[@type='application/ld+json']/text()")]
    meta = {m.get("property") or m.get("name"): m.get("content") for m in tree.xpath("//meta[@content]")}
    return (ld[0] if ld else {}), meta


def test_outlets_carry_dates_in_json_ld_or_open_graph() -> None:
    for outlet in ("kronenpost", "siamkurier", "nx24"):
        ld, _ = _metadata(outlet)
        story = next(s for s in STORIES if s.outlet == outlet)
        assert ld["@type"] == "NewsArticle" and ld["datePublished"] == story.published.isoformat()
        assert ld["dateModified"] == story.modified.isoformat() and ld["author"]
    for outlet in ("wien24", "newsflux"):
        ld, meta = _metadata(outlet)
        story = next(s for s in STORIES if s.outlet == outlet)
        assert not ld and meta["article:published_time"] == story.published.isoformat()


def test_outlet_templates_really_differ() -> None:
    classes = {}
    for outlet in render.OUTLETS:
        tree = lxml.html.fromstring(render.render_article(outlet, STORIES[4], site_stories=STORIES))
        classes[outlet] = {c for v in tree.xpath("//@class") for c in v.split()}
    for a, b in itertools.combinations(classes, 2):
        overlap = len(classes[a] & classes[b]) / len(classes[a] | classes[b])
        assert overlap < 0.3, f"{a} and {b} share too much markup ({overlap:.2f})"


# -- the servers ---------------------------------------------------------------------------------------------

def test_each_outlet_is_its_own_site(demo_sites: DemoServer) -> None:
    assert set(demo_sites.sites) == set(render.OUTLETS)
    assert len({urlsplit(u).netloc for u in demo_sites.sites.values()}) == 5
    assert all(u.startswith("http://127.0.0.1:") for u in demo_sites.sites.values())


@pytest.mark.parametrize("outlet", render.OUTLETS)
def test_robots_home_and_articles(demo_sites: DemoServer, outlet: str) -> None:
    urls = demo_sites.urls(outlet)
    robots = body(get(urls.robots)).decode()
    assert "Disallow: /intern/" in robots and f"Sitemap: {urls.sitemap_index}" in robots
    home = get(urls.home)
    assert home.status == 200 and home.header("Content-Type") == "text/html; charset=utf-8"
    links = {urljoin(urls.home, h) for h in lxml.html.fromstring(body(home)).xpath("//a/@href")}
    for required in (urls.intern, urls.not_found, urls.pdf, *urls.sections.values(), *urls.legacy.values()):
        assert required in links
    article = urls.articles[next(s.slug for s in STORIES if s.outlet == outlet)]
    assert any(link.startswith(article + "?utm_source=") for link in links)
    assert any(link.startswith(article + "?fbclid=") for link in links) and article + "#kommentare" in links
    story = demo_sites.stories(outlet)[0]
    for variant in (article, article + "?utm_source=x&fbclid=y"):
        text = page_text(body(get(variant)))
        assert all(norm(s) in text for s in story.body_sentences())
        assert all(norm(line) in text for line in story.chrome_lines())


@pytest.mark.parametrize("outlet", render.OUTLETS)
def test_feeds_parse_and_point_at_the_articles(demo_sites: DemoServer, outlet: str) -> None:
    urls = demo_sites.urls(outlet)
    home = lxml.html.fromstring(body(get(urls.home)))
    assert urljoin(urls.home, home.xpath("//link[@rel='alternate']/@href")[0]) == urls.feed
    response = get(urls.feed)
    assert response.status == 200 and response.header("Content-Type").startswith(render.OUTLETS[outlet].feed_type)
    feed = feedparser.parse(body(response))
    assert not feed.bozo and feed.version == ("rss20" if urls.feed_format == "rss" else "atom10")
    assert {e.link.split("?")[0] for e in feed.entries} == set(urls.articles.values())
    assert all(e.get("published_parsed") and e.title for e in feed.entries)


@pytest.mark.parametrize("outlet", render.OUTLETS)
def test_sitemap_index_regular_and_news_sitemaps(demo_sites: DemoServer, outlet: str) -> None:
    urls = demo_sites.urls(outlet)
    index = lxml.etree.fromstring(body(get(urls.sitemap_index)))
    assert index.xpath("//sm:sitemap/sm:loc/text()", namespaces=SM) == [urls.sitemap, urls.news_sitemap]
    regular = lxml.etree.fromstring(body(get(urls.sitemap)))
    locs = regular.xpath("//sm:url/sm:loc/text()", namespaces=SM)
    assert set(urls.articles.values()) <= set(locs) and urls.home in locs
    news = lxml.etree.fromstring(body(get(urls.news_sitemap)))
    entries = news.xpath("//sm:url", namespaces=SM)
    assert {e.findtext("sm:loc", namespaces=SM) for e in entries} == set(urls.articles.values())
    for entry in entries:
        published = entry.findtext(".//news:publication_date", namespaces=SM)
        assert datetime.fromisoformat(published).tzinfo and entry.findtext(".//news:title", namespaces=SM)
    for loc in locs:
        assert get(loc).status == 200, loc


def test_redirect_404_pdf_and_media(demo_sites: DemoServer) -> None:
    urls = demo_sites.urls("wien24")
    slug, old = next(iter(urls.legacy.items()))
    moved = get(old)
    assert moved.status == 301 and moved.header("Location") == urls.articles[slug]
    missing = get(urls.not_found)
    assert missing.status == 404 and "nicht gefunden" in body(missing).decode()
    pdf = get(urls.pdf, Accept_Encoding="gzip")
    assert pdf.header("Content-Type") == "application/pdf" and body(pdf).startswith(b"%PDF-1.4\n%\xe2")
    assert pdf.header("Content-Encoding") == "" and body(pdf).rstrip().endswith(b"%%EOF")
    assert get(urls.base + "/media/x.gif").header("Content-Type") == "image/gif"


def test_gzip_only_when_accepted(demo_sites: DemoServer) -> None:
    url = demo_sites.urls("nx24").home
    plain = get(url)
    packed = get(url, Accept_Encoding="gzip, deflate")
    refused = get(url, Accept_Encoding="gzip;q=0, identity")
    assert plain.header("Content-Encoding") == "" and refused.header("Content-Encoding") == ""
    assert packed.header("Content-Encoding") == "gzip" and body(packed)[:2] == b"\x1f\x8b"
    assert gzip.decompress(body(packed)) == body(plain) == body(refused)
    assert int(packed.header("Content-Length")) == len(body(packed)) < len(body(plain))
    assert packed.header("Vary") == "Accept-Encoding"


def test_conditional_get_answers_304(demo_sites: DemoServer) -> None:
    url = demo_sites.urls("siamkurier").articles[STORIES[3].slug]
    first = get(url)
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    assert etag and parsedate_to_datetime(modified) == STORIES[3].modified
    assert get(url, If_None_Match=etag).status == 304
    not_modified = get(url, If_None_Match=f'"other", {etag}')
    assert not_modified.status == 304 and body(not_modified) == b"" and not_modified.header("ETag") == etag
    weak = get(url, Accept_Encoding="gzip").header("ETag")
    assert weak == "W/" + etag and get(url, If_None_Match=weak, Accept_Encoding="gzip").status == 304
    assert get(url, If_Modified_Since=modified).status == 304
    earlier = format_datetime(parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True)
    assert get(url, If_Modified_Since=earlier).status == 200
    assert get(url, If_None_Match='"stale"', If_Modified_Since=modified).status == 200, "ETag wins"


def test_request_log_records_method_path_and_headers(fresh_demo_sites: DemoServer) -> None:
    urls = fresh_demo_sites.urls("kronenpost")
    get(urls.home + "?utm_source=test", User_Agent="demo-test/1")
    get(urls.robots, "HEAD")
    log = fresh_demo_sites.requests["kronenpost"]
    assert [(r.method, r.path) for r in log] == [("GET", "/?utm_source=test"), ("HEAD", "/robots.txt")]
    assert log[0].headers["User-Agent"] == "demo-test/1" and log[0].at <= log[1].at
    assert fresh_demo_sites.requests["wien24"] == []
    fresh_demo_sites.clear_requests()
    assert fresh_demo_sites.requests["kronenpost"] == []


def test_update_story_changes_page_etag_and_last_modified(fresh_demo_sites: DemoServer) -> None:
    story = STORIES[4]
    url = fresh_demo_sites.article_url("nx24", story.slug)
    before = get(url)
    new = fresh_demo_sites.update_story("nx24", story.slug, [*story.paragraph_texts()[:-1], "Korrektur: Neu."])
    after = get(url)
    assert after.header("ETag") != before.header("ETag")
    assert parsedate_to_datetime(after.header("Last-Modified")) > parsedate_to_datetime(before.header("Last-Modified"))
    assert get(url, If_None_Match=before.header("ETag")).status == 200
    assert get(url, If_None_Match=after.header("ETag")).status == 304
    text = page_text(body(after))
    assert "Korrektur: Neu." in text and story.paragraph_texts()[-1] not in text
    assert fresh_demo_sites.stories("nx24")[0] == new
    sitemap = body(get(fresh_demo_sites.urls("nx24").sitemap)).decode()
    assert new.modified.isoformat() in sitemap
    with pytest.raises(KeyError):
        fresh_demo_sites.update_story("nx24", "no-such-story", ["x"])


def test_sites_toml_loads_and_patterns_fit_the_urls(demo_sites: DemoServer, tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_text(demo_sites.sites_toml(), encoding="utf-8")
    sites = load_sites(path)
    assert set(sites) == set(render.OUTLETS)
    for key, config in sites.items():
        urls = demo_sites.urls(key)
        assert config.start_urls == (urls.home,) and config.feeds == (urls.feed,)
        assert config.sitemaps == (urls.sitemap_index,) and config.article_pattern
        pattern = re.compile(config.article_pattern)
        for url in (*urls.articles.values(), *urls.legacy.values()):
            assert pattern.search(url) and pattern.search(url + "?utm_source=x") and pattern.search(url + "#k")
        for url in (urls.home, urls.feed, urls.sitemap, urls.pdf, *urls.sections.values()):
            assert not pattern.search(url), url
    bare = load_sites(_write(tmp_path / "bare.toml", demo_sites.sites_toml(feeds=False, sitemaps=False,
                                                                         patterns=False)))
    assert all(not c.feeds and not c.sitemaps and not c.article_pattern for c in bare.values())


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_story_on_every_outlet(demo_server_factory) -> None:  # type: ignore[no-untyped-def]
    server = demo_server_factory(stories_per_outlet="all", outlets=["newsflux", "siamkurier"])
    assert set(server.sites) == {"newsflux", "siamkurier"}
    for outlet in server.sites:
        urls = server.urls(outlet)
        assert len(urls.articles) == 5
        for story in STORIES:
            text = page_text(body(get(urls.articles[story.slug])))
            assert all(norm(s) in text for s in story.body_sentences()), (outlet, story.id)
            assert all(norm(c.text) in text for c in render.page_chrome(outlet, story).lines())
    with pytest.raises(ValueError):
        demo_server_factory(stories_per_outlet="some")


# -- hostile pages -------------------------------------------------------------------------------------------

def test_hostile_pages(demo_server_factory) -> None:  # type: ignore[no-untyped-def]
    server = demo_server_factory(hostile=True, outlets=["wien24"], huge_bytes=3_000_000, stall_seconds=30)
    urls = server.urls("wien24")
    assert set(urls.hostile) == {"loop", "stall", "charset", "huge", "malformed", "binary"}
    home_links = {urljoin(urls.home, h) for h in lxml.html.fromstring(body(get(urls.home))).xpath("//a/@href")}
    assert set(urls.hostile.values()) <= home_links
    first = get(urls.hostile["loop"])
    second = get(first.header("Location"))
    assert first.status == second.status == 302 and second.header("Location") == urls.hostile["loop"]
    charset = get(urls.hostile["charset"])
    assert "utf-8" in charset.header("Content-Type") and b"<meta charset=\"utf-8\">" in body(charset)
    with pytest.raises(UnicodeDecodeError):
        body(charset).decode("utf-8")
    huge = get(urls.hostile["huge"])
    assert len(body(huge)) == int(huge.header("Content-Length")) == 3_000_000
    assert get(urls.hostile["huge"], "HEAD").header("Content-Length") == "3000000"
    malformed = body(get(urls.hostile["malformed"]))
    assert b"\x00" in malformed and not malformed.rstrip().endswith(b"</html>")
    lxml.html.fromstring(malformed.replace(b"\x00", b""))  # parsers can cope, barely
    binary = get(urls.hostile["binary"])
    assert binary.header("Content-Type").startswith("text/html") and len(body(binary)) == 65536
    with pytest.raises(UnicodeDecodeError):
        body(binary).decode("utf-8")


def test_stalled_page_times_out_and_close_does_not_wait_for_it(demo_server_factory) -> None:  # type: ignore[no-untyped-def]
    server = demo_server_factory(hostile=True, outlets=["nx24"], stall_seconds=30)
    url = server.urls("nx24").hostile["stall"]
    with pytest.raises((socket.timeout, TimeoutError)):
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.netloc, timeout=0.5)
        conn.request("GET", parts.path)
        conn.getresponse()
    waiting = threading.Thread(target=lambda: _swallow(url), daemon=True)
    waiting.start()
    time.sleep(0.2)
    started = time.monotonic()
    server.close()
    waiting.join(timeout=5)
    assert time.monotonic() - started < 3 and not waiting.is_alive()


def _swallow(url: str) -> None:
    try:
        get(url)
    except (OSError, http.client.HTTPException):
        pass


def test_huge_page_defaults_to_twenty_megabytes(demo_server_factory) -> None:  # type: ignore[no-untyped-def]
    server = demo_server_factory(hostile=True, outlets=["newsflux"])
    head = get(server.urls("newsflux").hostile["huge"], "HEAD")
    assert head.status == 200 and int(head.header("Content-Length")) == 20 * 1024 * 1024


def test_no_hostile_pages_by_default(demo_sites: DemoServer) -> None:
    urls = demo_sites.urls("wien24")
    assert urls.hostile == {}
    home = body(get(urls.home)).decode()
    assert "Weiterleitung" not in home


# The main thread blocks the signal, so the kernel hands it to another thread and the main thread's own
# blocking call is never interrupted: what happens when a signal lands between the interpreter's last
# check and the start of the wait (threading.Event().wait() then waits forever).
SIGNAL_ELSEWHERE = """
import os, signal, sys, threading, time
from newsarchive.demo.server import wait_for_signal

class Stop(Exception):
    pass

def raise_stop(signum, frame):
    raise Stop

def send_once_main_sleeps():
    waiting.wait()
    stat = f"/proc/self/task/{main}/stat"
    for _ in range(20_000):  # until the main thread sleeps in the kernel; 20 s at most
        with open(stat) as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "S":
                break
        time.sleep(0.001)
    os.kill(os.getpid(), signal.SIGUSR1)

signal.signal(signal.SIGUSR1, raise_stop)
main = threading.get_native_id()
waiting = threading.Event()
threading.Thread(target=send_once_main_sleeps, daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
waiting.set()
try:
    wait_for_signal()
except Stop:
    print("stopped")
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc to see a thread sleep")
def test_wait_for_signal_sees_a_signal_the_main_thread_was_not_woken_by() -> None:
    proc = subprocess.run([sys.executable, "-c", SIGNAL_ELSEWHERE], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "stopped", proc.stderr


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_module_runs_in_the_foreground_until_interrupted(stop_signal: signal.Signals) -> None:
    # started with SIGINT ignored, as a background job of a non-interactive shell is (a CI step that runs the
    # tests with `&`): the server must stop on Ctrl-C all the same
    proc = subprocess.Popen(["sh", "-c", 'trap "" INT; exec "$0" -m newsarchive.demo.server', sys.executable],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in render.OUTLETS]  # type: ignore[union-attr]
        outlets = dict(line.split() for line in lines)
        assert set(outlets) == set(render.OUTLETS)
        assert get(outlets["wien24"]).status == 200
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "stopping" in out and "Traceback" not in err
        assert "GET /" not in err, "request handlers do not log to stderr"
    finally:
        if proc.poll() is None:
            proc.kill()
