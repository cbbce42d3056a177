"""The exported dataset's schema and its dataset card (README.md beside the data files)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from newsarchive import __version__

TIMESTAMP = pa.timestamp("us", tz="UTC")

# (column, Arrow type, description): the one definition of an exported row, in output order.
COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("article_id", pa.int64(), "Id of the article row in the source index"),
    ("story_id", pa.int64(), "Story cluster (article id of its first member); wire copies at several sites share it"),
    ("url", pa.string(), "URL as fetched"),
    ("canonical_url", pa.string(), "Canonical URL (rel=canonical, tracking parameters removed)"),
    ("site", pa.string(), "Site name (sites.toml) or host"),
    ("title", pa.string(), "Headline"),
    ("author", pa.string(), "Author(s) as the page names them"),
    ("published", TIMESTAMP, "Publication time (UTC) from the page metadata"),
    ("modified", TIMESTAMP, "Last modification time (UTC) from the page metadata"),
    ("language", pa.string(), "ISO 639-1 language code"),
    ("section", pa.string(), "Section / category"),
    ("description", pa.string(), "Teaser / meta description"),
    ("text", pa.string(), "Extracted article text (paragraphs separated by newlines)"),
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


@dataclass
class CardCounts:
    """Counted while rows stream by (small: one entry per site, language and month)."""

    date_field: str = "published"
    rows: int = 0
    by_site: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_month: Counter[str] = field(default_factory=Counter)

    def add(self, row: dict[str, object]) -> None:
        self.rows += 1
        self.by_site[str(row["site"] or "(none)")] += 1
        self.by_language[str(row["language"] or "(unknown)")] += 1
        moment = row["published" if self.date_field == "published" else "fetched_at"]
        self.by_month[moment.strftime("%Y-%m") if isinstance(moment, datetime) else "(undated)"] += 1


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


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _counts(title: str, counter: Counter[str], *, by_key: bool = False) -> list[str]:
    items = sorted(counter.items()) if by_key else counter.most_common()
    return [f"### {title}", "", *_table((title.split()[-1], "rows"), list(items)), ""]


def _front_matter(data: CardData) -> list[str]:
    languages = sorted(k for k in data.counts.by_language if not k.startswith("("))
    lines = ["---", "pretty_name: newsarchive export"]
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
        *_table(("column", "type", "description"), [(f"`{n}`", str(t), d) for n, t, d in COLUMNS]), "",
        "Times are UTC (ISO 8601 in JSONL and CSV). Empty values are null (JSONL, Parquet) or empty (CSV).", "",
        *_provenance(data),
    ]
    return "\n".join(lines) + "\n"
