"""What a crawl's main process loads: the close-time work (story clusters, site templates) runs in a process
apart, and switched-off Scrapy components are not imported (newsarchive.extract.derived,
newsarchive.service.crawl.without_disabled_components)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, SiteTemplate, StoryCluster

pytestmark = pytest.mark.slow  # a whole crawl

RUN_AND_LIST_MODULES = """
import atexit, runpy, sys
out, sys.argv = sys.argv[1], ["newsarchive", *sys.argv[2:]]
atexit.register(lambda: open(out, "w").write("\\n".join(sys.modules)))
runpy.run_module("newsarchive", run_name="__main__", alter_sys=True)
"""


def test_the_main_process_leaves_clustering_and_disabled_components_alone(tmp_path: Path, demo_sites: Any) -> None:
    home, modules = tmp_path / "home", tmp_path / "modules.txt"
    home.mkdir()
    sites = home / "sites.toml"
    sites.write_text(demo_sites.sites_toml(), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", RUN_AND_LIST_MODULES, str(modules), "crawl", "--sites", str(sites),
                           "--home", str(home), "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                           "-s", "NEWSARCHIVE_EXTRACTION_WORKERS=1", "-s", "LOG_LEVEL=INFO"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    loaded = {name.split(".")[0] for name in modules.read_text().split()}
    assert "scrapy" in loaded and "newsarchive" in loaded  # the list is the crawl's
    assert not loaded & {"datasketch", "scipy", "numpy"}, "story clustering ran in the main process"
    assert not loaded & {"aiohttp", "tldextract"}, "a switched-off Scrapy component was imported"
    index = ArchiveIndex(ArchiveHome.resolve(str(home)).index_url, create=False)
    try:
        with index.sessions() as s:
            articles = s.scalar(select(func.count()).select_from(Article).where(Article.status == "ok"))
            clustered = s.scalar(select(func.count()).select_from(StoryCluster))
            learned = set(s.scalars(select(SiteTemplate.site)))
    finally:
        index.close()
    assert articles and clustered == articles  # the work was done, apart
    assert learned == {line.split(".", 1)[1].strip("[]") for line in sites.read_text().splitlines()
                       if line.startswith("[sites.")}
    # what the process apart logged reached the crawl's log
    assert "newsarchive.extract.learning: template of" in proc.stderr, proc.stderr[-3000:]
    assert "story clusters:" in proc.stderr
