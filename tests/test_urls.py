from __future__ import annotations

import pytest

from newsarchive.archive.urls import canonicalize, url_key


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.ORG:80/a/b.html?utm_source=x&b=2&a=1#top", "http://example.org/a/b.html?a=1&b=2"),
        ("https://example.org/a?fbclid=123&gclid=9", "https://example.org/a"),
        ("https://example.org:8443//a//b", "https://example.org:8443/a/b"),
        ("https://example.org", "https://example.org/"),
    ],
)
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


def test_relative_urls_resolve_against_base() -> None:
    assert canonicalize("../b.html?utm_medium=rss", base="http://127.0.0.1:8000/x/y/a.html") == \
        "http://127.0.0.1:8000/x/b.html"


def test_url_key_folds_scheme_and_www() -> None:
    variants = ["http://www.example.org/a?utm_campaign=z", "https://example.org/a#x", "https://WWW.example.org/a"]
    assert len({url_key(v) for v in variants}) == 1
    assert url_key("https://example.org/a") != url_key("https://example.org/b")
