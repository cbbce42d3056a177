"""Sites are data: ``sites.toml`` (or spider arguments) describes each site to crawl.

Example::

    [defaults]
    max_pages = 500          # responses per crawl of a site (0: no limit)
    depth = 2                # link depth from start pages

    [sites.demo-courier]
    start_urls = ["http://127.0.0.1:8000/"]
    feeds = ["http://127.0.0.1:8000/feed.xml"]        # optional; also autodiscovered
    sitemaps = ["http://127.0.0.1:8000/sitemap.xml"]  # optional; also from robots.txt
    article_pattern = "/politik/[^/]+\\.html$"          # optional regex: which URLs are articles
    exclude_pattern = "/(tag|autor)/"                   # optional regex: never follow these
    schedule = "*/30 * * * *"                           # cron expression or interval ("45m", "6h")

Errors name the file and the key: ``sites.toml: [sites.demo] start_urls: must be a list of URLs``.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsarchive.crawler.recrawl import RecrawlPolicy, parse_interval

META_SITE = "newsarchive_site"  # request meta: the name of the site a request belongs to (set by the spiders)


def site_named(sites: Iterable[SiteConfig], name: object) -> SiteConfig | None:
    """The site called ``name`` (e.g. ``request.meta[META_SITE]``) among ``sites``, or None."""
    return next((site for site in sites if site.name == name), None)


class SitesConfigError(ValueError):
    """sites.toml cannot be used; the message names the file and the place."""


@dataclass(frozen=True)
class SiteConfig:
    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    article_pattern: str | None = None
    exclude_pattern: str | None = None
    allowed_domains: tuple[str, ...] = ()
    max_pages: int = 0
    depth: int = 2
    schedule: str | None = None
    recrawl: str = "never"
    # page requisites (stylesheets, images, fonts, scripts) archived with each article page
    requisites: bool = True
    requisite_hosts: tuple[str, ...] = ()  # third-party hosts (CDNs) requisites may come from
    render: bool = False  # render pages in headless Chromium (scrapy-playwright) and archive what they load
    # per-site politeness and request settings (None / empty: the crawl's settings)
    download_delay: float | None = None
    concurrency: int | None = None  # concurrent requests per host of this site
    user_agent: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    proxy: str | None = None

    @property
    def domains(self) -> tuple[str, ...]:
        """Host names this site may be crawled on: declared, or those of its start URLs, feeds, sitemaps."""
        if self.allowed_domains:
            return self.allowed_domains
        hosts = {urlsplit(u).hostname or "" for u in (*self.start_urls, *self.feeds, *self.sitemaps)}
        return tuple(sorted(h for h in hosts if h))

    @classmethod
    def from_urls(cls, urls: list[str], **overrides: Any) -> SiteConfig:
        for url in urls:
            _check_url(url, "url")
        host = urlsplit(urls[0]).netloc if urls else "site"
        return cls(name=host, start_urls=tuple(urls), **overrides)


_KNOWN = {f.name for f in fields(SiteConfig)} - {"name"}
_TOP_LEVEL = {"defaults", "sites"}


def did_you_mean(key: str, known: set[str]) -> str:
    """`` (did you mean "exclude_pattern"?)`` for a near miss of a known key, else a list of the known keys."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else f" (known keys: {', '.join(sorted(known))})"


def _reject_unknown(keys: Any, known: set[str], place: str) -> None:
    for key in keys:
        if key not in known:
            raise SitesConfigError(f"{place}: unknown key {key!r}{did_you_mean(key, known)}")


def _check_url(url: object, where: str) -> str:
    if not isinstance(url, str):
        raise SitesConfigError(f"{where}: {url!r} is not a URL string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SitesConfigError(f"{where}: {url!r} is not an http(s) URL")
    return url


def _check_regex(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise SitesConfigError(f"{where}: must be a string")
    try:
        re.compile(value)
    except re.error as exc:
        raise SitesConfigError(f"{where}: bad regular expression: {exc}") from exc
    return value


def _site(name: str, table: dict[str, Any], defaults: dict[str, Any], where: str) -> SiteConfig:
    _reject_unknown(table, _KNOWN, where)
    merged = {**defaults, **table}
    values: dict[str, Any] = {}
    for key, value in merged.items():
        place = f"{where} {key}"
        if key in ("start_urls", "feeds", "sitemaps", "allowed_domains"):
            if not isinstance(value, list):
                raise SitesConfigError(f"{place}: must be a list")
            checker = (lambda v, p: v if isinstance(v, str) and v else _bad(p)) if key == "allowed_domains" \
                else _check_url
            values[key] = tuple(checker(v, place) for v in value)
        elif key in ("article_pattern", "exclude_pattern"):
            values[key] = _check_regex(value, place)
        elif key in ("max_pages", "depth"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SitesConfigError(f"{place}: must be a whole number >= 0")
            values[key] = value
        elif key == "schedule":
            values[key] = check_schedule(value, place)
        elif key == "recrawl":
            values[key] = check_recrawl(value, place)
        elif key in ("requisites", "render"):
            if not isinstance(value, bool):
                raise SitesConfigError(f"{place}: must be true or false")
            values[key] = value
        elif key == "requisite_hosts":
            if not isinstance(value, list):
                raise SitesConfigError(f"{place}: must be a list")
            values[key] = tuple(v if isinstance(v, str) and v else _bad(place) for v in value)
        elif key == "download_delay":
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise SitesConfigError(f"{place}: must be a number of seconds >= 0")
            values[key] = float(value)
        elif key == "concurrency":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SitesConfigError(f"{place}: must be a whole number >= 1")
            values[key] = value
        elif key in ("user_agent", "proxy"):
            if not isinstance(value, str) or not value.strip():
                raise SitesConfigError(f"{place}: must be a non-empty string")
            values[key] = value.strip()
        elif key == "headers":
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in value.items()):
                raise SitesConfigError(f"{place}: must be a table of header names to strings")
            values[key] = tuple(value.items())
        else:
            values[key] = value
    if not (values.get("start_urls") or values.get("feeds") or values.get("sitemaps")):
        raise SitesConfigError(f"{where}: needs at least one of start_urls, feeds, sitemaps")
    return SiteConfig(name=name, **values)


def check_schedule(value: object, place: str) -> str:
    """A cron expression (5 fields, checked by APScheduler) or an interval; the error names ``place``."""
    if not isinstance(value, str) or not value.strip():
        raise SitesConfigError(f"{place}: must be a cron expression or an interval string")
    if re.fullmatch(r"[\d\s]*[smhdw][\dsmhdw\s]*", value.strip().lower()):
        try:
            parse_interval(value)
        except ValueError as exc:
            raise SitesConfigError(f"{place}: {exc}") from exc
        return value.strip()
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value.strip(), timezone="UTC")
    except ValueError as exc:
        raise SitesConfigError(
            f"{place}: {value!r} is neither a cron expression (minute hour day month weekday, "
            f"e.g. \"*/30 * * * *\") nor an interval like \"45m\", \"6h\", \"1d\": {exc}") from exc
    return value.strip()


def check_recrawl(value: object, place: str) -> str:
    """never, always, an interval ("6h") or decay[:ages]; see newsarchive.crawler.recrawl."""
    if not isinstance(value, str):
        raise SitesConfigError(f"{place}: must be a string")
    try:
        RecrawlPolicy.parse(value)
    except ValueError as exc:
        raise SitesConfigError(f"{place}: {exc}") from exc
    return value


def _bad(place: str) -> str:
    raise SitesConfigError(f"{place}: must be a list of non-empty strings")


def load_sites(path: str | Path) -> dict[str, SiteConfig]:
    """Read and check sites.toml. Raises :class:`SitesConfigError` naming the file and the place."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SitesConfigError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SitesConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SitesConfigError(f"{path}: not valid TOML: {exc}") from exc
    _reject_unknown(data, _TOP_LEVEL, f"{path}: top level")
    defaults = data.get("defaults", {})
    sites = data.get("sites")
    if not isinstance(defaults, dict):
        raise SitesConfigError(f"{path}: [defaults] must be a table")
    _reject_unknown(defaults, _KNOWN, f"{path}: [defaults]")
    if "schedule" in defaults:
        check_schedule(defaults["schedule"], f"{path}: [defaults] schedule")
    if not isinstance(sites, dict) or not sites:
        raise SitesConfigError(f"{path}: no [sites.NAME] tables")
    result: dict[str, SiteConfig] = {}
    for name, table in sites.items():
        if not isinstance(table, dict):
            raise SitesConfigError(f"{path}: [sites.{name}] must be a table")
        result[name] = _site(name, table, defaults, f"{path}: [sites.{name}]")
    return result


def select_sites(sites: dict[str, SiteConfig], names: list[str], path: str | Path = "sites.toml") -> list[SiteConfig]:
    """The named sites (all when ``names`` is empty); an unknown name is an error listing the known ones."""
    if not names:
        return list(sites.values())
    unknown = [n for n in names if n not in sites]
    if unknown:
        raise SitesConfigError(f"{path}: unknown site(s) {', '.join(unknown)}; known: {', '.join(sites)}")
    return [sites[n] for n in names]


def with_limits(site: SiteConfig, *, max_pages: int | None, depth: int | None) -> SiteConfig:
    changes: dict[str, Any] = {}
    if max_pages is not None:
        changes["max_pages"] = max_pages
    if depth is not None:
        changes["depth"] = depth
    return replace(site, **changes) if changes else site
