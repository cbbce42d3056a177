"""Archives in and out: ``import`` (WARC/WACZ files from other tools) and ``wacz`` (a WACZ package)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from newsarchive.cli.common import (
    EXIT_FAILED,
    UserError,
    archive_options,
    existing_home,
    friendly_errors,
    open_index,
    resolve_home,
)

DAY = click.DateTime(["%Y-%m-%d"])


def _day(value: datetime | None, *, end: bool = False) -> datetime | None:
    if value is None:
        return None
    value = value.replace(tzinfo=UTC)
    return value + timedelta(days=1) if end else value


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--url-pattern", help="Only URLs matching this regular expression.")
@click.option("--site", "hosts", multiple=True, help="Only this host (www. or not; repeatable).")
@click.option("--since", type=DAY, help="Captured on or after this day (YYYY-MM-DD, UTC).")
@click.option("--until", type=DAY, help="Captured up to and including this day (YYYY-MM-DD, UTC).")
@click.option("--language", "languages", multiple=True,
              help="Keep articles in this language only, e.g. de (repeatable); other pages are indexed without one.")
@click.option("--max-records", type=click.IntRange(min=1), help="Stop after this many new captures.")
@click.option("--article-pattern", help="Extract only pages whose URL matches this regular expression "
              "(default: every HTML page); the others are indexed as captures.")
@click.option("--no-extract", is_flag=True, help="Index the captures only; no article extraction.")
@click.option("--copy", is_flag=True, help="Copy the files into the home (default: link them where they are).")
@click.option("--workers", type=click.IntRange(min=0), default=2, show_default=True,
              help="Extraction processes (0: in this process).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@archive_options
@friendly_errors
def import_command(paths: tuple[str, ...], url_pattern: str | None, hosts: tuple[str, ...], since: Any,
                   until: Any, languages: tuple[str, ...], max_records: int | None, article_pattern: str | None,
                   no_extract: bool, copy: bool, workers: int, quiet: bool, home: str | None,
                   index_url: str | None) -> None:
    """Import WARC/WACZ files written by any tool (wget, Heritrix, Browsertrix, pywb, CC-NEWS ...).

    Every capture is indexed where it lies and every HTML page is extracted like a crawled one. Importing a
    file again adds nothing; an interrupted import resumes where it stopped.

    \b
    Example:
      newsarchive import ~/cc-news/2024/08/ --language de --since 2024-08-01
    """
    from newsarchive.service.importer import ImportFailed, ImportFilters, ImportOptions, import_archives

    archive = resolve_home(home, index_url).ensure()
    filters = ImportFilters(url_pattern=url_pattern, hosts=hosts, since=_day(since), until=_day(until, end=True),
                            languages=languages, max_records=max_records)
    options = ImportOptions(filters=filters, extract=not no_extract, copy=copy, workers=workers,
                            article_pattern=article_pattern)
    try:
        with _RecordsProgress(quiet) as progress:
            report = import_archives(open_index(archive), archive.warc_dir, paths, options, progress=progress)
    except ImportFailed as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"run {report.run_id}: {report.files} WARC files, {report.records} records in {report.seconds:.1f} s: "
               f"{report.captures} captures indexed, {report.duplicates} already indexed, {report.filtered} "
               f"filtered out; {report.articles_ok} articles, {report.articles_failed} pages without article text, "
               f"{report.unchanged} unchanged pages")
    for damage in report.damaged:
        click.echo(f"damaged: {damage}", err=True)
    if report.damaged:
        raise UserError(f"{len(report.damaged)} damaged region(s) skipped", exit_code=EXIT_FAILED)


class _RecordsProgress:
    """The shared progress (a bar on a terminal, a log line every 10 s otherwise) over the bytes of the input
    files, for the ETA, with records/s and articles beside the bar."""

    def __init__(self, quiet: bool):
        from newsarchive.cli.progress import Progress

        self.progress = None if quiet else Progress("import", unit="B")
        self.started = time.monotonic()
        self.records = -1

    def __call__(self, done: int, total: int, report: Any) -> None:
        if self.progress is None:
            return
        self.progress(done, total)
        bar = self.progress.bar
        if bar is not None and (report.records // 500 != self.records // 500 or done >= total):
            self.records = report.records
            rate = report.records / max(time.monotonic() - self.started, 1e-6)
            bar.set_postfix_str(f"{report.records:,} records, {rate:,.0f} records/s, {report.articles_ok:,} articles",
                                refresh=False)

    def __enter__(self) -> _RecordsProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.close()


@click.command()
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--site", "sites", multiple=True, help="Only this site's captures (its name or host; repeatable).")
@click.option("--since", type=DAY, help="Captured on or after this day (YYYY-MM-DD, UTC).")
@click.option("--until", type=DAY, help="Captured up to and including this day (YYYY-MM-DD, UTC).")
@click.option("--title", help="Title of the package (datapackage.json).")
@archive_options
@friendly_errors
def wacz(out: str, sites: tuple[str, ...], since: Any, until: Any, title: str | None, home: str | None,
         index_url: str | None) -> None:
    """Package captures as a WACZ (WARC, CDXJ index, pages.jsonl, datapackage.json) for ReplayWeb.page.

    \b
    Example:
      newsarchive wacz demo-courier.wacz --site demo-courier --since 2024-01-01
    """
    from newsarchive.archive.wacz import WaczError, WaczSelection, write_wacz

    archive = existing_home(home, index_url, warcs=True)
    selection = WaczSelection(sites=sites, since=_day(since), until=_day(until, end=True))
    try:
        result = write_wacz(open_index(archive), archive.warc_dir, out, selection, title=title)
    except WaczError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"{result.path}: {result.captures} captures, {result.pages} pages, {result.bytes} bytes")
