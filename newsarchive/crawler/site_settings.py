"""Per-site request settings from ``sites.toml``: headers, User-Agent, proxy, download delay, concurrency.

A downloader middleware (enabled in ``newsarchive/settings.py`` at 380, see the comment there). For each
request of a site whose ``[sites.NAME]`` table sets them:

* ``headers`` and ``user_agent`` are set unless the request already carries that header (a spider's
  ``If-None-Match`` stays); running before DefaultHeaders (400) and UserAgent (500), they win over the crawl's
  ``DEFAULT_REQUEST_HEADERS`` and ``USER_AGENT``, and CaptureMiddleware (650) archives them with the request;
* ``proxy`` goes into ``request.meta["proxy"]`` (unless set), for HttpProxyMiddleware (750);
* ``download_delay`` and ``concurrency`` configure the site's download slot, one per host (``host:port``)
  of the site, as Scrapy's ``DOWNLOAD_SLOTS`` setting would (a ``DOWNLOAD_SLOTS`` entry for that key wins).
  A site's own ``download_delay`` is a fixed delay: AutoThrottle does not lower (or raise) it. With the
  crawl's ``DOWNLOAD_DELAY = 0``, a site with ``concurrency`` gets a 1 ms delay: Scrapy 2.19 on the asyncio
  reactor starts every queued request of a slot at once when its delay is 0 (the transfers begin in tasks that
  have not run yet when the slot counts its free places), so no per-slot concurrency holds without a delay.

The site of a request is the spider's attribution (``newsarchive_site`` meta, or ``spider.site_of(url)`` for
requests such as robots.txt that Scrapy makes itself). robots.txt rules are still checked for the crawl's
``USER_AGENT`` (RobotsTxtMiddleware runs at 100, before the site's User-Agent is set).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.crawler.sites import META_SITE, SiteConfig

logger = logging.getLogger(__name__)

MIN_DELAY = 0.001  # seconds; see the module doc (per-slot concurrency needs a delay above 0)


def has_request_settings(site: SiteConfig) -> bool:
    return bool(site.headers or site.user_agent or site.proxy or site.download_delay is not None
                or site.concurrency is not None)


def slot_settings(site: SiteConfig) -> dict[str, Any]:
    """The ``DOWNLOAD_SLOTS`` entry of the site's hosts (empty when it sets neither delay nor concurrency)."""
    out: dict[str, Any] = {}
    if site.download_delay is not None:
        out["delay"] = site.download_delay
    if site.concurrency is not None:
        out["concurrency"] = site.concurrency
    return out


class SiteSettingsMiddleware:
    def __init__(self, crawler: Crawler):
        if not crawler.settings.getbool("NEWSARCHIVE_SITE_SETTINGS_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_SITE_SETTINGS_ENABLED is off")
        self.crawler = crawler
        self.sites: dict[str, SiteConfig] = {}
        self.configured: set[str] = set()  # slot keys whose settings are in place
        self.no_delay = crawler.settings.getfloat("DOWNLOAD_DELAY") <= 0
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteSettingsMiddleware:
        return cls(crawler)

    def spider_opened(self, spider: Any = None) -> None:
        sites = getattr(self.crawler.spider, "sites", None) or ()
        self.sites = {s.name: s for s in sites if isinstance(s, SiteConfig) and has_request_settings(s)}
        for site in self.sites.values():
            logger.info("site %s: request settings %s", site.name, _describe(site))

    def site_of(self, request: Request) -> SiteConfig | None:
        name = request.meta.get(META_SITE)
        if name is not None:
            return self.sites.get(str(name))
        find = getattr(self.crawler.spider, "site_of", None)
        site = find(request.url) if find is not None else None
        return self.sites.get(site.name) if isinstance(site, SiteConfig) else None

    def process_request(self, request: Request, spider: Any = None) -> None:
        if not self.sites:
            return
        site = self.site_of(request)
        if site is None:
            return
        for name, value in site.headers:
            request.headers.setdefault(name, value)
        if site.user_agent:
            request.headers.setdefault(b"User-Agent", site.user_agent)
        if site.proxy and "proxy" not in request.meta:
            request.meta["proxy"] = site.proxy
        slot = slot_settings(site)
        if "concurrency" in slot and "delay" not in slot and self.no_delay:
            slot["delay"] = MIN_DELAY
        if slot:
            self._use_slot(request, site, slot)

    def _use_slot(self, request: Request, site: SiteConfig, slot: dict[str, Any]) -> None:
        key = (urlsplit(request.url).netloc or "").lower()
        request.meta.setdefault("download_slot", key)
        if "delay" in slot:
            request.meta.setdefault("autothrottle_dont_adjust_delay", True)
        if key in self.configured:
            return
        self.configured.add(key)
        try:
            downloader = self.crawler.engine.downloader
        except RuntimeError:  # no crawl running (a component test): the request meta is all there is
            return
        chosen = downloader.per_slot_settings.setdefault(key, dict(slot))
        existing = downloader.slots.get(key)
        if existing is not None:  # made before this site's first request (another site on the same host)
            existing.delay = chosen.get("delay", existing.delay)
            existing.concurrency = chosen.get("concurrency", existing.concurrency)
        logger.debug("site %s: download slot %s %s", site.name, key, chosen)


def _describe(site: SiteConfig) -> str:
    parts = [f"{k}={v}" for k, v in slot_settings(site).items()]
    if site.user_agent:
        parts.append(f"user_agent={site.user_agent!r}")
    if site.headers:
        parts.append("headers=" + ",".join(name for name, _ in site.headers))
    if site.proxy:
        parts.append("proxy=" + site.proxy.split("@")[-1])  # never log proxy credentials
    return " ".join(parts)
