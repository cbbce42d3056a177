"""URL canonicalisation: one article, one key, whatever tracking parameters or variants link to it.

``canonicalize`` gives a fetchable URL (scheme and host kept, tracking parameters, fragment and default
port dropped, query sorted); ``url_key`` folds http/https and www/non-www too, for identity only.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid|mc_cid|mc_eid|_ga|_gl|"
    r"ocid|ncid|cmpid|icid|ref|ref_src|ref_url|referrer|source|share|smid|sr_share|at_medium|at_campaign|"
    r"wt_mc|wt\.mc_id|ito|xtor|__twitter_impression|s_cid|mkt_tok|spm|cid)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize(url: str, base: str | None = None) -> str:
    """Absolute, normalised URL without tracking parameters or fragment."""
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = host
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query), doseq=True), ""))


def without_www(netloc: str) -> str:
    """``www.example.org`` -> ``example.org``: the www and bare forms of a host are one site."""
    return netloc[4:] if netloc.startswith("www.") else netloc


def url_key(url: str) -> str:
    """Identity of a URL across http/https and www/non-www variants (not fetchable)."""
    parts = urlsplit(canonicalize(url))
    host = without_www(parts.netloc)
    key = host + parts.path
    return key + ("?" + parts.query if parts.query else "")


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def netloc_of(url: str) -> str:
    return urlsplit(canonicalize(url)).netloc
