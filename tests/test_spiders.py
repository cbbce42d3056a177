"""Spider policies without a reactor: site attribution, article URLs, page budget, arguments."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from newsarchive.archive.owner import process_owner
from newsarchive.crawler.sites import SitesConfigError
from newsarchive.spiders.base import QUEUE_OWNER, disk_queue
from newsarchive.spiders.news import NewsSpider


def spider(tmp_path: Path, **kwargs: object) -> NewsSpider:
    crawler = get_crawler(NewsSpider, {"NEWSARCHIVE_HOME": str(tmp_path)})
    return NewsSpider.from_crawler(crawler, **kwargs)  # type: ignore[no-any-return]


def test_budget_counts_distinct_urls_only(tmp_path: Path) -> None:
    s = spider(tmp_path, url="http://127.0.0.1:8000/", max_pages="2")
    site = s.sites[0]
    first = s.make_request("http://127.0.0.1:8000/a?utm_source=x", site, "section", s.parse_section)
    assert first is not None and first.url == "http://127.0.0.1:8000/a"
    assert s.make_request("http://127.0.0.1:8000/a#top", site, "section", s.parse_section) is None
    assert s.make_request("http://127.0.0.1:8000/b", site, "section", s.parse_section) is not None
    assert s.make_request("http://127.0.0.1:8000/c", site, "section", s.parse_section) is None, "budget spent"
    assert s.crawler.stats.get_value("newsarchive/skipped/max_pages") == 1


def test_site_attribution_and_article_urls(tmp_path: Path) -> None:
    s = spider(tmp_path, url="http://127.0.0.1:8000/,http://127.0.0.1:9000/")
    one, two = s.sites
    assert s.site_of("http://127.0.0.1:9000/x") is two and s.site_of("http://127.0.0.1:8000/x") is one
    assert s.site_of("http://elsewhere.example/x") is None
    assert s.is_article_url("http://127.0.0.1:8000/politik/putin-will-kim-jong-un-besuchen-12345.html", one)
    for nav in ("/", "/politik/", "/tag/russland", "/autor/anna-muster", "/impressum"):
        assert not s.is_article_url("http://127.0.0.1:8000" + nav, one), nav


def test_missing_site_arguments_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SitesConfigError, match="no site given"):
        spider(tmp_path)


def test_requests_queue_on_disk_with_scrapys_own_scheduler_only(tmp_path: Path) -> None:
    def crawler(**settings: object) -> Crawler:
        return Crawler(NewsSpider, {"NEWSARCHIVE_HOME": str(tmp_path), **settings})

    own = crawler()
    queue = disk_queue(own)
    assert queue is not None and own.settings["JOBDIR"] == queue.name and Path(queue.name).is_dir()
    queue.cleanup()
    assert disk_queue(crawler(JOBDIR=str(tmp_path / "resumable"))) is None, "the user's JOBDIR stays"
    assert disk_queue(crawler(SCHEDULER="newsarchive.crawler.frontier.RedisScheduler")) is None, "queue in Redis"
    assert disk_queue(crawler(NEWSARCHIVE_DISK_QUEUE=False)) is None
    assert disk_queue(get_crawler(NewsSpider)) is None, "settings frozen: the scheduler exists already"


def test_a_crawl_removes_the_queues_of_killed_crawls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crawl killed with SIGKILL leaves its queue directory behind; the next crawl removes it, and only it."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead = {**process_owner(), "pid": int(gone.stdout), "start": 1}  # a process that has ended
    queues = {name: tmp_path / f"newsarchive-queue-{name}" for name in ("killed", "running", "unowned")}
    for name, path in queues.items():
        (path / "requests.queue").mkdir(parents=True)
        if name != "unowned":
            (path / QUEUE_OWNER).write_text(json.dumps(dead if name == "killed" else process_owner()))
    queue = disk_queue(Crawler(NewsSpider, {"NEWSARCHIVE_HOME": str(tmp_path)}))
    assert queue is not None and Path(queue.name).parent == tmp_path
    assert json.loads((Path(queue.name) / QUEUE_OWNER).read_text()) == process_owner()
    assert not queues["killed"].exists()
    assert queues["running"].is_dir() and queues["unowned"].is_dir(), "a live crawl's and an unknown queue stay"
    queue.cleanup()


LINKS = ["/politik/a-b-c-d-12345.html", "//127.0.0.1:8000/x", "http://127.0.0.1:8000/y", "https://other.example/z",
         "/a/../b", "/./c", "/d;p", "/e?", "/f#", "/g?x=1#y", "/h i", "/j\tk", "/ä", "//", "///a", "http://", "?q",
         "#top", "rel/ative.html", "../up.html", "mailto:x@example.org", "HTTP://127.0.0.1:8000/U", "/k//l", "/"]


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000/politik/seite.html", "https://www.example.org/a/b/"])
def test_page_links_join_like_urljoin(base: str) -> None:
    from urllib.parse import urljoin, urlsplit

    from newsarchive.spiders.sections import PageLinks

    links = PageLinks(base)
    for href in LINKS:
        joined = links.join(href)
        assert joined is not None and joined[0] == urljoin(base, href), href
        assert not joined[1] or urlsplit(joined[0]).netloc == urlsplit(base).netloc, href
    assert links.join("/politik/x.html") == (urljoin(base, "/politik/x.html"), True)  # the short cut was taken


def test_a_link_urljoin_rejects_is_skipped_and_counted(tmp_path: Path) -> None:
    """``http://[ccpa-preferences]`` (a real page's link) made urljoin raise, which lost the page's other links."""
    from scrapy.http import HtmlResponse, Request

    from newsarchive.crawler.session import ArchiveSession

    s = spider(tmp_path, url="http://127.0.0.1:8000/")
    ArchiveSession.of(s.crawler)  # the archive's keys: none yet
    body = b'<a href="http://[ccpa-preferences]">x</a> <a href="/politik/putin-will-kim-jong-un-besuchen-12345.html">y</a>'
    response = HtmlResponse("http://127.0.0.1:8000/", body=body, encoding="utf-8",
                            request=Request("http://127.0.0.1:8000/"))
    urls = [r.url for r in s.follow_links(response, s.sites[0])]
    assert urls == ["http://127.0.0.1:8000/politik/putin-will-kim-jong-un-besuchen-12345.html"]
    assert s.crawler.stats.get_value("newsarchive/skipped/bad_link") == 1
