"""The Scrapy add-on in someone else's project: a tiny Scrapy project of its own (spider, settings, a pipeline)
with ``ADDONS = {"newsarchive.crawler.addon.NewsArchiveAddon": 0}`` crawls local demo sites; its WARCs,
index and articles are checked, and its feed export and log carry no page HTML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.warc import WARC_SUFFIX

SETTINGS = '''
BOT_NAME = "tinynews"
SPIDER_MODULES = ["tinynews.spiders"]
ADDONS = {{"newsarchive.crawler.addon.NewsArchiveAddon": 0}}
NEWSARCHIVE_HOME = {home!r}
NEWSARCHIVE_EXTRACTION_WORKERS = 1
ROBOTSTXT_OBEY = True
DOWNLOAD_DELAY = 0
ITEM_PIPELINES = {{"tinynews.pipelines.Stamp": 100}}
LOG_LEVEL = "DEBUG"
'''

PIPELINES = '''
class Stamp:
    """The project's own pipeline: runs before extraction, and its field reaches the feed."""

    def process_item(self, item, spider=None):
        item["stamped"] = True
        return item
'''

SPIDER = '''
import scrapy


class Headline(scrapy.Item):
    url = scrapy.Field()
    headline = scrapy.Field()
    title = scrapy.Field()  # declared: the add-on fills it; "text" is not declared, so it stays out
    stamped = scrapy.Field()


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, urls="", item_urls="", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = urls.split(",")
        self.item_urls = set(item_urls.split(","))

    def parse(self, response):
        headline = response.css("h1::text").get()
        if response.url in self.item_urls:
            yield Headline(url=response.url, headline=headline)
        else:
            yield {"url": response.url, "headline": headline}
        yield {"note": "an item without a url is passed through untouched"}
'''


def make_project(root: Path, home: Path) -> Path:
    package = root / "tinynews"
    (package / "spiders").mkdir(parents=True)
    (root / "scrapy.cfg").write_text("[settings]\ndefault = tinynews.settings\n")
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS.format(home=str(home)))
    (package / "pipelines.py").write_text(PIPELINES)
    (package / "spiders" / "__init__.py").write_text("")
    (package / "spiders" / "news.py").write_text(SPIDER)
    return root


@pytest.mark.slow
def test_addon_in_a_separate_scrapy_project(tmp_path: Path, demo_sites: Any) -> None:
    outlets = sorted(demo_sites.sites)[:2]
    urls = [u for outlet in outlets for u in demo_sites.urls(outlet).articles.values()]
    item_url = urls[-1]
    home = tmp_path / "home"
    project = make_project(tmp_path / "project", home)
    scrapy = Path(sys.executable).with_name("scrapy")
    done = subprocess.run([str(scrapy), "crawl", "news", "-a", f"urls={','.join(urls)}", "-a", f"item_urls={item_url}",
                           "-O", "items.jsonl"], cwd=project, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stderr
    assert "NewsArchiveAddon" in log and "Scraped from" in log
    assert "<html" not in log.lower() and "<!doctype" not in log.lower()  # no page HTML in item reprs

    warcs = list((home / "warcs").glob(f"*{WARC_SUFFIX}"))
    assert warcs and not list((home / "warcs").glob("*.open"))
    index = ArchiveIndex(f"sqlite:///{home / 'index.sqlite'}")
    with index.sessions() as s:
        captured = set(s.scalars(select(Capture.url)))
        articles = {a.url: a for a in s.scalars(select(Article))}
    assert set(urls) <= captured and any(u.endswith("/robots.txt") for u in captured)
    assert set(articles) == set(urls)
    assert all(a.status == "ok" and a.title and a.word_count > 50 and a.metadata_record_id for a in articles.values())
    index.close()

    feed = [json.loads(line) for line in (project / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "<html" not in json.dumps(feed).lower()
    by_url = {row["url"]: row for row in feed if "url" in row}
    assert set(by_url) == set(urls) and len(feed) == 2 * len(urls)
    plain = by_url[urls[0]]
    assert plain["title"] == articles[urls[0]].title and plain["text"] == articles[urls[0]].text
    assert plain["stamped"] is True and plain["headline"] and plain["language"] == articles[urls[0]].language
    declared = by_url[item_url]
    assert declared["title"] == articles[item_url].title and "text" not in declared
    assert {row["note"] for row in feed if "url" not in row} == {"an item without a url is passed through untouched"}
