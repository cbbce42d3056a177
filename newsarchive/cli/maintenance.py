"""Archive maintenance and output: ``export``, ``cdxj``, ``verify``, ``reindex``, ``reextract``, ``db``."""

from __future__ import annotations

import sys
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


@click.group()
def db() -> None:
    """Index database schema (Alembic migrations; SQLite and PostgreSQL)."""


@db.command("upgrade")
@archive_options
@friendly_errors
def db_upgrade(home: str | None, index_url: str | None) -> None:
    """Migrate the index database to the newest schema (a database from before migrations is adopted).

    \b
    Example:
      newsarchive db upgrade --index-url postgresql://archive@db/news
    """
    from newsarchive.archive.index import make_engine
    from newsarchive.archive.schema import current_revision, ensure_schema

    # no home directory is made for a server database; make_engine makes an SQLite file's directory
    engine = make_engine(resolve_home(home, index_url).index_url)
    before = current_revision(engine)
    after = ensure_schema(engine)
    click.echo(f"schema {before or 'none'} -> {after}" if before != after else f"schema {after} (up to date)")
    engine.dispose()


@db.command("current")
@archive_options
@friendly_errors
def db_current(home: str | None, index_url: str | None) -> None:
    """Print the schema revision of the index database and the newest one this version knows.

    \b
    Example:
      newsarchive db current
    """
    from newsarchive.archive.index import make_engine
    from newsarchive.archive.schema import current_revision, head_revision

    engine = make_engine(resolve_home(home, index_url).index_url)
    current, head = current_revision(engine), head_revision()
    click.echo(f"current: {current or 'none (run: newsarchive db upgrade)'}\nhead:    {head}")
    engine.dispose()


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="CDXJ file (default: stdout).")
@archive_options
@friendly_errors
def cdxj(output: str | None, home: str | None, index_url: str | None) -> None:
    """Write a sorted CDXJ index of the closed WARC files, for pywb and other replay tools.

    \b
    Example (pywb):
      wb-manager init news && cp newsarchive-data/warcs/*.warc.gz collections/news/archive/
      newsarchive cdxj -o collections/news/indexes/index.cdxj && wayback -b 127.0.0.1 -p 8080
    """
    from newsarchive.archive.cdxj import write_cdxj

    archive = existing_home(home, index_url, index=False, warcs=True)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            summary = write_cdxj(archive.warc_dir, fh)
    else:
        summary = write_cdxj(archive.warc_dir, sys.stdout)
    click.echo(f"{summary.lines} records of {summary.files} WARC files indexed", err=True)


@click.command()
@archive_options
@friendly_errors
def reindex(home: str | None, index_url: str | None) -> None:
    """Rebuild the index (which must be empty) from the WARC files of the archive home alone.

    \b
    Example:
      newsarchive reindex --home ./newsarchive-data --index-url sqlite:///rebuilt.sqlite
    """
    from newsarchive.archive.reindex import ReindexError
    from newsarchive.archive.reindex import reindex as rebuild
    from newsarchive.cli.progress import Progress

    archive = existing_home(home, index_url, index=False, warcs=True)
    try:
        with Progress("reindex", unit="B") as progress:
            report = rebuild(open_index(archive), archive.warc_dir, progress=progress)
    except ReindexError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"{report.files} files, {report.records} records: {report.captures} captures, "
               f"{report.articles} articles indexed")
    for problem in report.problems:
        click.echo(f"damaged: {problem.path} at offset {problem.offset}: {problem.reason}", err=True)
    if report.problems:
        raise UserError(f"{len(report.problems)} damaged region(s) skipped; the records around them were read",
                        exit_code=EXIT_FAILED)


@click.command()
@click.option("--site", "sites", multiple=True, help="Only articles of this site (repeatable).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many articles.")
@click.option("--no-warc", is_flag=True, help="Update the index only; do not append metadata records to the WARCs.")
@archive_options
@friendly_errors
def reextract(sites: tuple[str, ...], limit: int | None, no_warc: bool, home: str | None,
              index_url: str | None) -> None:
    """Re-run article extraction over the archived responses (no network) and record the extractor version.

    \b
    Example:
      newsarchive reextract --site demo-courier
    """
    from newsarchive.cli.progress import Progress
    from newsarchive.extract.reextract import ReextractOptions
    from newsarchive.extract.reextract import reextract as run

    archive = existing_home(home, index_url, warcs=True)
    with Progress("reextract", unit="articles") as progress:
        report = run(open_index(archive), archive.warc_dir,
                     ReextractOptions(sites=sites, write_warc=not no_warc, limit=limit), progress=progress)
    click.echo(f"{report.articles} articles re-extracted with {report.extractor_version}: {report.changed} changed, "
               f"{report.ok} ok, {report.failed} without article text, {report.unreadable} unreadable")


@click.command()
@archive_options
@friendly_errors
def verify(home: str | None, index_url: str | None) -> None:
    """Check every WARC record: whole gzip members, digests, and that the index and the files agree.

    Problems are printed one per line with file and offset; the exit status is 1 when there are any.

    \b
    Example:
      newsarchive verify --home ./newsarchive-data
    """
    from newsarchive.archive.verify import verify_archive
    from newsarchive.cli.progress import Progress

    archive = existing_home(home, index_url, warcs=True)
    with Progress("verify", unit="B") as progress:
        report = verify_archive(open_index(archive), archive.warc_dir, progress=progress)
    for problem in report.problems:
        click.echo(str(problem))
    click.echo(f"{report.files} files, {report.records} records, {report.captures} index rows checked: "
               f"{len(report.problems)} problem(s)", err=True)
    if report.problems:
        raise UserError(f"the archive has {len(report.problems)} problem(s)", exit_code=EXIT_FAILED)


def _export_to_stdout(archive: Any, filters: Any, options: Any) -> None:
    """``export -``: rows to stdout; a reader that stops early (``| head``) ends the export quietly."""
    import os

    from newsarchive.archive.export import export_stream

    try:
        streamed = export_stream(open_index(archive), sys.stdout.buffer, filters=filters, options=options)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python exits
        return
    click.echo(f"exported {streamed.rows} rows ({streamed.duplicates_skipped} duplicates skipped)", err=True)


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--gzip", "compress", is_flag=True, help="Gzip JSONL/CSV files (Parquet is compressed inside).")
@click.option("--site", "sites", multiple=True, help="Only articles of this site (repeatable).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="From this day on (YYYY-MM-DD, UTC).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Up to and including this day (YYYY-MM-DD, UTC).")
@click.option("--date-field", type=click.Choice(["published", "fetched"]), default="published", show_default=True,
              help="Which date --since/--until and the card's months use.")
@click.option("--language", "languages", multiple=True, help="Only this language, e.g. de (repeatable).")
@click.option("--min-words", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--status", type=click.Choice(["ok", "failed", "any"]), default="ok", show_default=True,
              help="Extraction status of the rows.")
@click.option("--dedup", type=click.Choice(["none", "exact", "near"]), default="none", show_default=True,
              help="exact: one row per text; near: one row per story (wire copies at several sites).")
@click.option("--max-rows", type=click.IntRange(min=1), help="Rows per file at most (more files otherwise).")
@click.option("--max-bytes", type=click.IntRange(min=1), help="Start a new file once one reaches this size.")
@click.option("--with-warc", is_flag=True, help="Also copy the WARC records of the exported captures.")
@click.option("--schema", type=click.Choice(["newsarchive", "news-please", "fundus"]), default="newsarchive",
              show_default=True, help="Name the columns as this tool does (news-please: maintext, date_publish ...; "
              "fundus: plaintext, publishing_date, topics ...).")
@click.option("--fields", help="Only these columns, comma-separated, in this order (names of the --schema).")
@click.option("--license", "license_id", default="other", show_default=True,
              help="License declared in the dataset card (a Hugging Face id such as cc-by-4.0).")
@click.option("--stories", is_flag=True,
              help="Cluster the articles not yet in a story first, so every row has a story_id (--dedup near always "
                   "does; crawls cluster their articles when they close; minutes on a large never-clustered index).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@archive_options
@friendly_errors
def export(out_dir: str, fmt: str, compress: bool, sites: tuple[str, ...], since: Any, until: Any, date_field: str,
           languages: tuple[str, ...], min_words: int, status: str, dedup: str, max_rows: int | None,
           max_bytes: int | None, with_warc: bool, schema: str, fields: str | None, license_id: str, stories: bool,
           quiet: bool, home: str | None, index_url: str | None) -> None:
    """Export articles as a dataset (JSONL, CSV or Parquet) with provenance and a README.md dataset card.

    OUT_DIR - writes the rows to stdout (no card, no shards), for piping.

    \b
    Examples:
      newsarchive export ./dataset --format parquet --site demo-courier --since 2024-01-01 --dedup near
      newsarchive export ./np --schema news-please --license cc-by-4.0
      newsarchive export - --fields url,title,authors,published | jq .title
    """
    from datetime import UTC, timedelta

    from newsarchive.archive.export import ExportError, ExportFilters, ExportOptions, export_dataset

    archive = existing_home(home, index_url)
    filters = ExportFilters(
        sites=sites, since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) + timedelta(days=1) if until else None, date_field=date_field,
        languages=languages, min_words=min_words, status=None if status == "any" else status)
    options = ExportOptions(format=fmt, gzip=compress, dedup=dedup, max_rows=max_rows, max_bytes=max_bytes,
                            with_warc=with_warc, progress=not quiet, schema=schema, license=license_id,
                            fields=tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else (),
                            assign_stories=stories)
    try:
        if out_dir == "-":
            _export_to_stdout(archive, filters, options)
            return
        result = export_dataset(open_index(archive), out_dir, filters=filters, options=options,
                                warc_dir=archive.warc_dir)
    except ExportError as exc:
        raise UserError(str(exc)) from exc
    click.echo(f"exported {result.rows} rows to {len(result.files)} data files in {result.out_dir} "
               f"({result.duplicates_skipped} duplicates skipped, {result.warc_records} WARC records)")
