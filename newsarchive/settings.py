"""Scrapy settings for newsarchive (``scrapy.cfg``: ``[settings] default = newsarchive.settings``).

Every component is enabled here with a comment on its priority. Our own settings start with
``NEWSARCHIVE_``; each switchable component has an ``_ENABLED`` toggle. Environment variables named like a
``NEWSARCHIVE_`` setting override it (``NEWSARCHIVE_INDEX_URL``, ``NEWSARCHIVE_HOME``, ...), see the end.
"""

from __future__ import annotations

import os

from newsarchive import __version__

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["newsarchive.spiders"]
NEWSPIDER_MODULE = "newsarchive.spiders"

# -- politeness -----------------------------------------------------------------------------------------
USER_AGENT = f"newsarchive/{__version__} (news archiving crawler; +https://pypi.org/project/newsarchive/)"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 0.5  # per download slot (host); AutoThrottle never goes below it
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2

# -- robustness -----------------------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024  # larger bodies are archived up to here, WARC-Truncated: length (truncation.py)
DOWNLOAD_FAIL_ON_DATALOSS = False  # a body cut by the peer is archived (WARC-Truncated: disconnect), then retried
NEWSARCHIVE_MAX_HEADER_LINE = 1024 * 1024  # longest response header line accepted (Twisted's own limit: 16 KiB)
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
REDIRECT_MAX_TIMES = 10  # redirect loops end here; every hop is archived
RETRY_ENABLED = True
RETRY_TIMES = 2
DNS_TIMEOUT = 20
COOKIES_ENABLED = False  # news sites use cookies for consent walls and tracking; we archive what anonymous readers get
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no control port listening during crawls
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"  # fair across hosts

# -- components -----------------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # 380: per-site headers, User-Agent, proxy, delay and concurrency from sites.toml; before DefaultHeaders
    # (400) and UserAgent (500) so a site's values win over the crawl's defaults, before HttpProxy (750) which
    # reads the proxy meta, and before Capture (650) so the archived request shows what was sent.
    "newsarchive.crawler.site_settings.SiteSettingsMiddleware": 380,
    # 650: above Redirect (600) and HttpCompression (590), so process_response sees the wire bytes,
    # Content-Encoding and every 3xx before they are rewritten.
    "newsarchive.crawler.middlewares.CaptureMiddleware": 650,
    # 640: enforces DOWNLOAD_MAXSIZE itself, keeping what arrived (Scrapy would drop it); its process_response
    # runs after Capture's has archived a truncated response, and retries one cut by the peer.
    "newsarchive.crawler.truncation.TruncationMiddleware": 640,
    # 700: render = true sites: marks their article requests for the browser (scrapy-playwright) and, as its
    # process_response runs before Capture's, archives every response the page loaded plus the rendered DOM
    # (a conversion record) itself, so Capture does not archive the DOM as if it were the wire response.
    "newsarchive.crawler.browser.BrowserMiddleware": 700,
    # 950: offline replay mode (off unless NEWSARCHIVE_OFFLINE_ENABLED): answers requests from the archive
    # last before the downloader; its responses still pass HttpCompression, Redirect and Capture (which
    # does not archive them again).
    "newsarchive.crawler.offline.OfflineReplayMiddleware": 950,
}
DOWNLOAD_HANDLERS = {
    # scrapy-playwright's handler, started only when a page is to be rendered; other requests go through
    # Scrapy's HTTP/1.1 handler as before (newsarchive/crawler/browser_handler.py); `newsarchive crawl` uses
    # Scrapy's handlers outright when no site renders
    "http": "newsarchive.crawler.browser_handler.BrowserDownloadHandler",
    "https": "newsarchive.crawler.browser_handler.BrowserDownloadHandler",
}
SPIDER_MIDDLEWARES = {
    # 850: page requisites (stylesheets, images, fonts, scripts) of archived pages, scheduled after the
    # spider's own output; below Depth (900) so requisites do not count as link depth, above Referer (700).
    "newsarchive.crawler.requisites.RequisitesMiddleware": 850,
}
ITEM_PIPELINES = {
    # 300: extraction off the reactor thread (process pool), then 800: WARC metadata record + index row.
    "newsarchive.crawler.pipelines.ExtractionPipeline": 300,
    "newsarchive.crawler.pipelines.IndexPipeline": 800,
}
EXTENSIONS = {
    # 500: progress line on stderr and a summary of newsarchive/* stats when the crawl ends.
    "newsarchive.crawler.extensions.ProgressExtension": 500,
}

# -- newsarchive ----------------------------------------------------------------------------------------
NEWSARCHIVE_HOME = ""  # "" -> $NEWSARCHIVE_HOME or ./newsarchive-data
NEWSARCHIVE_INDEX_URL = ""  # "" -> sqlite file index.sqlite in the home
NEWSARCHIVE_CAPTURE_ENABLED = True
NEWSARCHIVE_WARC_PREFIX = "newsarchive"
NEWSARCHIVE_WARC_MAX_SIZE = 1_000_000_000  # bytes; files rotate after the record that crosses it
NEWSARCHIVE_WARC_FSYNC = False  # fsync after every record (flush always happens before the index commit)
NEWSARCHIVE_WARC_OPERATOR = ""
NEWSARCHIVE_WORKER_ID = ""  # goes into WARC file names; default: host name
NEWSARCHIVE_EXTRACTION_ENABLED = True
NEWSARCHIVE_EXTRACTION_WORKERS = 2  # processes; 0 runs extraction in a thread
NEWSARCHIVE_EXTRACTION_MIN_WORDS = 20
NEWSARCHIVE_TEMPLATES_ENABLED = True  # learn each site's recurring chrome from the index; strip it on later pages
NEWSARCHIVE_INDEX_ENABLED = True
NEWSARCHIVE_INDEX_BATCH_SIZE = 500  # index rows per transaction (written by one background thread)
NEWSARCHIVE_INDEX_FLUSH_INTERVAL = 0.5  # seconds a queued index row waits at most before its batch commits
NEWSARCHIVE_MAX_LINKS_PER_PAGE = 5000  # links followed from one page at most (0: no limit)
NEWSARCHIVE_DISK_QUEUE = True  # waiting requests in a temporary JOBDIR on disk, not memory (not with your own JOBDIR)
NEWSARCHIVE_RECOVER_EXTRACTIONS = True  # at start, extract archived pages a killed crawl left unextracted
NEWSARCHIVE_TEST_KILL_AT = ""  # crash tests only: "captured|extracting|extracted:N" SIGKILLs the crawl there
NEWSARCHIVE_OFFLINE_ENABLED = False  # answer requests from the archive (developing spiders, no network)
NEWSARCHIVE_OFFLINE_TIMESTAMP = ""  # "" newest capture, else the capture nearest this 14-digit timestamp
NEWSARCHIVE_OFFLINE_MISS = "ignore"  # a URL not in the archive: "ignore" the request or answer "404"
NEWSARCHIVE_REQUISITES_ENABLED = True  # archive what pages need to render; per site: `requisites = false`
NEWSARCHIVE_REQUISITES_KINDS = "article"  # kinds of page whose requisites are fetched ("article,section")
NEWSARCHIVE_REQUISITES_PER_PAGE = 100  # new requisite URLs one page (or stylesheet) may add
NEWSARCHIVE_REQUISITES_MAX = 10_000  # requisite URLs per crawl
NEWSARCHIVE_REQUISITES_MAXSIZE = 16 * 1024 * 1024  # bytes; larger requisites (videos) are dropped
NEWSARCHIVE_BROWSER_ENABLED = True  # render `render = true` sites in headless Chromium (else fetch them plainly)
NEWSARCHIVE_BROWSER_EXECUTABLE = "/usr/bin/chromium"  # Debian's chromium; Playwright downloads no browser
NEWSARCHIVE_BROWSER_KINDS = "article"  # kinds of page rendered on render sites ("article,section")
NEWSARCHIVE_BROWSER_SETTLE = 5.0  # seconds at most to wait for lazy images after scrolling
NEWSARCHIVE_PROGRESS_ENABLED = True
NEWSARCHIVE_PROGRESS_INTERVAL = 10.0  # seconds between progress lines
NEWSARCHIVE_SITE_SETTINGS_ENABLED = True  # apply sites.toml download_delay/concurrency/user_agent/headers/proxy
# Several workers on one crawl (`newsarchive crawl --workers N`, `newsarchive worker`): see
# newsarchive/crawler/frontier.py and docs/deployment.md. The scheduler, duplicate filter and shared per-host
# delay are switched on by those commands (distributed_settings), not here.
NEWSARCHIVE_REDIS_URL = ""  # e.g. redis://queue:6379/0; queue and duplicate filter of the crawl
NEWSARCHIVE_REDIS_CRAWL = "main"  # name of the shared crawl a worker joins (its Redis keys)
NEWSARCHIVE_REDIS_PREFIX = "newsarchive"  # Redis key prefix: <prefix>:crawl:<name>:*, <prefix>:host:<host>
NEWSARCHIVE_REDIS_HEARTBEAT_TTL = 10.0  # seconds; a silent worker's in-flight requests are requeued after it


def _env_overrides(namespace: dict[str, object]) -> None:
    """``NEWSARCHIVE_*`` environment variables override the setting of the same name, typed like it."""
    for key, value in os.environ.items():
        if not key.startswith("NEWSARCHIVE_") or key not in namespace:
            continue
        default = namespace[key]
        try:
            namespace[key] = _typed(default, value)
        except ValueError as exc:
            raise ValueError(f"environment variable {key}={value!r}: expected {type(default).__name__}") from exc


def _typed(default: object, value: str) -> object:
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(value)
    if isinstance(default, float):
        return float(value)
    return value


_env_overrides(globals())
