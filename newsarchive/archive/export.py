"""Offline dataset export: the index's articles as JSONL, CSV or Parquet, with provenance and a dataset card.

Rows stream from the database (``yield_per``: a server-side cursor on PostgreSQL) and are written in
batches, so memory stays flat however many rows there are. Output is sharded by rows and/or bytes;
a README.md (the dataset card, :mod:`newsarchive.archive.datacard`) lands beside the data, and with
``with_warc`` the WARC records of every exported capture are copied byte for byte into one ``.warc.gz``.

    result = export_dataset(index, "out/", filters=ExportFilters(sites=("courier",)),
                            options=ExportOptions(format="parquet", dedup="near"))
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Select, String, cast, func, literal, select
from sqlalchemy.orm import Session

from newsarchive.archive.datacard import COLUMN_NAMES, SCHEMA, CardCounts, CardData, ShardInfo, render_card
from newsarchive.archive.dedup import ClusterOptions, cluster_articles
from newsarchive.archive.index import ArchiveIndex, redact
from newsarchive.archive.models import Article, Capture, StoryCluster, utcnow
from newsarchive.archive.warccopy import WarcCopier

logger = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "parquet")
DEDUP_MODES = ("none", "exact", "near")
DATE_FIELDS = ("published", "fetched")


class ExportError(ValueError):
    """The export cannot be done as asked (bad option combination, output directory not empty, ...)."""


@dataclass(frozen=True)
class ExportFilters:
    """Which articles to export. ``since`` is inclusive, ``until`` exclusive."""

    sites: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    date_field: str = "published"  # published | fetched
    languages: tuple[str, ...] = ()
    min_words: int = 0
    status: str | None = "ok"  # None: every extraction status

    def describe(self) -> tuple[str, ...]:
        return (
            f"sites: {', '.join(self.sites) or 'all'}",
            f"{self.date_field} from {self.since.isoformat() if self.since else 'the beginning'} "
            f"until {self.until.isoformat() if self.until else 'now'} (exclusive)",
            f"languages: {', '.join(self.languages) or 'all'}",
            f"minimum words: {self.min_words}",
            f"extraction status: {self.status or 'any'}",
        )


@dataclass(frozen=True)
class ExportOptions:
    format: str = "jsonl"
    gzip: bool = False  # jsonl and csv only (Parquet is zstd-compressed inside)
    dedup: str = "none"  # none | exact | near
    max_rows: int | None = None  # rows per file
    max_bytes: int | None = None  # a file is closed once it reaches this size (checked per batch)
    with_warc: bool = False
    progress: bool = True  # a bar on stderr when it is a terminal
    batch_size: int = 1000
    assign_stories: bool = True  # cluster new articles first so every ok row has a story_id
    cluster: ClusterOptions = field(default_factory=ClusterOptions)
    prefix: str = "articles"


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    rows: int
    files: tuple[str, ...]
    duplicates_skipped: int
    warc_files: tuple[str, ...]
    warc_records: int
    card: Path


# -- query ----------------------------------------------------------------------------------------------------
def _filtered(stmt: Select[Any], filters: ExportFilters) -> Select[Any]:
    stmt = stmt.join(Capture, Capture.id == Article.capture_id)
    if filters.sites:
        stmt = stmt.where(Article.site.in_(filters.sites))
    if filters.languages:
        stmt = stmt.where(Article.language.in_(filters.languages))
    if filters.min_words:
        stmt = stmt.where(Article.word_count >= filters.min_words)
    if filters.status:
        stmt = stmt.where(Article.status == filters.status)
    when = Article.published if filters.date_field == "published" else Capture.fetched_at
    if filters.since:
        stmt = stmt.where(when >= filters.since)
    if filters.until:
        stmt = stmt.where(when < filters.until)
    return stmt.outerjoin(StoryCluster, StoryCluster.article_id == Article.id)


def _dedup_key(mode: str) -> Any:
    by_id = literal("id:") + cast(Article.id, String)
    by_hash = literal("hash:") + Article.text_hash
    if mode == "exact":
        return func.coalesce(by_hash, by_id)
    return func.coalesce(literal("story:") + cast(StoryCluster.story_id, String), by_hash, by_id)


def _select(filters: ExportFilters, dedup: str) -> Select[Any]:
    columns: list[Any] = [
        Article.id.label("article_id"), StoryCluster.story_id, Article.url, Article.canonical_url, Article.site,
        Article.title, Article.author, Article.published, Article.modified, Article.language, Article.section,
        Article.description, Article.text, Article.word_count, Article.text_hash, Article.status, Article.reason,
        Capture.fetched_at, Capture.status.label("http_status"), Capture.content_type, Capture.warc_file,
        Capture.warc_offset, Capture.warc_length, Capture.record_id, Capture.payload_digest, Article.extractor,
        Article.extractor_version, Article.extracted_at,
        # not exported, for --with-warc
        Capture.request_record_id, Capture.refers_to_record_id, Capture.record_type,
        Article.metadata_record_id,
    ]
    stmt = _filtered(select(*columns).select_from(Article), filters)
    if dedup != "none":
        first = _filtered(select(func.min(Article.id)).select_from(Article), filters).group_by(_dedup_key(dedup))
        stmt = stmt.where(Article.id.in_(first))
    return stmt.order_by(Article.id)


def _count(session: Session, filters: ExportFilters, dedup: str) -> int:
    inner = _select(filters, dedup).order_by(None).with_only_columns(Article.id).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


# -- writers --------------------------------------------------------------------------------------------------
class ShardWriter(Protocol):
    def write(self, rows: list[dict[str, Any]]) -> None: ...
    def size(self) -> int: ...
    def close(self) -> None: ...


def cast_io(stream: gzip.GzipFile) -> IO[bytes]:
    return stream  # type: ignore[return-value]  # GzipFile is a binary stream; typeshed does not say IO


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class JsonlWriter:
    def __init__(self, path: Path, compress: bool):
        self._raw = open(path, "xb")
        self._out: IO[bytes] = (cast_io(gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6)) if compress
                                else self._raw)

    def write(self, rows: list[dict[str, Any]]) -> None:
        lines = (json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n" for row in rows)
        self._out.write("".join(lines).encode("utf-8"))

    def size(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()


class CsvWriter(JsonlWriter):
    def __init__(self, path: Path, compress: bool):
        super().__init__(path, compress)
        self._text = io.TextIOWrapper(self._out, encoding="utf-8", newline="", write_through=True)
        self._csv = csv.DictWriter(self._text, fieldnames=COLUMN_NAMES)
        self._csv.writeheader()

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._csv.writerows({k: _plain(v) for k, v in row.items()} for row in rows)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()
        super().close()


class ParquetShardWriter:
    def __init__(self, path: Path, compress: bool):
        self._raw = open(path, "xb")
        self._writer = pq.ParquetWriter(self._raw, SCHEMA, compression="zstd")

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._writer.write_batch(pa.RecordBatch.from_pylist(rows, schema=SCHEMA))

    def size(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._writer.close()
        self._raw.close()


_WRITERS: dict[str, type[JsonlWriter] | type[ParquetShardWriter]] = {
    "jsonl": JsonlWriter, "csv": CsvWriter, "parquet": ParquetShardWriter,
}


class Shards:
    """Rows in, files out: opens the next file when the current one has max_rows rows or max_bytes bytes."""

    def __init__(self, out_dir: Path, options: ExportOptions):
        self.out_dir = out_dir
        self.options = options
        self.ext = options.format + (".gz" if options.gzip else "")
        self.done: list[ShardInfo] = []
        self._writer: ShardWriter | None = None
        self._rows = 0

    @property
    def glob(self) -> str:
        return f"{self.options.prefix}-*.{self.ext}"

    def _name(self) -> str:
        return f"{self.options.prefix}-{len(self.done):05d}.{self.ext}"

    def write(self, rows: list[dict[str, Any]]) -> None:
        max_rows = self.options.max_rows
        while rows:
            if self._writer is None:
                self._writer = _WRITERS[self.options.format](self.out_dir / self._name(), self.options.gzip)
                self._rows = 0
            take = len(rows) if not max_rows else min(len(rows), max_rows - self._rows)
            self._writer.write(rows[:take])
            self._rows += take
            rows = rows[take:]
            full_bytes = self.options.max_bytes and self._writer.size() >= self.options.max_bytes
            if (max_rows and self._rows >= max_rows) or full_bytes:
                self.close()

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        name = self._name()
        self.done.append(ShardInfo(name, self._rows, (self.out_dir / name).stat().st_size))
        self._writer = None

    def finish(self) -> tuple[ShardInfo, ...]:
        """Close the last file; an export without rows still writes one (empty) file with the schema."""
        if self._writer is None and not self.done:
            self._writer = _WRITERS[self.options.format](self.out_dir / self._name(), self.options.gzip)
            self._rows = 0
        self.close()
        return tuple(self.done)


# -- export ---------------------------------------------------------------------------------------------------
def _check(out_dir: Path, options: ExportOptions, filters: ExportFilters) -> None:
    if options.format not in FORMATS:
        raise ExportError(f"unknown format {options.format!r} (choose from {', '.join(FORMATS)})")
    if options.dedup not in DEDUP_MODES:
        raise ExportError(f"unknown dedup mode {options.dedup!r} (choose from {', '.join(DEDUP_MODES)})")
    if filters.date_field not in DATE_FIELDS:
        raise ExportError(f"unknown date field {filters.date_field!r} (choose from {', '.join(DATE_FIELDS)})")
    if options.gzip and options.format == "parquet":
        raise ExportError("--gzip applies to jsonl and csv; Parquet files are compressed (zstd) inside")
    for limit, name in ((options.max_rows, "max rows"), (options.max_bytes, "max bytes")):
        if limit is not None and limit < 1:
            raise ExportError(f"{name} must be at least 1, not {limit}")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ExportError(f"output directory {out_dir} is not empty")


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="rows", file=sys.stderr, disable=not enabled or not sys.stderr.isatty())


_EXPORTED = frozenset(COLUMN_NAMES)


def _batches(session: Session, filters: ExportFilters, options: ExportOptions) -> Iterator[list[dict[str, Any]]]:
    stmt = _select(filters, options.dedup).execution_options(yield_per=options.batch_size)
    for part in session.execute(stmt).mappings().partitions(options.batch_size):
        yield [dict(row) for row in part]


def _dedup_detail(options: ExportOptions) -> str:
    if options.dedup == "exact":
        return "exact: one row per text hash (the earliest archived copy)"
    if options.dedup == "near":
        return (f"near: one row per story cluster (the earliest archived member); MinHash over "
                f"{options.cluster.shingle_size}-word shingles, overlap coefficient >= {options.cluster.threshold}")
    return "none: every matching article, duplicates included (story_id marks clusters)"


def export_dataset(index: ArchiveIndex, out_dir: str | Path, options: ExportOptions | None = None, *,
                   filters: ExportFilters | None = None, warc_dir: str | Path | None = None) -> ExportResult:
    """Write the matching articles to ``out_dir`` (created; must be empty) with a dataset card."""
    filters, options, out = filters or ExportFilters(), options or ExportOptions(), Path(out_dir)
    _check(out, options, filters)
    if options.with_warc and warc_dir is None:
        raise ExportError("with_warc needs the WARC directory of the archive (warc_dir)")
    out.mkdir(parents=True, exist_ok=True)
    if options.assign_stories or options.dedup == "near":
        cluster_articles(index, options=options.cluster)
    created = utcnow()
    counts = CardCounts(date_field=filters.date_field)
    shards = Shards(out, options)
    copier = WarcCopier(Path(warc_dir), out / f"{options.prefix}.warc.gz", index) if warc_dir and options.with_warc else None
    with index.sessions() as session:
        total = _count(session, filters, options.dedup)
        everything = _count(session, filters, "none") if options.dedup != "none" else total
        with _progress(total, options.progress) as bar:
            for batch in _batches(session, filters, options):
                if copier is not None:
                    copier.copy_rows(batch)
                rows = [{k: v for k, v in row.items() if k in _EXPORTED} for row in batch]
                for row in rows:
                    counts.add(row)
                shards.write(rows)
                bar.update(len(rows))
    done = shards.finish()
    warc_files = copier.close() if copier is not None else ()
    card = out / "README.md"
    card.write_text(render_card(CardData(
        created=created, source=redact(index.url), data_format=options.format + (" (gzip)" if options.gzip else ""),
        shards=done, filters=filters.describe(), dedup=options.dedup, dedup_detail=_dedup_detail(options),
        counts=counts, warc_files=warc_files, warc_records=copier.records if copier else 0, data_glob=shards.glob,
    )), encoding="utf-8")
    logger.info("exported %d rows to %s (%d files)", counts.rows, out, len(done))
    return ExportResult(out, counts.rows, tuple(s.name for s in done), everything - counts.rows, warc_files,
                        copier.records if copier else 0, card)
