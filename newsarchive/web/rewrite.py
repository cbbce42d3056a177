"""Rewriting archived HTML and CSS so that every link and subresource points back into the archive.

``href``/``src``/``action``/``poster``/``srcset``... in tags and ``url(...)`` in CSS become
``/web/<timestamp>/<absolute URL>``: the replay server then answers with the capture nearest that time.
``javascript:``, ``data:``, ``mailto:`` and fragment links are left alone.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit

_TAG = re.compile(r"<[a-zA-Z][^>]*>")
_ATTR = re.compile(
    r"""(?P<pre>\s(?:href|src|action|formaction|poster|data|background|longdesc|cite|"""
    r"""data-src|data-lazy-src|data-original)\s*=\s*)"""  # lazy-load attributes: scripts copy them into src
    r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>"']+))""",
    re.IGNORECASE,
)
_SRCSET = re.compile(r"""(?P<pre>\s(?:srcset|imagesrcset|data-srcset)\s*=\s*)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""", re.I)
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<val>[^"')]*)(?P=q)\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?P<q>["'])(?P<val>[^"']*)(?P=q)""", re.IGNORECASE)
_REFRESH = re.compile(r"""(?P<pre>\scontent\s*=\s*["']?\s*\d+\s*[;,]\s*url\s*=\s*)(?P<url>[^"'>\s]+)""", re.I)
_BASE = re.compile(r"""<base\s[^>]*href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_LEAVE = ("#", "javascript:", "data:", "mailto:", "tel:", "about:", "blob:")
_SAFE = ":/?#[]@!$&'()*+,;=%~"


def archive_path(timestamp: str, url: str) -> str:
    """``/web/<timestamp>/<url>``: the archive's address of ``url`` as of ``timestamp``."""
    return f"/web/{timestamp}/{quote(url, safe=_SAFE)}"


def rewrite_url(value: str, base: str, timestamp: str) -> str:
    stripped = value.strip()
    if not stripped or stripped.lower().startswith(_LEAVE):
        return value
    absolute = urljoin(base, stripped)
    if urlsplit(absolute).scheme not in ("http", "https"):
        return value
    return archive_path(timestamp, absolute)


def rewrite_css(css: str, base: str, timestamp: str) -> str:
    def url_sub(m: re.Match[str]) -> str:
        return f"url({m['q']}{rewrite_url(m['val'], base, timestamp)}{m['q']})"

    def import_sub(m: re.Match[str]) -> str:
        return f"@import {m['q']}{rewrite_url(m['val'], base, timestamp)}{m['q']}"

    return _CSS_IMPORT.sub(import_sub, _CSS_URL.sub(url_sub, css))


def _rewrite_srcset(value: str, base: str, timestamp: str) -> str:
    out = []
    for candidate in value.split(","):
        parts = candidate.strip().split(maxsplit=1)
        if parts:
            parts[0] = rewrite_url(parts[0], base, timestamp)
            out.append(" ".join(parts))
    return ", ".join(out)


def _rewrite_tag(tag: str, base: str, timestamp: str) -> str:
    def attr(m: re.Match[str]) -> str:
        if m["dq"] is not None:
            return f'{m["pre"]}"{rewrite_url(m["dq"], base, timestamp)}"'
        if m["sq"] is not None:
            return f"{m['pre']}'{rewrite_url(m['sq'], base, timestamp)}'"
        return f'{m["pre"]}"{rewrite_url(m["bare"], base, timestamp)}"'

    def srcset(m: re.Match[str]) -> str:
        value = m["dq"] if m["dq"] is not None else m["sq"]
        return f'{m["pre"]}"{_rewrite_srcset(value, base, timestamp)}"'

    def refresh(m: re.Match[str]) -> str:
        return m["pre"] + rewrite_url(m["url"], base, timestamp)

    tag = _SRCSET.sub(srcset, _ATTR.sub(attr, tag))
    if tag[:5].lower() == "<meta" and "refresh" in tag.lower():
        tag = _REFRESH.sub(refresh, tag)
    return tag


def rewrite_html(html: str, url: str, timestamp: str) -> str:
    """Every URL in tags, ``<style>`` and ``style=""`` of ``html`` (fetched from ``url``) into the archive."""
    found = _BASE.search(html)
    base = urljoin(url, found.group(1)) if found else url
    html = _TAG.sub(lambda m: _rewrite_tag(m.group(0), base, timestamp), html)
    return rewrite_css(html, base, timestamp)
