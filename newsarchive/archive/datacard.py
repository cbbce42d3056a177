"""The exported dataset's schema and its dataset card (README.md beside the data files).

:data:`COLUMNS` is newsarchive's own row; :data:`PRESETS` name a subset of it as other tools do, so a dataset
can replace their output: ``news-please`` (its ``NewsArticle`` fields: ``maintext``, ``date_publish``,
``date_download``, ``source_domain`` ...) and ``fundus`` (``Article.to_json``: ``plaintext``,
``publishing_date``, ``topics``, ``free_access`` ... plus ``requested_url``, ``publisher`` and ``crawl_date``
of its ``html``/``publisher``). :func:`select_columns` applies a preset and ``--fields``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from newsarchive import __version__

TIMESTAMP = pa.timestamp("us", tz="UTC")
STRINGS = pa.list_(pa.string())

# (column, Arrow type, description): the one definition of an exported row, in output order.
COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("article_id", pa.int64(), "Id of the article row in the source index"),
    ("story_id", pa.int64(), "Story cluster (article id of its first member); wire copies at several sites share "
                             "it; null for an article not clustered yet (`newsarchive stories` or export --stories)"),
    ("url", pa.string(), "URL as fetched"),
    ("canonical_url", pa.string(), "Canonical URL (rel=canonical, tracking parameters removed)"),
    ("site", pa.string(), "Site name (sites.toml) or host"),
    ("source_domain", pa.string(), "Host name of the URL (www.example.com)"),
    ("title", pa.string(), "Headline"),
    ("author", pa.string(), "The authors joined by '; '"),
    ("authors", STRINGS, "Authors, one name each (bylines, JSON-LD, meta tags)"),
    ("agencies", STRINGS, "News agencies credited (dpa, AFP, Reuters ...), apart from the authors"),
    ("published", TIMESTAMP, "Publication time (UTC) from the page metadata"),
    ("modified", TIMESTAMP, "Last modification time (UTC) from the page metadata"),
    ("language", pa.string(), "ISO 639-1 language code"),
    ("section", pa.string(), "Section / category"),
    ("description", pa.string(), "Teaser / meta description"),
    ("image_url", pa.string(), "Lead image (og:image / JSON-LD image), absolute URL"),
    ("tags", STRINGS, "Keywords / tags the page declares"),
    ("paywalled", pa.bool_(), "True when the page declares isAccessibleForFree=false; null when it says nothing"),
    ("text", pa.string(), "Extracted article text (paragraphs separated by newlines)"),
    ("markdown", pa.string(), "The article body as Markdown: headings, paragraphs and lists kept"),
    ("word_count", pa.int32(), "Number of \\w+ tokens in text"),
    ("text_hash", pa.string(), "SHA-256 of text (exact-duplicate key)"),
    ("status", pa.string(), "Extraction status: ok or failed"),
    ("reason", pa.string(), "Why extraction failed (empty when ok)"),
    ("fetched_at", TIMESTAMP, "When the page was fetched (UTC, WARC-Date)"),
    ("http_status", pa.int32(), "HTTP status of the archived response"),
    ("content_type", pa.string(), "Content-Type of the archived response"),
    ("warc_file", pa.string(), "WARC file of the source archive holding the response record"),
    ("warc_offset", pa.int64(), "Byte offset of the response record (one gzip member) in warc_file"),
    ("warc_length", pa.int64(), "Byte length of the response record in warc_file"),
    ("record_id", pa.string(), "WARC-Record-ID of the response record"),
    ("payload_digest", pa.string(), "WARC-Payload-Digest of the response (sha1, base32)"),
    ("extractor", pa.string(), "Extractor that produced text and metadata"),
    ("extractor_version", pa.string(), "Version of the extractor"),
    ("extracted_at", TIMESTAMP, "When the text was extracted (UTC)"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _, _ in COLUMNS)
SCHEMA = pa.schema([pa.field(name, dtype) for name, dtype, _ in COLUMNS])
_BY_NAME = {name: (dtype, description) for name, dtype, description in COLUMNS}
NOT = "not "  # a preset source "not paywalled": the negation of a boolean column

# preset -> (output name, source column of COLUMNS): the columns other tools' users expect, named as there
PRESETS: dict[str, tuple[tuple[str, str], ...]] = {
    "news-please": (
        ("url", "url"), ("source_domain", "source_domain"), ("title", "title"), ("description", "description"),
        ("maintext", "text"), ("authors", "authors"), ("date_publish", "published"), ("date_modify", "modified"),
        ("date_download", "fetched_at"), ("language", "language"), ("image_url", "image_url"),
    ),
    "fundus": (
        ("title", "title"), ("plaintext", "text"), ("authors", "authors"), ("publishing_date", "published"),
        ("topics", "tags"), ("free_access", NOT + "paywalled"), ("lang", "language"), ("requested_url", "url"),
        ("publisher", "site"), ("crawl_date", "fetched_at"),
    ),
}
SCHEMAS = ("newsarchive", *PRESETS)


class ColumnError(ValueError):
    """An unknown preset or field name."""


@dataclass(frozen=True)
class OutColumn:
    """One exported column: its name in the output and the column of :data:`COLUMNS` it holds."""

    name: str
    source: str
    negate: bool = False  # a boolean source, negated (fundus' free_access is "not paywalled")

    @property
    def dtype(self) -> pa.DataType:
        return _BY_NAME[self.source][0]

    @property
    def description(self) -> str:
        text = _BY_NAME[self.source][1]
        return f"Not {self.source}: {text}" if self.negate else text


def _preset(schema: str) -> tuple[OutColumn, ...]:
    if schema == "newsarchive":
        return tuple(OutColumn(name, name) for name in COLUMN_NAMES)
    if schema not in PRESETS:
        raise ColumnError(f"unknown schema {schema!r} (choose from {', '.join(SCHEMAS)})")
    return tuple(OutColumn(name, source.removeprefix(NOT), source.startswith(NOT)) for name, source in PRESETS[schema])


def select_columns(schema: str = "newsarchive", fields: tuple[str, ...] = ()) -> tuple[OutColumn, ...]:
    """The preset's columns, or the ``fields`` (in that order) named as in the preset or in :data:`COLUMNS`."""
    columns = _preset(schema)
    if not fields:
        return columns
    known = {c.name: c for c in columns}
    renamed = {c.source for c in columns if c.name != c.source}
    known.update({name: OutColumn(name, name) for name in COLUMN_NAMES if name not in known and name not in renamed})
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise ColumnError(f"unknown field(s) {', '.join(unknown)} (choose from {', '.join(known)})")
    if len(set(fields)) != len(fields):
        raise ColumnError(f"a field is named twice in {','.join(fields)}")
    return tuple(known[f] for f in fields)


def arrow_schema(columns: tuple[OutColumn, ...]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.dtype) for c in columns])


@dataclass
class CardCounts:
    """Counted while rows stream by (small: one entry per site, language and month)."""

    date_field: str = "published"
    rows: int = 0
    by_site: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_month: Counter[str] = field(default_factory=Counter)

    def add(self, sites: Sequence[str | None], languages: Sequence[str | None], months: Sequence[str | None]) -> None:
        """One batch of rows: their sites, languages and months (``YYYY-MM`` of the date field)."""
        self.rows += len(sites)
        self.by_site.update(s or "(none)" for s in sites)
        self.by_language.update(lang or "(unknown)" for lang in languages)
        self.by_month.update(m or "(undated)" for m in months)


@dataclass(frozen=True)
class ShardInfo:
    name: str
    rows: int
    bytes: int


@dataclass(frozen=True)
class CardData:
    created: datetime
    source: str  # the index URL, password redacted
    data_format: str
    shards: tuple[ShardInfo, ...]
    filters: tuple[str, ...]
    dedup: str
    dedup_detail: str
    counts: CardCounts
    warc_files: tuple[str, ...]
    warc_records: int
    data_glob: str
    columns: tuple[OutColumn, ...] = tuple(OutColumn(name, name) for name in COLUMN_NAMES)
    schema_name: str = "newsarchive"
    license: str = "other"  # a Hugging Face license id (cc-by-4.0, other, unknown ...)


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _counts(title: str, counter: Counter[str], *, by_key: bool = False) -> list[str]:
    items = sorted(counter.items()) if by_key else counter.most_common()
    return [f"### {title}", "", *_table((title.split()[-1], "rows"), list(items)), ""]


def _front_matter(data: CardData) -> list[str]:
    languages = sorted(k for k in data.counts.by_language if not k.startswith("("))
    lines = ["---", "pretty_name: newsarchive export", f"license: {data.license}"]
    if languages:
        lines += ["language:", *(f"- {lang}" for lang in languages)]
    lines += ["configs:", "- config_name: default", "  data_files:", "  - split: train",
              f'    path: "{data.data_glob}"', "---", ""]
    return lines


def _provenance(data: CardData) -> list[str]:
    lines = [
        "## Provenance", "",
        "Every row points at the archived HTTP response it was extracted from: `warc_file`, `warc_offset` and "
        "`warc_length` locate the response record (one gzip member) in the source archive's WARC files, "
        "`record_id` and `payload_digest` identify it, `fetched_at` is its WARC-Date. `extractor` and "
        "`extractor_version` say which program turned the page into `text`. Seek to `warc_offset`, read "
        "`warc_length` bytes and gunzip them to get the record back, byte for byte.", "",
    ]
    if data.warc_files:
        lines += [f"The matching WARC records ({data.warc_records}: response, request and metadata record of "
                  "every exported capture, a warcinfo record first) were copied byte for byte into "
                  + ", ".join(f"`{name}`" for name in data.warc_files)
                  + "; the `warc_*` columns still refer to the source archive.", ""]
    return lines


def _license(data: CardData) -> list[str]:
    lines = ["## License", "", f"Declared license: `{data.license}`."]
    if data.license in ("other", "unknown"):
        lines.append("The article texts, titles and images remain the work of their publishers and authors; "
                     "they were archived from the public web and are not licensed for redistribution by this "
                     "export. Check each publisher's terms (and your jurisdiction's text and data mining "
                     "exceptions) before sharing the data; pass `--license` to export to declare one.")
    return [*lines, ""]


def render_card(data: CardData) -> str:
    """The dataset card: what is in the data, how it was selected, its schema and where it came from."""
    total_bytes = sum(s.bytes for s in data.shards)
    lines = [
        *_front_matter(data),
        "# newsarchive dataset export", "",
        f"Created {data.created.isoformat(timespec='seconds')} by newsarchive {__version__} from `{data.source}`.",
        "", f"{data.counts.rows} rows in {len(data.shards)} {data.data_format} file(s), {total_bytes} bytes.", "",
        "## Files", "", *_table(("file", "rows", "bytes"), [(s.name, s.rows, s.bytes) for s in data.shards]), "",
        "## Selection", "", *(f"- {line}" for line in data.filters), f"- deduplication: {data.dedup_detail}", "",
        "## Counts", "",
        *_counts("Rows per site", data.counts.by_site),
        *_counts("Rows per language", data.counts.by_language),
        *_counts(f"Rows per month ({data.counts.date_field})", data.counts.by_month, by_key=True),
        "## Schema", "",
        *([f"Columns named as {data.schema_name} names them (`--schema {data.schema_name}`).", ""]
          if data.schema_name != "newsarchive" else []),
        *_table(("column", "type", "description"),
                [(f"`{c.name}`", str(c.dtype), c.description) for c in data.columns]), "",
        "Times are UTC with their offset (ISO 8601 in JSONL and CSV, `+00:00`). Lists are JSON arrays in JSONL, "
        "JSON text in CSV and lists in Parquet. Empty values are null (JSONL, Parquet) or empty (CSV).", "",
        *_license(data),
        *_provenance(data),
    ]
    return "\n".join(lines) + "\n"
