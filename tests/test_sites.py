from __future__ import annotations

from pathlib import Path

import pytest

from newsarchive.crawler.sites import SiteConfig, SitesConfigError, load_sites, select_sites

GOOD = """
[defaults]
max_pages = 50
depth = 1

[sites.courier]
start_urls = ["http://127.0.0.1:8000/"]
feeds = ["http://127.0.0.1:8000/feed.xml"]
article_pattern = "/politik/.+\\\\.html$"

[sites.bote]
sitemaps = ["https://bote.example/sitemap.xml"]
depth = 3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_merges_defaults(tmp_path: Path) -> None:
    sites = load_sites(write(tmp_path, GOOD))
    assert sites["courier"].max_pages == 50 and sites["courier"].depth == 1
    assert sites["bote"].depth == 3 and sites["bote"].domains == ("bote.example",)
    assert [s.name for s in select_sites(sites, ["bote"])] == ["bote"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sites.a]\nstart_urls = 'http://x/'", r"\[sites.a\] start_urls: must be a list"),
        ("[sites.a]\nstart_urls = ['ftp://x/']", r"\[sites.a\] start_urls: 'ftp://x/' is not an http\(s\) URL"),
        ("[sites.a]\nstart_urls = ['http://x/']\narticle_pattern = '('", r"article_pattern: bad regular expression"),
        ("[sites.a]\nstart_urls = ['http://x/']\ndepth = -1", r"depth: must be a whole number"),
        ("[sites.a]\nmax_pages = 3", r"\[sites.a\]: needs at least one of start_urls"),
        ("[sites]\n", "no \\[sites.NAME\\] tables"),
        ("[sites.a\n", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_place(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SitesConfigError, match=message) as info:
        load_sites(write(tmp_path, text))
    assert "sites.toml" in str(info.value)


def test_missing_file_and_unknown_site(tmp_path: Path) -> None:
    with pytest.raises(SitesConfigError, match="no such file"):
        load_sites(tmp_path / "nope.toml")
    with pytest.raises(SitesConfigError, match="unknown site\\(s\\) zeitung; known: courier, bote"):
        select_sites(load_sites(write(tmp_path, GOOD)), ["zeitung"])


def test_from_urls_rejects_non_http() -> None:
    with pytest.raises(SitesConfigError):
        SiteConfig.from_urls(["file:///etc/passwd"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sites.a]\nstart_urls = ['http://x/']\nexclude_patern = 'x'",
         r"\[sites.a\]: unknown key 'exclude_patern' \(did you mean \"exclude_pattern\"\?\)"),
        ("[defaults]\nmax_page = 3\n[sites.a]\nstart_urls = ['http://x/']",
         r"\[defaults\]: unknown key 'max_page' \(did you mean \"max_pages\"\?\)"),
        ("[site.a]\nstart_urls = ['http://x/']", r"top level: unknown key 'site' \(did you mean \"sites\"\?\)"),
        ("[sites.a]\nstart_urls = ['http://x/']\nfrobnicate = 1", r"unknown key 'frobnicate' \(known keys: .*start_urls"),
    ],
)
def test_unknown_keys_are_rejected_with_a_suggestion(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SitesConfigError, match=message) as info:
        load_sites(write(tmp_path, text))
    assert str(info.value).startswith(str(tmp_path / "sites.toml"))


def test_per_site_request_settings_parsed(tmp_path: Path) -> None:
    text = ("[defaults]\ndownload_delay = 2\n[sites.a]\nstart_urls = ['http://x/']\nconcurrency = 1\n"
            "user_agent = 'research-bot/1'\nproxy = 'http://127.0.0.1:3128'\nheaders = {Accept-Language = 'de'}\n")
    site = load_sites(write(tmp_path, text))["a"]
    assert (site.download_delay, site.concurrency, site.user_agent, site.proxy) == (2.0, 1, "research-bot/1",
                                                                                   "http://127.0.0.1:3128")
    assert site.headers == (("Accept-Language", "de"),)


def test_the_shipped_example_loads() -> None:
    """examples/sites.toml (the README points users at it) uses only keys the loader knows."""
    sites = load_sites(Path(__file__).parents[1] / "examples" / "sites.toml")
    assert set(sites) == {"tagesbote", "wiener-blatt", "liveticker"}
    assert sites["liveticker"].render and sites["wiener-blatt"].download_delay == 2.0
