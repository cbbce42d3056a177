"""Per-site request settings from sites.toml (SiteSettingsMiddleware): headers, User-Agent, proxy, download
delay and concurrency, in a component test and in a whole crawl of local sites on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from newsarchive.crawler.site_settings import SiteSettingsMiddleware, slot_settings
from newsarchive.crawler.sites import SiteConfig, load_sites

ARTICLES = 5


class FakeSpider(Spider):
    name = "fake"

    def __init__(self, sites: list[SiteConfig], **kw: Any):
        super().__init__(**kw)
        self.sites = sites

    def site_of(self, url: str) -> SiteConfig | None:
        return next((s for s in self.sites if any(url.startswith(u) for u in s.start_urls)), None)


def middleware(sites: list[SiteConfig]) -> SiteSettingsMiddleware:
    crawler = get_crawler(FakeSpider)
    crawler.spider = FakeSpider(sites)
    mw = SiteSettingsMiddleware.from_crawler(crawler)
    mw.spider_opened()
    return mw


def test_headers_user_agent_and_proxy_are_set_unless_the_request_has_them() -> None:
    site = SiteConfig("a", start_urls=("http://a.example/",), user_agent="research-bot/1",
                      headers=(("Accept-Language", "de-AT"), ("If-None-Match", '"site"')),
                      proxy="http://user:pw@127.0.0.1:3128")
    mw = middleware([site, SiteConfig("b", start_urls=("http://b.example/",))])
    request = Request("http://a.example/x", headers={"If-None-Match": '"mine"'}, meta={"newsarchive_site": "a"})
    mw.process_request(request)
    assert request.headers[b"User-Agent"] == b"research-bot/1"
    assert request.headers[b"Accept-Language"] == b"de-AT"
    assert request.headers[b"If-None-Match"] == b'"mine"'  # the spider's conditional GET stays
    assert request.meta["proxy"] == "http://user:pw@127.0.0.1:3128"
    robots = Request("http://a.example/robots.txt")  # no site meta: attributed by spider.site_of
    mw.process_request(robots)
    assert robots.meta["proxy"] == "http://user:pw@127.0.0.1:3128"
    other = Request("http://b.example/y", meta={"newsarchive_site": "b"})
    mw.process_request(other)
    assert b"User-Agent" not in other.headers and "proxy" not in other.meta and "download_slot" not in other.meta


def test_delay_and_concurrency_give_the_site_its_own_slot() -> None:
    site = SiteConfig("a", start_urls=("http://127.0.0.1:8001/",), download_delay=2.0, concurrency=1)
    assert slot_settings(site) == {"delay": 2.0, "concurrency": 1}
    assert slot_settings(SiteConfig("b", start_urls=("http://x/",), concurrency=3)) == {"concurrency": 3}
    mw = middleware([site])
    request = Request("http://127.0.0.1:8001/a.html", meta={"newsarchive_site": "a"})
    mw.process_request(request)
    assert request.meta["download_slot"] == "127.0.0.1:8001"  # per host:port, apart from other local sites
    assert request.meta["autothrottle_dont_adjust_delay"] is True


def test_concurrency_without_any_delay_gets_a_minimal_one() -> None:
    site = SiteConfig("a", start_urls=("http://127.0.0.1:8001/",), concurrency=1)
    crawler = get_crawler(FakeSpider, {"DOWNLOAD_DELAY": 0})
    crawler.spider = FakeSpider([site])
    mw = SiteSettingsMiddleware.from_crawler(crawler)
    mw.spider_opened()
    request = Request("http://127.0.0.1:8001/a.html", meta={"newsarchive_site": "a"})
    mw.process_request(request)
    assert request.meta["autothrottle_dont_adjust_delay"] is True  # the 1 ms delay stays


def test_switched_off() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        SiteSettingsMiddleware(get_crawler(FakeSpider, {"NEWSARCHIVE_SITE_SETTINGS_ENABLED": False}))


# -- a whole crawl -------------------------------------------------------------------------------------------
@dataclass
class Site:
    """A local news site; ``slow``: article answers take that long (so concurrent fetches overlap)."""

    slow: float = 0.0
    log: list[tuple[str, str, dict[str, str], float]] = field(default_factory=list)  # (host, path, headers, t)
    active: int = 0
    most_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def serve(site: Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            with site.lock:
                site.log.append((self.headers.get("Host", ""), self.path, dict(self.headers), time.monotonic()))
                site.active += 1
                site.most_active = max(site.most_active, site.active)
            try:
                self.answer()
            finally:
                with site.lock:
                    site.active -= 1

        def answer(self) -> None:
            path = self.path.split("://", 1)[-1].partition("/")[2]  # absolute form (through a proxy) or not
            if path == "":
                links = "".join(f"<li><a href='/politik/bericht-{n}.html'>Bericht {n}</a></li>" for n in range(ARTICLES))
                self.reply(200, f"<html><body><h1>Start</h1><ul>{links}</ul></body></html>")
            elif path.startswith("politik/bericht-"):
                time.sleep(site.slow)  # the server's work for a page: what makes fetches overlap
                text = " ".join(f"Satz {i} des Berichts über die Hafenbrücke." for i in range(40))
                self.reply(200, f"<html><head><title>Bericht</title></head><body><article><h1>Bericht</h1>"
                                f"<p>{text}</p></article></body></html>")
            else:
                self.reply(404, "not found")

        def reply(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def sites() -> Iterator[dict[str, tuple[Site, str]]]:
    made = {"polite": Site(), "proxy": Site(), "single": Site(slow=0.3), "control": Site(slow=0.3)}
    servers = {name: serve(site) for name, site in made.items()}
    yield {name: (made[name], f"http://127.0.0.1:{servers[name].server_address[1]}") for name in made}
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_crawl_applies_each_sites_settings(tmp_path: Path, sites: dict[str, tuple[Site, str]]) -> None:
    toml = f"""
[sites.polite]
start_urls = ["{sites['polite'][1]}/"]
download_delay = 1.0
user_agent = "research-bot/1.0 (+mailto:lab@example.org)"
headers = {{ Accept-Language = "de-AT", X-Research = "media-study" }}

[sites.proxied]
start_urls = ["http://proxied.example/"]
proxy = "{sites['proxy'][1]}"

[sites.single]
start_urls = ["{sites['single'][1]}/"]
concurrency = 1

[sites.control]
start_urls = ["{sites['control'][1]}/"]
"""
    (tmp_path / "sites.toml").write_text(toml, encoding="utf-8")
    assert load_sites(tmp_path / "sites.toml")["polite"].download_delay == 1.0
    proc = subprocess.run(
        [sys.executable, "-m", "newsarchive", "crawl", "--sites", str(tmp_path / "sites.toml"), "--home",
         str(tmp_path / "home"), "-s", "DOWNLOAD_DELAY=0.05", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=1", "-s", "NEWSARCHIVE_REQUISITES_ENABLED=False"],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    polite = sites["polite"][0]
    pages = [entry for entry in polite.log if entry[1] != "/robots.txt"]
    assert len(pages) == 1 + ARTICLES, polite.log
    for _, _, headers, _ in pages:
        assert headers["User-Agent"] == "research-bot/1.0 (+mailto:lab@example.org)"
        assert (headers["Accept-Language"], headers["X-Research"]) == ("de-AT", "media-study")
    times = [t for *_, t in pages]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.45, gaps  # 1.0 s with Scrapy's ±50 % jitter: never below 0.5 s

    proxied = sites["proxy"][0]  # proxied.example does not resolve: every fetch went through the proxy
    assert {host for host, *_ in proxied.log} == {"proxied.example"}
    assert sum(1 for _, path, *_ in proxied.log if path.startswith("http://proxied.example/politik/")) == ARTICLES

    control = sites["control"][0]
    assert all("X-Research" not in h and h["User-Agent"].startswith("newsarchive/") for _, _, h, _ in control.log)
    assert sites["single"][0].most_active == 1  # concurrency = 1 ...
    assert control.most_active == 2  # ... where the crawl's 2 per host do overlap on the same slow server
