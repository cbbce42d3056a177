"""How newsarchive.service.crawl configures Scrapy for one crawl (the crawls themselves: test_crawl_e2e)."""

from __future__ import annotations

from pathlib import Path

from scrapy.utils.conf import build_component_list

from newsarchive.archive.home import ArchiveHome
from newsarchive.service.crawl import (
    COOKIES,
    REMOTE_CONTROL,
    CrawlOptions,
    crawl_settings,
    without_disabled_components,
)


def extensions(tmp_path: Path, setting: str = "EXTENSIONS", **settings: object) -> list[str]:
    options = CrawlOptions(settings=dict(settings))
    configured = without_disabled_components(crawl_settings(ArchiveHome.resolve(str(tmp_path)), options))
    return list(build_component_list(configured.get_component_priority_dict_with_base(setting)))


def test_remote_control_is_not_even_imported_when_off(tmp_path: Path) -> None:
    off = extensions(tmp_path)  # newsarchive.settings: REMOTE_CONTROL_ENABLED = False
    assert REMOTE_CONTROL not in off
    assert "newsarchive.crawler.extensions.ProgressExtension" in off and "scrapy.extensions.corestats.CoreStats" in off


def test_remote_control_stays_when_enabled(tmp_path: Path) -> None:
    assert REMOTE_CONTROL in extensions(tmp_path, REMOTE_CONTROL_ENABLED=True)


def test_the_cookies_middleware_is_not_imported_when_cookies_are_off(tmp_path: Path) -> None:
    """newsarchive.settings: COOKIES_ENABLED = False; the middleware's module imports tldextract."""
    off = extensions(tmp_path, "DOWNLOADER_MIDDLEWARES")
    assert COOKIES not in off and "newsarchive.crawler.middlewares.CaptureMiddleware" in off
    assert COOKIES in extensions(tmp_path, "DOWNLOADER_MIDDLEWARES", COOKIES_ENABLED=True)
