"""How newsarchive.service.crawl configures Scrapy for one crawl (the crawls themselves: test_crawl_e2e)."""

from __future__ import annotations

from pathlib import Path

from scrapy.utils.conf import build_component_list

from newsarchive.archive.home import ArchiveHome
from newsarchive.service.crawl import (
    REMOTE_CONTROL,
    CrawlOptions,
    crawl_settings,
    without_disabled_remote_control,
)


def extensions(tmp_path: Path, **settings: object) -> list[str]:
    options = CrawlOptions(settings=dict(settings))
    configured = without_disabled_remote_control(crawl_settings(ArchiveHome.resolve(str(tmp_path)), options))
    return list(build_component_list(configured.getwithbase("EXTENSIONS")))


def test_remote_control_is_not_even_imported_when_off(tmp_path: Path) -> None:
    off = extensions(tmp_path)  # newsarchive.settings: REMOTE_CONTROL_ENABLED = False
    assert REMOTE_CONTROL not in off
    assert "newsarchive.crawler.extensions.ProgressExtension" in off and "scrapy.extensions.corestats.CoreStats" in off


def test_remote_control_stays_when_enabled(tmp_path: Path) -> None:
    assert REMOTE_CONTROL in extensions(tmp_path, REMOTE_CONTROL_ENABLED=True)
