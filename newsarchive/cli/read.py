"""Read commands over an archive: ``show``, ``diff``, ``stats``, ``search``, ``runs``, ``stories``, ``templates``."""

from __future__ import annotations

import json
from typing import Any

import click

from newsarchive.cli.common import (
    EXIT_FAILED,
    UserError,
    archive_options,
    existing_home,
    friendly_errors,
    open_index,
)


def _plain(value: Any) -> Any:
    """JSON for what the library returns: dataclasses as objects, datetimes as ISO 8601 with their offset."""
    import dataclasses
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def echo_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (``--json`` of the read commands)."""
    click.echo(json.dumps(data, default=_plain, ensure_ascii=False, indent=2))


def _article_json(article: Any, capture: Any, with_text: bool) -> dict[str, Any]:
    skip = {"signature"} if with_text else {"text", "markdown", "signature"}  # a story-clustering hash
    data = {c.key: getattr(article, c.key) for c in article.__table__.columns if c.key not in skip}
    if capture is not None:
        data["capture"] = {c.key: getattr(capture, c.key) for c in capture.__table__.columns}
    return data


@click.command()
@click.argument("url")
@click.option("--text/--no-text", default=True, help="Print the article text (default) or metadata only.")
@click.option("--json", "as_json", is_flag=True, help="Every field of the article and its capture as JSON.")
@archive_options
@friendly_errors
def show(url: str, text: bool, as_json: bool, home: str | None, index_url: str | None) -> None:
    """Print the newest archived article for URL (exact or canonical URL).

    \b
    Example:
      newsarchive show https://www.example-news.org/politik/story-123.html
    """
    from newsarchive.archive.urls import canonicalize

    index = open_index(existing_home(home, index_url))
    article = index.latest_article(url) or index.latest_article(canonicalize(url))
    if article is None:
        raise UserError(f"no archived article for {url} (try: newsarchive stats)", exit_code=EXIT_FAILED)
    capture = index.capture(article.capture_id)
    if as_json:
        echo_json(_article_json(article, capture, text))
        return
    for label, value in (
        ("title", article.title), ("author", article.author), ("published", article.published),
        ("date source", article.date_source), ("language", article.language), ("site", article.site),
        ("url", article.url), ("canonical", article.canonical_url), ("fetched", article.fetched_at),
        ("words", article.word_count), ("warc", f"{capture.warc_file}@{capture.warc_offset}" if capture else None),
        ("record", capture.record_id if capture else None), ("extractor", article.extractor_version),
    ):
        if value not in (None, ""):
            click.echo(f"{label + ':':<13}{value}")
    if text:
        click.echo("")
        click.echo(article.text)


@click.command()
@click.argument("url")
@click.option("--list", "list_only", is_flag=True, help="List the versions instead of diffing them.")
@click.option("--from", "old", type=int, default=-2, show_default=True, help="Version number (1 = first, -1 = newest).")
@click.option("--to", "new", type=int, default=-1, show_default=True, help="Version number to compare with.")
@archive_options
@friendly_errors
def diff(url: str, list_only: bool, old: int, new: int, home: str | None, index_url: str | None) -> None:
    """Show what changed between archived versions of an article (unified diff of the extracted text).

    \b
    Examples:
      newsarchive diff https://www.example-news.org/politik/story-123.html
      newsarchive diff URL --list
    """
    from newsarchive.archive.versions import text_diff

    versions = open_index(existing_home(home, index_url)).article_versions(url)
    if not versions:
        raise UserError(f"no archived article for {url}", exit_code=EXIT_FAILED)
    if list_only or len(versions) == 1:
        for number, version in enumerate(versions, 1):
            click.echo(f"{number:3d}  {version.fetched_at:%Y-%m-%d %H:%M:%S}  {version.word_count:6d} words  "
                       f"{(version.text_hash or '')[:12]}  {version.title or ''}")
        if len(versions) == 1 and not list_only:
            click.echo("only one version archived: nothing to compare", err=True)
        return
    try:
        a, b = versions[old - 1 if old > 0 else old], versions[new - 1 if new > 0 else new]
    except IndexError as exc:
        raise UserError(f"there are {len(versions)} versions; --from/--to must be 1..{len(versions)} or "
                        f"-1..-{len(versions)}") from exc
    click.echo(text_diff(a, b), nl=False)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@archive_options
@friendly_errors
def stats(as_json: bool, home: str | None, index_url: str | None) -> None:
    """Summarise the archive: runs, captures, articles per site, WARC files and bytes.

    \b
    Example:
      newsarchive stats --home ./newsarchive-data
    """
    summary = open_index(existing_home(home, index_url)).stats()
    if as_json:
        echo_json(summary)
        return
    click.echo(f"crawl runs:     {summary.runs}")
    click.echo(f"captures:       {summary.captures}  ({summary.first_fetch} .. {summary.last_fetch})")
    click.echo(f"articles:       {summary.articles_ok} ok, {summary.articles_failed} without article text")
    click.echo(f"WARC files:     {summary.warc_files}, {summary.warc_bytes / 1e6:.1f} MB")
    click.echo("HTTP status:    " + ", ".join(f"{code}: {n}" for code, n in summary.by_status))
    for site, n in summary.by_site:
        click.echo(f"  {n:6d}  {site}")


@click.command()
@click.argument("words", nargs=-1)
@click.option("--site", help="Only articles of this site (its name in sites.toml).")
@click.option("--lang", "language", help="Only articles in this language (ISO 639-1, e.g. de).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Published on or after (YYYY-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Published on or before (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Total and hits (snippet matches in [brackets]) as JSON.")
@archive_options
@friendly_errors
def search(words: tuple[str, ...], site: str | None, language: str | None, date_from: Any, date_to: Any, limit: int,
           as_json: bool, home: str | None, index_url: str | None) -> None:
    """Full-text search over the archived articles, the same syntax on SQLite and PostgreSQL.

    Every word must occur; OR between alternatives; -word or NOT word excludes; "a phrase" matches
    words in a row; word* matches a prefix. Quote the query for the shell (or put -- before words that
    start with -).

    \b
    Examples:
      newsarchive search hafen brücke --lang de --from 2024-03-01
      newsarchive search 'Reichweite OR Wladiwostok -Sport "Kim Jong Un" Rakete*' --json
    """
    import dataclasses
    from datetime import UTC, timedelta

    from newsarchive.archive.search import (
        MARK_END,
        MARK_START,
        QueryError,
        SearchQuery,
        ensure_search_index,
        search_articles,
    )

    index = open_index(existing_home(home, index_url))
    ensure_search_index(index.engine)
    query = SearchQuery(q=" ".join(words), site=site, language=language,
                        date_from=date_from.replace(tzinfo=UTC) if date_from else None,
                        date_to=(date_to.replace(tzinfo=UTC) + timedelta(days=1, microseconds=-1)) if date_to else None,
                        limit=limit)
    try:
        results = search_articles(index, query)
    except QueryError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"{results.total} article(s)", err=True)
    hits = [dataclasses.replace(hit, snippet=" ".join(hit.snippet.replace(MARK_START, "[").replace(MARK_END, "]")
                                                     .split())) for hit in results.hits]
    if as_json:
        echo_json({"query": results.query, "total": results.total, "hits": hits})
        return
    for hit in hits:
        date = f"{hit.published:%Y-%m-%d}" if hit.published else "-"
        click.echo(f"{date}  {hit.site}  {hit.title}\n    {hit.url}\n    {hit.snippet}")


@click.command("runs")
@click.option("--site", help="Only the runs of this site.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest runs to list.")
@click.option("--health-window", type=click.IntRange(min=1), default=3, show_default=True, metavar="N",
              help="Flag a site as stale when its last N runs found no new articles.")
@click.option("--json", "as_json", is_flag=True, help="The runs and each site's health as JSON.")
@archive_options
@friendly_errors
def runs_command(site: str | None, limit: int, health_window: int, as_json: bool, home: str | None,
                 index_url: str | None) -> None:
    """List crawl runs, newest first: start, duration, status, pages, articles (new), errors; flag stale sites.

    \b
    Example:
      newsarchive runs --site demo-courier --limit 10
    """
    import dataclasses

    from newsarchive.archive.runs import history_table, run_history, site_health

    index = open_index(existing_home(home, index_url))
    records = run_history(index, site=site, limit=limit)
    if not records:
        click.echo("no runs yet" + (f" for {site}" if site else ""), err=True)
        if as_json:
            echo_json({"runs": [], "sites": []})
        return
    health = site_health(index, sorted({r.site for r in records}), window=health_window)
    if as_json:
        echo_json({"runs": records, "sites": [{**dataclasses.asdict(h), "stale": h.stale} for h in health]})
        return
    for line in history_table(records, health):
        click.echo(line)


@click.command()
@click.option("--min-size", type=click.IntRange(min=1), default=2, show_default=True,
              help="Only stories with at least this many articles.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=0.15, show_default=True,
              help="Similarity (shingle overlap) for an article to join a story.")
@click.option("--rebuild", is_flag=True, help="Forget all stories and cluster every article again.")
@click.option("--json", "as_json", is_flag=True, help="The stories with their articles, and the clustering report.")
@archive_options
@friendly_errors
def stories(min_size: int, limit: int, threshold: float, rebuild: bool, as_json: bool, home: str | None,
            index_url: str | None) -> None:
    """Group near-duplicate articles (wire copies at several sites) into stories and list them.

    New articles are clustered first (incremental); one story per block, its articles one per line.

    \b
    Example:
      newsarchive stories --min-size 2 --limit 20
    """
    from newsarchive.archive.dedup import ClusterOptions, cluster_articles
    from newsarchive.archive.dedup import stories as list_stories

    index = open_index(existing_home(home, index_url))
    try:
        report = cluster_articles(index, options=ClusterOptions(threshold=threshold), rebuild=rebuild)
    except ValueError as exc:  # stored signatures made with other settings
        raise UserError(str(exc)) from exc
    found = list_stories(index, min_size=min_size, limit=limit)
    if as_json:
        echo_json({"stories": [{"story_id": s.story_id, "size": s.size, "sites": s.sites,
                                "members": s.members} for s in found], "clustering": report})
        return
    for story in found:
        click.echo(f"story {story.story_id}: {story.size} articles at {', '.join(story.sites)}")
        for m in story.members:
            click.echo(f"  {m.article_id}\t{m.method}\t{m.similarity:.2f}\t{m.site}\t{m.url}\t{m.title or ''}")
    click.echo(f"{report.articles} new articles clustered ({report.exact} exact, {report.near} near duplicates); "
               f"{report.total_articles} articles in {report.total_stories} stories", err=True)


@click.command()
@click.argument("sites", nargs=-1)
@click.option("--learn", is_flag=True, help="Learn the templates again from the articles the index holds.")
@click.option("--fresh", is_flag=True, help="With --learn: forget the lines learned before.")
@click.option("--show-lines", is_flag=True, help="Print each template line.")
@archive_options
@friendly_errors
def templates(sites: tuple[str, ...], learn: bool, fresh: bool, show_lines: bool, home: str | None,
              index_url: str | None) -> None:
    """Site templates: text lines that recur on many pages of a site are its chrome, not article text.

    Crawls learn them when they close and apply them to later pages; `newsarchive reextract` applies
    them to archived pages. Without SITES: every site with articles.

    \b
    Examples:
      newsarchive templates --show-lines
      newsarchive templates --learn nx24 && newsarchive reextract --site nx24
    """
    from sqlalchemy import select

    from newsarchive.archive.models import Article
    from newsarchive.extract.learning import learn as learn_template
    from newsarchive.extract.learning import load, save

    index = open_index(existing_home(home, index_url))
    if not sites:
        with index.sessions() as s:
            sites = tuple(s.scalars(select(Article.site).distinct().order_by(Article.site)))
    for site in sites:
        model = learn_template(index, site, fresh=fresh) if learn else load(index, site)
        if learn:
            save(index, model)
        click.echo(f"{site}: {len(model.entries)} template lines from {model.pages} pages")
        for entry in model.entries if show_lines else ():
            click.echo(f"  {entry.pages:5d} pages  {entry.text[:100]}")
