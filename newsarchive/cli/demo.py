"""``demo``: serve the bundled demo sites on loopback, crawl, archive, index and export them."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import click

from newsarchive.archive.home import ArchiveHome
from newsarchive.cli.common import (
    UserError,
    friendly_errors,
    log_level,
    open_index,
    print_crawl,
    resolve_home,
)

DEMO_MARKER = ".newsarchive-demo"


@click.command()
@click.option("--home", default="newsarchive-demo", show_default=True, type=click.Path(file_okay=False),
              help="Where the demo archive goes; a previous demo archive there is replaced.")
@click.option("--serve-only", is_flag=True, help="Only serve the demo sites (until Ctrl-C) and print their URLs.")
@click.pass_context
@friendly_errors
def demo(ctx: click.Context, home: str, serve_only: bool) -> None:
    """Serve the bundled demo news sites on 127.0.0.1, crawl them, archive, index and export them.

    Five outlets publish stories of one news event, with the chrome real sites carry (cookie banner,
    teasers, comments, newsletter box, audio player notice), feeds, sitemaps and robots.txt.

    \b
    Example:
      newsarchive demo --home /tmp/newsarchive-demo
    """
    import shutil
    from pathlib import Path

    from newsarchive.crawler.browser import DEFAULT_EXECUTABLE, browser_executable
    from newsarchive.crawler.sites import load_sites
    from newsarchive.demo.server import serve_demo
    from newsarchive.service.crawl import CrawlOptions, run_crawl

    root = Path(home).resolve()
    if root.exists() and any(root.iterdir()):
        if not (root / DEMO_MARKER).exists():
            raise UserError(f"{root} exists and is not a demo archive; choose another --home")
        shutil.rmtree(root)
    # with chromium, one outlet's pages are rendered in a browser and it links a page only a browser can read
    render = ("nx24",) if browser_executable(DEFAULT_EXECUTABLE) else ()
    with serve_demo(scripted=bool(render)) as server:
        if serve_only:
            _serve_forever(server)
            return
        root.mkdir(parents=True, exist_ok=True)
        (root / DEMO_MARKER).write_text("created by `newsarchive demo`; replaced by the next demo run\n")
        sites_file = root / "demo-sites.toml"
        sites_file.write_text(server.sites_toml(rendered=render), encoding="utf-8")
        click.echo(f"serving {len(server.sites)} demo sites on 127.0.0.1; crawling them into {root}", err=True)
        archive = resolve_home(str(root), f"sqlite:///{root / 'index.sqlite'}")
        options = CrawlOptions(log_level=log_level(ctx), settings={
            "DOWNLOAD_DELAY": 0.05, "AUTOTHROTTLE_START_DELAY": 0.05, "NEWSARCHIVE_PROGRESS_INTERVAL": 2.0})
        result = run_crawl(list(load_sites(sites_file).values()), archive, options)
    print_crawl(result, archive)
    _print_articles(archive)
    _demo_export(archive)
    _print_next(archive)


def _serve_forever(server: Any) -> None:
    import time

    for name, url in server.sites.items():
        click.echo(f"{name:<20} {url}")
    click.echo("serving until Ctrl-C", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def _print_articles(archive: ArchiveHome) -> None:
    index = open_index(archive)
    click.echo("")
    click.echo(f"{'site':<18}{'published':<12}{'words':>6}  title")
    for article in index.articles():
        date = f"{article.published:%Y-%m-%d}" if article.published else "-"
        click.echo(f"{article.site[:17]:<18}{date:<12}{article.word_count:>6}  {(article.title or '')[:70]}")
    index.close()


def _demo_export(archive: ArchiveHome) -> None:
    try:
        from newsarchive.archive.export import ExportOptions, export_dataset
    except ImportError:
        return
    out = archive.root / "export"
    result = export_dataset(open_index(archive), out, ExportOptions(progress=False), warc_dir=archive.warc_dir)
    click.echo(f"\nexported {result.rows} articles to {out}: {', '.join(result.files)} "
               f"(JSONL with provenance) and the dataset card {result.card.name}")


@dataclass(frozen=True)
class NextSteps:
    """What to try after the demo, on the archive alone (the demo's sites and ports are gone by then)."""

    url: str  # an archived article
    title: str
    word: str  # a word the full-text search finds
    hits: int
    replay_path: str  # /web/TIMESTAMP/URL of that article, on the replay server


def next_steps(index: Any) -> NextSteps | None:
    """An archived article and a search word with hits, or None when the archive has no article."""
    from collections import Counter

    from newsarchive.archive.search import SearchQuery, ensure_search_index, search_articles
    from newsarchive.web.replay import timestamp
    from newsarchive.web.rewrite import archive_path

    articles = [a for a in index.articles() if a.fetched_at is not None]
    if not articles:
        return None
    ensure_search_index(index.engine)
    words = Counter(w for a in articles for w in {w for w in re.findall(r"[^\W\d_]{5,}", a.title or "")})
    found = [(w, search_articles(index, SearchQuery(q=w, limit=1)).total) for w, _ in words.most_common(5)]
    word, hits = max(found, key=lambda pair: pair[1], default=("", 0))
    article = articles[0]
    return NextSteps(article.url, article.title or article.url, word, hits,
                     archive_path(timestamp(article.fetched_at), article.url))


def _print_next(archive: ArchiveHome) -> None:
    index = open_index(archive)
    try:
        steps = next_steps(index)
    finally:
        index.close()
    if steps is None:
        return
    home = shlex.quote(str(archive.root))
    click.echo("\nthe demo sites are gone now; the archive stays. Try:")
    click.echo(f"  newsarchive show --home {home} {shlex.quote(steps.url)}")
    if steps.hits:
        click.echo(f"  newsarchive search --home {home} {shlex.quote(steps.word)}"
                   f"        # {steps.hits} article{'s' if steps.hits != 1 else ''}")
    click.echo(f"  newsarchive replay --home {home}        # then open http://127.0.0.1:8080{steps.replay_path}")
