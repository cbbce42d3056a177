"""What every newsarchive spider shares: sites from arguments, site attribution, article detection, limits.

Sites come from ``-a url=URL[,URL...]`` or ``-a sites=sites.toml [-a site=NAME[,NAME...]]`` (or, from the
CLI, ``sites=[SiteConfig, ...]``). Strategies (feeds, sitemaps, sections) are mixins that add start
requests and callbacks; :class:`newsarchive.spiders.news.NewsSpider` combines all three.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import courlan
import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from newsarchive.archive.charset import decode_html
from newsarchive.archive.index import KeySet, PriorCapture
from newsarchive.archive.models import FetchFailure
from newsarchive.archive.owner import owner_alive, process_owner
from newsarchive.archive.urls import canonicalize, url_key
from newsarchive.crawler.items import ArticleItem
from newsarchive.crawler.middlewares import (
    META_CAPTURE,
    META_KIND,
    META_PRIOR,
    META_UNCHANGED,
    AlreadyArchived,
)
from newsarchive.crawler.recrawl import RecrawlPolicy
from newsarchive.crawler.session import ArchiveSession, CaptureInfo
from newsarchive.crawler.sites import (
    META_SITE,
    SiteConfig,
    SitesConfigError,
    load_sites,
    select_sites,
    with_limits,
)

logger = logging.getLogger(__name__)

META_DEPTH = "newsarchive_depth"
HTML_TYPES = ("text/html", "application/xhtml+xml")
NAV_PATH = re.compile(
    r"/(tag|tags|thema|themen|topic|topics|author|autor|autoren|category|kategorie|rubrik|ressort|page|seite|"
    r"search|suche|login|abo|newsletter|impressum|datenschutz|kontakt|about|agb|privacy|video|videos|"
    r"podcast|wetter|horoskop|gewinnspiel)(/|$)", re.I,
)
ARTICLE_SHAPE = re.compile(r"(\d{5,}|[a-z0-9]+(-[a-z0-9]+){3,}|/\d{4}/\d{2}/|\.html?$)", re.I)
SKIP_EXTENSIONS = re.compile(r"\.(pdf|jpe?g|png|gif|webp|svg|mp3|mp4|zip|gz|css|js|ico|woff2?|xml|rss)$", re.I)


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def sites_from_args(url: Any = None, sites: Any = None, site: Any = None, **limits: Any) -> list[SiteConfig]:
    """Site configs from spider arguments; raises SitesConfigError with a clear message."""
    if isinstance(sites, (list, tuple)) and all(isinstance(s, SiteConfig) for s in sites):
        return list(sites)
    if sites:
        configs = select_sites(load_sites(sites), _split(site), sites)
    elif url:
        configs = [SiteConfig.from_urls([u]) for u in _split(url)]
    else:
        raise SitesConfigError("no site given: use -a url=URL or -a sites=sites.toml")
    def limit(name: str) -> int | None:
        value = limits.get(name)
        return None if value in (None, "") else int(value)

    return [with_limits(c, max_pages=limit("max_pages"), depth=limit("depth")) for c in configs]


class BaseNewsSpider(scrapy.Spider):
    """Shared machinery; subclasses mix in strategies and set ``name``."""

    name = ""  # only the concrete spiders in news.py have names (and are listed by `scrapy list`)
    strategies: tuple[str, ...] = ()

    def __init__(self, url: Any = None, sites: Any = None, site: Any = None, max_pages: Any = None,
                 depth: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.sites: list[SiteConfig] = sites_from_args(url, sites, site, max_pages=max_pages, depth=depth)
        self._by_netloc = self._netlocs()
        self.allowed_domains = sorted({d.split(":")[0] for s in self.sites for d in s.domains})
        self.requested: Counter[str] = Counter()
        self.seen_keys = KeySet()  # URL keys of the articles requested in this crawl
        self.requested_urls = KeySet()  # canonical URLs requested in this crawl
        self.policies = {s.name: RecrawlPolicy.parse(s.recrawl) for s in self.sites}
        self._priors: dict[str, PriorCapture | None] = {}  # recrawl candidates of the page being parsed
        self._page_keys: dict[str, str] = {}  # URL -> URL key of the links of the page being parsed
        self.run_args = {"sites": [s.name for s in self.sites], "strategies": list(self.strategies),
                         "max_pages": max_pages, "depth": depth}
        if os.environ.get("NEWSARCHIVE_SCHEDULE_RUN_ID"):  # set by `newsarchive schedule` for its crawls
            self.run_args["schedule_run_id"] = int(os.environ["NEWSARCHIVE_SCHEDULE_RUN_ID"])
        self.run_site = self.sites[0].name if len(self.sites) == 1 else None
        self.queue_dir: tempfile.TemporaryDirectory[str] | None = None  # see disk_queue()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> BaseNewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.queue_dir = disk_queue(crawler)
        return spider  # type: ignore[no-any-return]

    def _netlocs(self) -> dict[str, SiteConfig]:
        table: dict[str, SiteConfig] = {}
        for config in self.sites:
            for u in (*config.start_urls, *config.feeds, *config.sitemaps):
                table.setdefault(urlsplit(u).netloc.lower(), config)
        return table

    # -- site attribution and URL policy ------------------------------------------------------------------
    def site_of(self, url: str) -> SiteConfig | None:
        parts = urlsplit(url)
        config = self._by_netloc.get(parts.netloc.lower())
        if config is not None:
            return config
        host = (parts.hostname or "").lower()
        for config in self.sites:
            if config.allowed_domains and any(host == d or host.endswith("." + d) for d in config.allowed_domains):
                return config
        bare = host[4:] if host.startswith("www.") else host
        for netloc, config in self._by_netloc.items():
            other = netloc.split(":")[0]
            if (other[4:] if other.startswith("www.") else other) == bare and ":" not in netloc:
                return config
        return None

    def allowed(self, url: str, site: SiteConfig) -> bool:
        if not url.startswith(("http://", "https://")) or SKIP_EXTENSIONS.search(urlsplit(url).path):
            return False
        return not (site.exclude_pattern and re.search(site.exclude_pattern, url))

    def is_article_url(self, url: str, site: SiteConfig) -> bool:
        if site.article_pattern:
            return re.search(site.article_pattern, url) is not None
        path = urlsplit(url).path
        if path in ("", "/") or NAV_PATH.search(path) or courlan.is_navigation_page(url):
            return False
        return bool(ARTICLE_SHAPE.search(path))

    # -- request construction -------------------------------------------------------------------------------
    def make_request(self, url: str, site: SiteConfig, kind: str, callback: Any, *, depth: int = 0,
                     dont_filter: bool = False, meta: dict[str, Any] | None = None) -> Request | None:
        """A request within the site's page budget, or None when the budget is spent or the URL was
        already requested in this crawl (links back to the home page do not eat the budget)."""
        url = canonicalize(url)
        if not dont_filter and url in self.requested_urls:
            return None
        if site.max_pages and self.requested[site.name] >= site.max_pages:
            self.crawler.stats.inc_value("newsarchive/skipped/max_pages")
            return None
        self.requested[site.name] += 1
        self.requested_urls.add(url)
        return Request(
            url, callback=callback, errback=self.on_error, dont_filter=dont_filter,
            meta={META_KIND: kind, META_SITE: site.name, META_DEPTH: depth, **(meta or {})},
        )

    def budget_spent(self, site: SiteConfig) -> bool:
        """Whether the site's page budget is used up (then no more links need to be looked at)."""
        return bool(site.max_pages) and self.requested[site.name] >= (site.max_pages or 0)

    def listed_article_request(self, url: str, site: SiteConfig) -> Request | None:
        """An article listed in a feed or sitemap: trusted, unless the site's article_pattern says otherwise
        (sitemaps often list section and tag pages too)."""
        if site.article_pattern and not self.is_article_url(url, site):
            self.crawler.stats.inc_value("newsarchive/skipped/not_article_pattern")
            return None
        return self.article_request(url, site)

    def article_request(self, url: str, site: SiteConfig, depth: int = 0) -> Request | None:
        """A request for an article URL, unless it is archived and its site's recrawl policy says not yet."""
        if not self.allowed(url, site):
            return None
        key = self._page_keys.get(url) or url_key(url)
        if key in self.seen_keys:  # http/https, www and tracking variants of one article within this crawl
            return None
        self.seen_keys.add(key)
        due, prior = self.recrawl_decision(key, site.name)
        if not due:
            self.crawler.stats.inc_value("newsarchive/skipped/archived")
            logger.debug("archived, not due for a recrawl: %s", url)
            return None
        request = self.make_request(url, site, "article", self.parse_article, depth=depth, meta={META_PRIOR: prior})
        if request is not None and prior is not None:
            self.crawler.stats.inc_value("newsarchive/recrawled")
            if prior.etag:
                request.headers[b"If-None-Match"] = prior.etag
            if prior.last_modified:
                request.headers[b"If-Modified-Since"] = prior.last_modified
        return request

    def recrawl_due(self, url: str, site_name: str | None) -> bool:
        """Whether ``url`` may be fetched under its site's recrawl policy (used for redirect targets)."""
        return self.recrawl_decision(url_key(url), site_name)[0]

    def recrawl_decision(self, key: str, site_name: str | None) -> tuple[bool, PriorCapture | None]:
        """(due, last capture) for a URL key, answered from the archive's keys loaded once per crawl: a URL
        never archived, or archived with its article under a ``never`` policy, costs no database query;
        only a recrawl candidate needs its last capture (batched per page by :meth:`prefetch_priors`)."""
        archived = self.archive.archived
        if not archived.archived(key):
            return True, None
        policy = self.policies.get(site_name or "")
        if policy is None:
            return True, None
        if policy.kind == "never" and archived.has_article(key):
            return False, None
        target = archived.resolve(key)
        if target in self._priors:
            prior = self._priors[target]
        else:  # not prefetched (a feed entry, a redirect target): one lookup
            prior = self.archive.index.prior_capture(key)
            self.crawler.stats.inc_value("newsarchive/index/prior_lookups")
        if prior is not None and not prior.has_article and archived.has_article(target):
            prior = replace(prior, has_article=True)  # its extraction is being finished from the WARC
        return policy.due(prior, datetime.now(UTC)), prior

    def prefetch_priors(self, urls: Iterable[str], site: SiteConfig) -> None:
        """Load, in one query, the last captures of those ``urls`` that are recrawl candidates; replaces the
        previous page's (the cache is bounded by one page's links)."""
        archived = self.archive.archived
        policy = self.policies.get(site.name)
        wanted: set[str] = set()
        self._page_keys = {}
        for url in urls:
            key = self._page_keys[url] = url_key(url)
            if key in self.seen_keys or not archived.archived(key):
                continue
            if policy is not None and policy.kind == "never" and archived.has_article(key):
                continue
            wanted.add(archived.resolve(key))
        found = self.archive.index.prior_captures(wanted) if wanted else {}
        self._priors = {key: found.get(key) for key in wanted}
        if wanted:
            self.crawler.stats.inc_value("newsarchive/index/prior_batches")

    @property
    def archive(self) -> ArchiveSession:
        return ArchiveSession.of(self.crawler)

    async def start(self) -> AsyncIterator[Any]:
        for item in self.orphan_items():
            yield item
        for site in self.sites:
            for request in self.site_start_requests(site):
                if request is not None:
                    yield request
        for site in self.sites:  # strategies that must wait for something (robots.txt) come second
            for strategy in self.strategies:
                late = getattr(self, f"late_start_{strategy}", None)
                for request in (await late(site)) if late is not None else ():
                    if request is not None:
                        yield request

    def orphan_items(self) -> Iterator[ArticleItem]:
        """Archived article pages a killed crawl never extracted, read back from the WARC for the pipelines."""
        from newsarchive.crawler.recovery import read_orphan

        session = self.archive
        orphans, session.orphans = session.orphans, []
        for capture in orphans:
            page = read_orphan(session.home.warc_dir, capture)
            if page is None:
                self.crawler.stats.inc_value("newsarchive/recovered/unreadable")
                continue
            site = self.site_of(capture.url)
            self.crawler.stats.inc_value("newsarchive/recovered/extractions")
            info = CaptureInfo(capture, capture.record_id, capture.payload_digest, capture.fetched_at, capture.status)
            yield ArticleItem(url=capture.url, capture=info, html=page.html,
                              site=site.name if site is not None else capture.host)

    def site_start_requests(self, site: SiteConfig) -> Iterator[Request | None]:
        """Each strategy mixin contributes ``start_<strategy>(site)``; they run in ``strategies`` order."""
        for strategy in self.strategies:
            yield from getattr(self, f"start_{strategy}")(site)

    # -- callbacks -------------------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        site = self.site_of(response.url) or self.sites[0]
        if isinstance(response, TextResponse) and _is_html(response):
            capture = response.meta.get(META_CAPTURE)
            prior = response.meta.get(META_PRIOR)
            html: str | None = None
            if response.meta.get(META_UNCHANGED) and prior is not None and prior.has_article:
                self.crawler.stats.inc_value("newsarchive/articles/unchanged")
            elif capture is not None:
                html, _encoding = decode_html(response.body, _content_type(response))
                yield ArticleItem(url=response.url, capture=capture, html=html, site=site.name)
            yield from self.follow_links(response, site, html)
        else:
            self.crawler.stats.inc_value("newsarchive/skipped/not_html")
            logger.info("not an HTML page, archived only: %s (%s)", response.url,
                        _content_type(response) or "?")

    def follow_links(self, response: Response, site: SiteConfig, html: str | None = None) -> Iterable[Any]:
        """Requests for the page's links (``html``: the page already decoded, else ``response.text``)."""
        return ()  # the section strategy follows links

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        kind = failure.type.__name__ if failure.type is not None else "Error"
        reason = failure.getErrorMessage() or kind
        response = getattr(failure.value, "response", None)
        if response is not None:  # HTTP errors were archived by the capture middleware
            self.crawler.stats.inc_value(f"newsarchive/http_error/{response.status}")
            logger.info("HTTP %s for %s (archived)", response.status, request.url)
            return
        if failure.check(AlreadyArchived):
            return  # counted by the middleware
        if failure.check(IgnoreRequest) and "robots.txt" in reason:  # a rule obeyed, not a failure
            self.crawler.stats.inc_value("newsarchive/skipped/robots_txt")
            logger.info("not fetched, disallowed by robots.txt: %s", request.url)
            return
        self.crawler.stats.inc_value("newsarchive/errors")
        self.crawler.stats.inc_value(f"newsarchive/errors/{kind}")
        logger.warning("fetch failed for %s: %s", request.url, reason)
        session = self.archive
        session.add_row(FetchFailure(run_id=session.run_id, url=request.url, reason=f"{kind}: {reason}"))


QUEUE_PREFIX = "newsarchive-queue-"
QUEUE_OWNER = "owner.json"  # in a queue directory: the process_owner() of the crawl it belongs to


def disk_queue(crawler: Crawler) -> tempfile.TemporaryDirectory[str] | None:
    """Requests wait for their turn on disk (Scrapy's JOBDIR, in a directory of this crawl), not in memory.

    A sitemap lists up to 50,000 URLs and a site's sections as many: in memory each waiting request costs
    ~1.5 KB (request, headers, meta, its cached URL parse and fingerprint), ~150 MB of the crawl's main
    process for a 100,000-article site before its first article is fetched. Pickled to disk they cost
    nothing there. The directory goes when the process exits; one left by a crawl killed with SIGKILL goes
    when the next crawl starts (:func:`remove_abandoned_queues`). A crawl that sets JOBDIR itself (to
    resume) keeps its own, and a distributed crawl's queue is in Redis (another SCHEDULER) already. Off with
    ``NEWSARCHIVE_DISK_QUEUE=False``.
    """
    settings = crawler.settings
    if (not settings.getbool("NEWSARCHIVE_DISK_QUEUE", True) or settings.get("JOBDIR")
            or settings.get("SCHEDULER") != "scrapy.core.scheduler.Scheduler"
            or settings.frozen):  # frozen: the scheduler exists already (a spider made for a unit test)
        return None
    removed = remove_abandoned_queues(tempfile.gettempdir())
    if removed:
        logger.info("removed %d request queue director%s left by killed crawls", removed, "y" if removed == 1 else "ies")
    directory = tempfile.TemporaryDirectory(prefix=QUEUE_PREFIX)
    (Path(directory.name) / QUEUE_OWNER).write_text(json.dumps(process_owner()), encoding="utf-8")
    settings.set("JOBDIR", directory.name, priority="spider")
    return directory


def remove_abandoned_queues(parent: str | Path) -> int:
    """Remove the request queue directories under ``parent`` whose crawl process is gone (its owner record,
    :func:`newsarchive.archive.owner.owner_alive`: PID and start time, so a reused PID is not taken for it);
    how many. A directory without a readable owner record (being created, or made by an older version) and
    one owned by a process of another host or PID namespace are left alone."""
    removed = 0
    for path in Path(parent).glob(QUEUE_PREFIX + "*"):
        try:
            owner = json.loads((path / QUEUE_OWNER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if owner_alive(owner) is False:
            shutil.rmtree(path, ignore_errors=True)
            removed += not path.exists()
    return removed


def _content_type(response: Response) -> str:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1").lower() if value else ""


def _is_html(response: Response) -> bool:
    ctype = _content_type(response)
    return not ctype or any(t in ctype for t in HTML_TYPES)
