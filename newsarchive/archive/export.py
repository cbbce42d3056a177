"""Offline dataset export: the index's articles as JSONL, CSV or Parquet, with provenance and a dataset card.

Rows stream from the database (``yield_per``: a server-side cursor on PostgreSQL) and are written in
batches, so memory stays flat however many rows there are. Output is sharded by rows and/or bytes;
a README.md (the dataset card, :mod:`newsarchive.archive.datacard`) lands beside the data, and with
``with_warc`` the WARC records of every exported capture are copied byte for byte into one ``.warc.gz``.
:func:`export_stream` writes one stream instead (``newsarchive export -``: stdout), without a card.

Speed: values are fetched raw (no ORM objects, no per-value type conversion in Python); a JSONL line is
built by the database itself (SQLite ``json_object``, PostgreSQL ``json_build_object``); CSV and Parquet
convert whole columns per batch (Arrow casts the timestamps). ``bench/export.py`` measures it against
``sqlite3 -json`` and pandas ``read_sql`` → ``to_parquet`` of the same join.

    result = export_dataset(index, "out/", filters=ExportFilters(sites=("courier",)),
                            options=ExportOptions(format="parquet", dedup="near", fields=("url", "text")))
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import sys
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import (
    Boolean,
    ColumnElement,
    LargeBinary,
    Select,
    String,
    Text,
    TypeDecorator,
    case,
    cast,
    func,
    literal,
    not_,
    null,
    select,
)
from sqlalchemy import type_coerce as coerce
from sqlalchemy.orm import Session

from newsarchive.archive.datacard import (
    SCHEMAS,
    STRINGS,
    TIMESTAMP,
    CardCounts,
    CardData,
    ColumnError,
    OutColumn,
    ShardInfo,
    arrow_schema,
    render_card,
    select_columns,
)
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
    batch_size: int = 2000
    # cluster the articles not yet in a story first, so every ok row has a story_id: one-off work that takes
    # minutes on a large never-clustered index (crawls cluster their new articles when they close)
    assign_stories: bool = False
    cluster: ClusterOptions = field(default_factory=ClusterOptions)
    prefix: str = "articles"
    schema: str = "newsarchive"  # or a preset of datacard.PRESETS: news-please | fundus
    fields: tuple[str, ...] = ()  # only these columns, in this order (names of the schema); () = all
    license: str = "other"  # declared in the dataset card (a Hugging Face license id)


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    rows: int
    files: tuple[str, ...]
    duplicates_skipped: int
    warc_files: tuple[str, ...]
    warc_records: int
    card: Path


@dataclass(frozen=True)
class StreamResult:
    rows: int
    duplicates_skipped: int


# -- query ----------------------------------------------------------------------------------------------------
def _sources() -> dict[str, Any]:
    """Every exportable column (datacard.COLUMNS) as the SQL expression that holds it."""
    a, c = Article, Capture
    return {
        "article_id": a.id, "story_id": StoryCluster.story_id, "url": a.url, "canonical_url": a.canonical_url,
        "site": a.site, "source_domain": c.host, "title": a.title, "author": a.author, "authors": a.authors,
        "agencies": a.agencies, "published": a.published, "modified": a.modified, "language": a.language,
        "section": a.section, "description": a.description, "image_url": a.image_url, "tags": a.tags,
        "paywalled": a.paywalled, "text": a.text, "markdown": a.markdown, "word_count": a.word_count,
        "text_hash": a.text_hash, "status": a.status, "reason": a.reason, "fetched_at": c.fetched_at,
        "http_status": c.status, "content_type": c.content_type, "warc_file": c.warc_file,
        "warc_offset": c.warc_offset, "warc_length": c.warc_length, "record_id": c.record_id,
        "payload_digest": c.payload_digest, "extractor": a.extractor, "extractor_version": a.extractor_version,
        "extracted_at": a.extracted_at,
    }


# read beside the data: the card's counts, and the WARC copier's record locations (--with-warc)
_COUNTED = ("site", "language")
_WARC_SIDE = ("warc_file", "warc_offset", "warc_length", "request_record_id", "refers_to_record_id", "record_type",
              "metadata_record_id")


def _side_columns(with_warc: bool) -> dict[str, Any]:
    sources = _sources()
    side: dict[str, Any] = {name: sources[name] for name in _COUNTED}
    side["date_published"], side["date_fetched"] = Article.published, Capture.fetched_at
    if with_warc:
        side.update({name: getattr(Capture, name) for name in _WARC_SIDE[:-1]})
        side["metadata_record_id"] = Article.metadata_record_id
    return {name: coerce(expr, String) if name.startswith("date_") else expr for name, expr in side.items()}


def _kind(column: OutColumn) -> str:
    if column.dtype == TIMESTAMP:
        return "time"
    if column.dtype == STRINGS:
        return "list"
    return "bool" if column.dtype == pa.bool_() else "plain"


def _raw(column: OutColumn, expr: ColumnElement[Any], as_bytes: bool) -> ColumnElement[Any]:
    """The value as the driver returns it: no ORM type conversion in Python (the writers convert per batch).
    ``as_bytes``: text as SQLite's UTF-8 bytes, which Arrow takes without a detour through Python strings."""
    textual = column.dtype in (pa.string(), TIMESTAMP, STRINGS)
    if as_bytes and textual:
        return coerce(cast(expr, LargeBinary), _Bytes())
    return coerce(expr, String) if _kind(column) in ("time", "list") else expr


class _Bytes(TypeDecorator[bytes]):
    """BLOB values as the driver hands them over (no per-value result processing)."""

    impl = LargeBinary
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


def _json_value(dialect: str, column: OutColumn, expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """The value as the database's JSON builder should embed it: times in ISO 8601 with offset, lists as
    arrays, booleans as true/false (negated where the preset says so)."""
    kind = _kind(column)
    if dialect == "postgresql":
        if kind == "bool" and column.negate:
            return not_(coerce(expr, Boolean))
        return expr
    if kind == "time":  # SQLite keeps naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff"; as datetime.isoformat()
        return func.replace(func.replace(coerce(expr, String), ".000000", ""), " ", "T") + "+00:00"
    if kind == "list":
        return func.json(coerce(expr, String))
    if kind == "bool":
        yes, no = (func.json("false"), func.json("true")) if column.negate else (func.json("true"), func.json("false"))
        return case((expr.is_(None), null()), (coerce(expr, Boolean), yes), else_=no)
    return expr


def _json_line(dialect: str, columns: tuple[OutColumn, ...]) -> ColumnElement[Any]:
    sources = _sources()
    pairs: list[Any] = []
    for column in columns:
        pairs += [literal(column.name, String), _json_value(dialect, column, sources[column.source])]
    if dialect == "postgresql":
        return cast(func.json_build_object(*pairs), Text)
    if dialect == "sqlite":  # as UTF-8 bytes: no decoding to str and encoding back per line
        return cast(func.json_object(*pairs), LargeBinary)
    raise ExportError(f"export supports SQLite and PostgreSQL, not {dialect}")


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


def _where(stmt: Select[Any], filters: ExportFilters, dedup: str) -> Select[Any]:
    stmt = _filtered(stmt.select_from(Article), filters)
    if dedup != "none":
        first = _filtered(select(func.min(Article.id)).select_from(Article), filters).group_by(_dedup_key(dedup))
        stmt = stmt.where(Article.id.in_(first))
    return stmt.order_by(Article.id)


@dataclass(frozen=True)
class Plan:
    """What one export selects: the data (one JSON text column for JSONL, else one raw value per output
    column) followed by the side columns."""

    columns: tuple[OutColumn, ...]
    json_lines: bool
    side: tuple[str, ...]

    @property
    def width(self) -> int:
        return 1 if self.json_lines else len(self.columns)


def plan_select(dialect: str, filters: ExportFilters, options: ExportOptions) -> tuple[Plan, Select[Any]]:
    columns = select_columns(options.schema, options.fields)
    sources = _sources()
    json_lines = options.format == "jsonl"
    as_bytes = dialect == "sqlite" and options.format == "parquet"
    data = ([_json_line(dialect, columns)] if json_lines
            else [_raw(c, sources[c.source], as_bytes) for c in columns])
    side = _side_columns(options.with_warc)
    labelled = [expr.label(f"d{i}") for i, expr in enumerate(data)]  # one column may be read twice
    labelled += [expr.label(f"s_{name}") for name, expr in side.items()]
    stmt = _where(select(*labelled), filters, options.dedup)
    return Plan(columns, json_lines, tuple(side)), stmt


def export_query(dialect: str, filters: ExportFilters | None = None,
                 options: ExportOptions | None = None) -> Select[Any]:
    """The plain SELECT of the exported columns (no JSON building): what the benchmark's baselines run."""
    options = options or ExportOptions()
    sources = _sources()
    columns = select_columns(options.schema, options.fields)
    return _where(select(*(sources[c.source].label(c.name) for c in columns)), filters or ExportFilters(),
                  options.dedup)


def _count(session: Session, filters: ExportFilters, dedup: str) -> int:
    inner = _where(select(Article.id), filters, dedup).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


# -- values, a column at a time --------------------------------------------------------------------------------
def _iso(value: Any) -> str | None:
    """ISO 8601 with offset from SQLite's naive UTC text or a driver's datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return value.removesuffix(".000000").replace(" ", "T", 1) + "+00:00"  # as datetime.isoformat()


def _as_list(value: Any) -> list[str] | None:
    if value is None or isinstance(value, list):
        return value
    return json.loads(value) if value else []


def _as_bool(negate: bool) -> Callable[[Any], bool | None]:
    return lambda v: None if v is None else (not v if negate else bool(v))


def _csv_values(column: OutColumn, values: Sequence[Any]) -> list[Any]:
    kind = _kind(column)
    if kind == "time":
        return [_iso(v) for v in values]
    if kind == "list":
        return [v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values]
    if kind == "bool":
        to_bool = _as_bool(column.negate)
        return [None if (b := to_bool(v)) is None else ("true" if b else "false") for v in values]
    return list(values)


def _arrow_values(column: OutColumn, values: Sequence[Any]) -> pa.Array:
    kind = _kind(column)
    if kind == "list":
        return pa.array([_as_list(v) for v in values], STRINGS)  # json.loads takes str and UTF-8 bytes
    if kind == "bool":
        return pa.array([_as_bool(column.negate)(v) for v in values], pa.bool_())
    first = next((v for v in values if v is not None), None)
    if isinstance(first, bytes):  # SQLite text as UTF-8 bytes: Arrow checks the encoding, no Python str
        text = pa.array(values, pa.binary()).cast(pa.string())
        return text.cast(pa.timestamp("us")).cast(TIMESTAMP) if kind == "time" else text
    if kind == "time":
        if isinstance(first, datetime):
            return pa.array([v if v is None or v.tzinfo else v.replace(tzinfo=UTC) for v in values], TIMESTAMP)
        return pa.array(values, pa.string()).cast(pa.timestamp("us")).cast(TIMESTAMP)
    return pa.array(values, column.dtype)


# -- writers --------------------------------------------------------------------------------------------------
class ShardWriter(Protocol):
    def write(self, data: list[Sequence[Any]]) -> None: ...  # one sequence per data column, equally long
    def size(self) -> int: ...
    def close(self) -> None: ...


def cast_io(stream: gzip.GzipFile) -> IO[bytes]:
    return stream  # type: ignore[return-value]  # GzipFile is a binary stream; typeshed does not say IO


class JsonlWriter:
    """Lines made by the database (one JSON object per row)."""

    def __init__(self, raw: IO[bytes], compress: bool, columns: tuple[OutColumn, ...]):
        self._raw = raw
        self._out: IO[bytes] = (cast_io(gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6)) if compress
                                else raw)

    def write(self, data: list[Sequence[Any]]) -> None:
        lines = data[0]
        if lines and isinstance(lines[0], str):  # PostgreSQL's text
            self._out.write(("\n".join(lines) + "\n").encode("utf-8"))
        elif lines:
            self._out.write(b"\n".join(lines) + b"\n")

    def size(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()


class CsvWriter(JsonlWriter):
    def __init__(self, raw: IO[bytes], compress: bool, columns: tuple[OutColumn, ...]):
        super().__init__(raw, compress, columns)
        self._columns = columns
        self._text = io.TextIOWrapper(self._out, encoding="utf-8", newline="", write_through=True)
        self._csv = csv.writer(self._text)
        self._csv.writerow([c.name for c in columns])

    def write(self, data: list[Sequence[Any]]) -> None:
        self._csv.writerows(zip(*(_csv_values(c, v) for c, v in zip(self._columns, data, strict=True)), strict=True))

    def close(self) -> None:
        self._text.flush()
        self._text.detach()
        super().close()


class ParquetShardWriter:
    def __init__(self, raw: IO[bytes], compress: bool, columns: tuple[OutColumn, ...]):
        self._raw = raw
        self._columns = columns
        self._schema = arrow_schema(columns)
        self._writer = pq.ParquetWriter(raw, self._schema, compression="zstd")

    def write(self, data: list[Sequence[Any]]) -> None:
        arrays = [_arrow_values(c, v) for c, v in zip(self._columns, data, strict=True)]
        self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self._schema))

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

    def __init__(self, out_dir: Path, options: ExportOptions, columns: tuple[OutColumn, ...]):
        self.out_dir = out_dir
        self.options = options
        self.columns = columns
        self.ext = options.format + (".gz" if options.gzip else "")
        self.done: list[ShardInfo] = []
        self._writer: ShardWriter | None = None
        self._rows = 0

    @property
    def glob(self) -> str:
        return f"{self.options.prefix}-*.{self.ext}"

    def _name(self) -> str:
        return f"{self.options.prefix}-{len(self.done):05d}.{self.ext}"

    def _open(self) -> None:
        raw = open(self.out_dir / self._name(), "xb")
        self._writer = _WRITERS[self.options.format](raw, self.options.gzip, self.columns)
        self._rows = 0

    def write(self, data: list[Sequence[Any]], rows: int) -> None:
        max_rows = self.options.max_rows
        start = 0
        while start < rows:
            if self._writer is None:
                self._open()
            assert self._writer is not None
            take = rows - start if not max_rows else min(rows - start, max_rows - self._rows)
            self._writer.write([column[start:start + take] for column in data] if take < rows else data)
            self._rows += take
            start += take
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
            self._open()
        self.close()
        return tuple(self.done)


class StdoutSink:
    """All rows to one stream (``export -``): no shards, no card."""

    def __init__(self, stream: IO[bytes], options: ExportOptions, columns: tuple[OutColumn, ...]):
        self._stream = stream
        unclosed = typing.cast(IO[bytes], _Unclosed(stream))
        self._writer: ShardWriter = _WRITERS[options.format](unclosed, options.gzip, columns)
        self.rows = 0

    def write(self, data: list[Sequence[Any]], rows: int) -> None:
        self._writer.write(data)
        self.rows += rows

    def finish(self) -> tuple[ShardInfo, ...]:
        self._writer.close()
        self._stream.flush()
        return (ShardInfo("-", self.rows, 0),)


class _Unclosed(io.RawIOBase):
    """stdout for a writer that closes what it writes to: closing flushes, stdout stays open."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._stream.write(data)
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def close(self) -> None:
        self._stream.flush()


# -- export ---------------------------------------------------------------------------------------------------
def _check(out_dir: Path | None, options: ExportOptions, filters: ExportFilters) -> None:
    if options.format not in FORMATS:
        raise ExportError(f"unknown format {options.format!r} (choose from {', '.join(FORMATS)})")
    if options.dedup not in DEDUP_MODES:
        raise ExportError(f"unknown dedup mode {options.dedup!r} (choose from {', '.join(DEDUP_MODES)})")
    if filters.date_field not in DATE_FIELDS:
        raise ExportError(f"unknown date field {filters.date_field!r} (choose from {', '.join(DATE_FIELDS)})")
    if options.schema not in SCHEMAS:
        raise ExportError(f"unknown schema {options.schema!r} (choose from {', '.join(SCHEMAS)})")
    if options.gzip and options.format == "parquet":
        raise ExportError("--gzip applies to jsonl and csv; Parquet files are compressed (zstd) inside")
    for limit, name in ((options.max_rows, "max rows"), (options.max_bytes, "max bytes")):
        if limit is not None and limit < 1:
            raise ExportError(f"{name} must be at least 1, not {limit}")
    if out_dir is None:
        if options.max_rows or options.max_bytes or options.with_warc:
            raise ExportError("export to stdout (-) writes one stream: no --max-rows, --max-bytes or --with-warc")
    elif out_dir.exists() and any(out_dir.iterdir()):
        raise ExportError(f"output directory {out_dir} is not empty")
    try:
        select_columns(options.schema, options.fields)
    except ColumnError as exc:
        raise ExportError(str(exc)) from exc


def _progress(total: int | None, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="rows", file=sys.stderr, disable=not enabled or not sys.stderr.isatty())


def _month(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m") if value.tzinfo else value.strftime("%Y-%m")
    return str(value)[:7]


def _batches(session: Session, stmt: Select[Any], batch_size: int) -> Iterator[list[Sequence[Any]]]:
    """Column-wise batches of the raw rows."""
    result = session.execute(stmt.execution_options(yield_per=batch_size))
    for part in result.partitions(batch_size):
        yield [list(column) for column in zip(*part, strict=True)]


def _dedup_detail(options: ExportOptions) -> str:
    if options.dedup == "exact":
        return "exact: one row per text hash (the earliest archived copy)"
    if options.dedup == "near":
        return (f"near: one row per story cluster (the earliest archived member); MinHash over "
                f"{options.cluster.shingle_size}-word shingles, overlap coefficient >= {options.cluster.threshold}")
    return "none: every matching article, duplicates included (story_id marks clusters)"


@dataclass
class _Run:
    counts: CardCounts
    copier: WarcCopier | None
    total: int | None


def _stream(index: ArchiveIndex, sink: Shards | StdoutSink, filters: ExportFilters, options: ExportOptions,
            run: _Run) -> None:
    plan, stmt = plan_select(index.engine.dialect.name, filters, options)
    date_key = "date_published" if filters.date_field == "published" else "date_fetched"
    at = {name: plan.width + i for i, name in enumerate(plan.side)}
    with index.sessions() as session, _progress(run.total, options.progress) as bar:
        for columns in _batches(session, stmt, options.batch_size):
            rows = len(columns[0])
            if run.copier is not None:
                run.copier.copy_rows([dict(zip(plan.side, values, strict=True))
                                      for values in zip(*columns[plan.width:], strict=True)])
            run.counts.add(columns[at["site"]], columns[at["language"]], [_month(v) for v in columns[at[date_key]]])
            sink.write(columns[:plan.width], rows)
            bar.update(rows)


def _cluster_first(index: ArchiveIndex, options: ExportOptions) -> None:
    if options.dedup == "near" or options.assign_stories:
        cluster_articles(index, options=options.cluster)


def _counts_first(index: ArchiveIndex, filters: ExportFilters, options: ExportOptions) -> tuple[int | None, int | None]:
    """(rows before dedup, rows to export), each only when needed (the card's skipped count, the progress bar)."""
    with index.sessions() as session:
        everything = _count(session, filters, "none") if options.dedup != "none" or options.progress else None
        total = _count(session, filters, options.dedup) if options.dedup != "none" and options.progress else everything
    return everything, total


def export_stream(index: ArchiveIndex, stream: IO[bytes], options: ExportOptions | None = None, *,
                  filters: ExportFilters | None = None) -> StreamResult:
    """Write the matching articles to ``stream`` (``export -``: stdout) as one JSONL, CSV or Parquet stream,
    without shards, card or WARC copy."""
    filters, options = filters or ExportFilters(), options or ExportOptions()
    _check(None, options, filters)
    _cluster_first(index, options)
    everything, total = _counts_first(index, filters, options)
    sink = StdoutSink(stream, options, select_columns(options.schema, options.fields))
    run = _Run(CardCounts(date_field=filters.date_field), None, total)
    _stream(index, sink, filters, options, run)
    sink.finish()
    logger.info("exported %d rows to a stream", run.counts.rows)
    skipped = (everything or 0) - run.counts.rows if options.dedup != "none" else 0
    return StreamResult(run.counts.rows, skipped)


def export_dataset(index: ArchiveIndex, out_dir: str | Path, options: ExportOptions | None = None, *,
                   filters: ExportFilters | None = None, warc_dir: str | Path | None = None) -> ExportResult:
    """Write the matching articles to ``out_dir`` (created; must be empty) with a dataset card."""
    filters, options, out = filters or ExportFilters(), options or ExportOptions(), Path(out_dir)
    _check(out, options, filters)
    if options.with_warc and warc_dir is None:
        raise ExportError("with_warc needs the WARC directory of the archive (warc_dir)")
    out.mkdir(parents=True, exist_ok=True)
    _cluster_first(index, options)
    created = utcnow()
    columns = select_columns(options.schema, options.fields)
    shards = Shards(out, options, columns)
    copier = WarcCopier(Path(warc_dir), out / f"{options.prefix}.warc.gz", index) if warc_dir and options.with_warc else None
    everything, total = _counts_first(index, filters, options)
    run = _Run(CardCounts(date_field=filters.date_field), copier, total)
    _stream(index, shards, filters, options, run)
    done = shards.finish()
    warc_files = copier.close() if copier is not None else ()
    card = out / "README.md"
    card.write_text(render_card(CardData(
        created=created, source=redact(index.url), data_format=options.format + (" (gzip)" if options.gzip else ""),
        shards=done, filters=filters.describe(), dedup=options.dedup, dedup_detail=_dedup_detail(options),
        counts=run.counts, warc_files=warc_files, warc_records=copier.records if copier else 0,
        data_glob=shards.glob, columns=columns, schema_name=options.schema, license=options.license,
    )), encoding="utf-8")
    rows = run.counts.rows
    logger.info("exported %d rows to %s (%d files)", rows, out, len(done))
    return ExportResult(out, rows, tuple(s.name for s in done), (everything or 0) - rows if options.dedup != "none" else 0,
                        warc_files, copier.records if copier else 0, card)
