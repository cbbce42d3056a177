"""scrapy-playwright's download handler, started on the first page to render (see :mod:`newsarchive.crawler.browser`).

In its own module so that only crawls that render import Playwright: ``newsarchive crawl`` switches back to
Scrapy's HTTP handlers when no site has ``render = true`` (:func:`newsarchive.service.crawl.without_unused_browser`).
"""

from __future__ import annotations

import asyncio

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from newsarchive.crawler.browser import CHROMIUM_ARGS, DEFAULT_EXECUTABLE, browser_executable


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's download handler, started on the first request to render (``meta["playwright"]``)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        crawler.signals.disconnect(self._maybe_launch_in_thread, signal=signals.engine_started)
        options = self.config.launch_options
        executable = browser_executable(crawler.settings.get("NEWSARCHIVE_BROWSER_EXECUTABLE", DEFAULT_EXECUTABLE))
        if executable and "executable_path" not in options:
            options["executable_path"] = executable
        options.setdefault("headless", True)
        options.setdefault("args", list(CHROMIUM_ARGS))
        self._started = False
        self._start_lock = asyncio.Lock()

    async def download_request(self, request: Request) -> Response:  # type: ignore[override]
        if request.meta.get("playwright") and not self._started:
            async with self._start_lock:
                if not self._started:
                    await self._launch()
                    self._started = True
        return await super().download_request(request)
