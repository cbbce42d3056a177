"""Dataset export: each format read back and compared with the index; filters, dedup, shards, card, WARC copy."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from newsarchive import __version__
from newsarchive.archive.datacard import COLUMN_NAMES, SCHEMA
from newsarchive.archive.export import ExportError, ExportFilters, ExportOptions, export_dataset
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.warc import HttpExchange, WarcRef, WarcWriter, WarcWriterOptions, read_record

SEEDS = Path("/work/shared/seeds")
T0 = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)


def seed_text(prefix: str) -> str:
    path = next(SEEDS.glob(f"{prefix}_*.txt"), None)
    if path is None:
        pytest.skip(f"seed texts not found in {SEEDS}")
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Spec:
    url: str
    site: str
    text: str
    language: str = "de"
    published: datetime | None = T0
    status: str = "ok"


def specs() -> list[Spec]:
    s2 = seed_text("002")
    return [
        Spec("https://www.oe24.example/welt/putin-nordkorea", "oe24", seed_text("000")),
        Spec("https://www.zdf.example/nachrichten/putin-nordkorea", "zdf", seed_text("001"),
             published=T0 + timedelta(days=200)),
        Spec("https://www.srf.example/news/kim-russland", "srf", s2, published=T0 - timedelta(days=140)),
        Spec("https://www.vienna.example/politik/choe-kreml", "vienna", seed_text("003")),
        Spec("https://www.n-tv.example/politik/putin-kim", "ntv", seed_text("004"), published=T0 + timedelta(hours=5)),
        Spec("https://www.blick.example/ausland/kim-russland", "blick", s2, published=T0 - timedelta(days=139)),
        Spec("https://www.oe24.example/welt/video-only", "oe24", "", status="failed", published=None),
        Spec("https://news.example/world/short-note", "newsex", "The harbour bridge reopened on Friday morning "
             "after eighteen months of repairs that closed the crossing to all traffic.", language="en",
             published=datetime(2023, 12, 24, 8, 0, tzinfo=UTC)),
    ]


@dataclass(frozen=True)
class Archive:
    index: ArchiveIndex
    home: Path
    warc_dir: Path


def _html(spec: Spec) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in spec.text.split("\n\n") if p.strip())
    return f"<html lang='{spec.language}'><body><article>{paragraphs}</article></body></html>".encode()


def _rows(spec: Spec, rec: Any, meta_id: str, n: int) -> tuple[Capture, Article]:
    capture = Capture(url=spec.url, canonical_url=spec.url, url_key=spec.url, host=spec.url.split("/")[2],
                      status=200, fetched_at=rec.fetched_at, content_type="text/html; charset=utf-8",
                      payload_digest=rec.payload_digest, record_id=rec.record_id, warc_file=rec.ref.path,
                      warc_offset=rec.ref.offset, warc_length=rec.ref.length,
                      request_record_id=rec.request_record_id, kind="article")
    article = Article(url=spec.url, canonical_url=spec.url, site=spec.site, status=spec.status,
                      reason="no text" if spec.status != "ok" else None, title=f"Title {n}",
                      published=spec.published, language=spec.language, text=spec.text,
                      word_count=len(re.findall(r"\w+", spec.text)),
                      text_hash=hashlib.sha256(spec.text.encode()).hexdigest() if spec.text else None,
                      extractor="trafilatura", extractor_version="2.3.1", metadata_record_id=meta_id,
                      fetched_at=rec.fetched_at, **new_fields(n))
    return capture, article


def new_fields(n: int) -> dict[str, Any]:
    """The fields of migration 0003, varied per row (even rows: two authors; row 1: paywalled)."""
    authors = [f"Autorin {n}", "Max Muster"] if n % 2 == 0 else []
    return {"authors": authors, "author": "; ".join(authors) or None, "agencies": ["dpa"] if n == 3 else [],
            "tags": ["Politik", f"Tag {n}"], "paywalled": {1: True, 2: False}.get(n),
            "image_url": f"https://img.example/{n}.jpg" if n != 4 else None, "markdown": f"# Title {n}\n\nBody"}


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    home = tmp_path / "home"
    return build_archive(ArchiveIndex(f"sqlite:///{home / 'index.sqlite'}"), home)


def build_archive(index: ArchiveIndex, home: Path) -> Archive:
    """Real WARC files and the index rows pointing into them. Metadata records are written late (after other
    exchanges) and, for two articles, into a second file, as reextract does: the copier must find them."""
    warc_dir = home / "warcs"
    tick = iter(range(10_000))
    clock = lambda: T0 + timedelta(minutes=next(tick))  # noqa: E731
    all_specs = specs()
    with WarcWriter(warc_dir, WarcWriterOptions(host="test", clock=clock)) as writer:
        recs = [writer.write_exchange(HttpExchange(s.url, 200, [("Content-Type", "text/html; charset=utf-8")],
                                                   _html(s), request_headers=[("Host", s.url.split("/")[2])]))
                for s in all_specs]
        metas = [writer.write_metadata(s.url, r.record_id, {"title": f"Title {n}"})[1]
                 for n, (s, r) in enumerate(zip(all_specs[:-2], recs[:-2], strict=True))]
    with WarcWriter(warc_dir, WarcWriterOptions(host="reextract", clock=clock)) as writer:
        metas += [writer.write_metadata(s.url, r.record_id, {"title": "late"})[1]
                  for s, r in zip(all_specs[-2:], recs[-2:], strict=True)]
    for n, (spec, rec, meta) in enumerate(zip(all_specs, recs, metas, strict=True)):
        capture, article = _rows(spec, rec, meta, n)
        with index.session() as s:
            s.add(capture)
            s.flush()
            article.capture_id = capture.id
            s.add(article)
    return Archive(index, home, warc_dir)


def index_rows(index: ArchiveIndex, status: str | None = "ok") -> dict[int, tuple[Article, Capture]]:
    with index.sessions() as s:
        stmt = select(Article, Capture).join(Capture, Capture.id == Article.capture_id)
        if status:
            stmt = stmt.where(Article.status == status)
        return {a.id: (a, c) for a, c in s.execute(stmt)}


def assert_matches_index(rows: list[dict[str, Any]], index: ArchiveIndex, *, as_text: bool = False) -> None:
    expected = index_rows(index)
    assert sorted(int(r["article_id"]) for r in rows) == sorted(expected)
    for row in rows:
        article, capture = expected[int(row["article_id"])]
        want = {"url": article.url, "canonical_url": article.canonical_url, "site": article.site,
                "text": article.text, "title": article.title, "language": article.language,
                "text_hash": article.text_hash, "record_id": capture.record_id, "warc_file": capture.warc_file,
                "warc_offset": capture.warc_offset, "warc_length": capture.warc_length,
                "payload_digest": capture.payload_digest, "extractor": "trafilatura", "extractor_version": "2.3.1",
                "fetched_at": capture.fetched_at, "published": article.published, "word_count": article.word_count,
                "source_domain": capture.host, "authors": article.authors, "tags": article.tags,
                "agencies": article.agencies, "paywalled": article.paywalled, "image_url": article.image_url,
                "markdown": article.markdown, "author": article.author}
        for key, value in want.items():
            got = row[key]
            if as_text:
                value = (value.isoformat() if isinstance(value, datetime) else "" if value is None
                         else json.dumps(value, ensure_ascii=False) if isinstance(value, list)
                         else str(value).lower() if isinstance(value, bool) else str(value))
            elif isinstance(got, str) and isinstance(value, datetime):
                got = datetime.fromisoformat(got)
            assert got == value, (key, row["article_id"])


def story_ids(rows: list[dict[str, Any]], index: ArchiveIndex) -> dict[str, Any]:
    expected = index_rows(index)
    return {expected[int(r["article_id"])][0].site: r["story_id"] for r in rows}


def read_jsonl(out: Path, pattern: str = "*.jsonl*") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(out.glob(pattern)):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
            rows += [json.loads(line) for line in fh]
    return rows


def test_jsonl_round_trip_with_provenance_and_stories(archive: Archive, tmp_path: Path) -> None:
    result = export_dataset(archive.index, tmp_path / "out", options=ExportOptions(progress=False,
                                                                                   assign_stories=True))
    rows = read_jsonl(tmp_path / "out")
    assert result.rows == len(rows) == 7 and result.files == ("articles-00000.jsonl",)
    assert list(rows[0]) == list(COLUMN_NAMES)
    assert_matches_index(rows, archive.index)
    stories = story_ids(rows, archive.index)
    assert stories["oe24"] == stories["ntv"]  # the wire copies: one story
    assert len({stories[s] for s in ("oe24", "zdf", "srf", "vienna", "newsex")}) == 5
    assert stories["srf"] == stories["blick"]  # exact copy


def test_no_clustering_unless_asked(archive: Archive, tmp_path: Path) -> None:
    """Clustering a never-clustered index is one-off work of minutes at 100k articles: not by default."""
    export_dataset(archive.index, tmp_path / "out", options=ExportOptions(progress=False))
    assert {r["story_id"] for r in read_jsonl(tmp_path / "out")} == {None}
    export_dataset(archive.index, tmp_path / "near", options=ExportOptions(progress=False, dedup="near"))
    export_dataset(archive.index, tmp_path / "again", options=ExportOptions(progress=False))
    assert None not in {r["story_id"] for r in read_jsonl(tmp_path / "again")}  # clusters once made are exported


def test_jsonl_dates_keep_their_time_zone_and_lists_are_arrays(archive: Archive, tmp_path: Path) -> None:
    export_dataset(archive.index, tmp_path / "out", options=ExportOptions(progress=False))
    lines = (tmp_path / "out" / "articles-00000.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["published"] == "2024-01-15T09:00:00+00:00" and first["fetched_at"].endswith("+00:00")
    assert first["authors"] == ["Autorin 0", "Max Muster"] and first["tags"] == ["Politik", "Tag 0"]
    assert first["source_domain"] == "www.oe24.example" and first["paywalled"] is None
    assert json.loads(lines[1])["paywalled"] is True and json.loads(lines[2])["paywalled"] is False
    assert "Autorin" in lines[0] and "\\u" not in lines[0]  # UTF-8, not escaped


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_fields_pick_and_order_columns(archive: Archive, tmp_path: Path, fmt: str) -> None:
    fields = ("url", "authors", "paywalled", "published", "text")
    export_dataset(archive.index, tmp_path / "out", options=ExportOptions(format=fmt, fields=fields, progress=False))
    rows = read_any(tmp_path / "out", fmt)
    assert all(tuple(r) == fields for r in rows) and len(rows) == 7
    assert [r["url"] for r in rows][0] == "https://www.oe24.example/welt/putin-nordkorea"


def read_any(out: Path, fmt: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    if fmt == "jsonl":
        return read_jsonl(out)
    if fmt == "csv":
        with open(out / "articles-00000.csv", newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    return [r for f in sorted(out.glob("*.parquet")) for r in pq.read_table(f).to_pylist()]


NEWS_PLEASE = ("url", "source_domain", "title", "description", "maintext", "authors", "date_publish", "date_modify",
               "date_download", "language", "image_url")
FUNDUS = ("title", "plaintext", "authors", "publishing_date", "topics", "free_access", "lang", "requested_url",
          "publisher", "crawl_date")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_news_please_and_fundus_presets(archive: Archive, tmp_path: Path, fmt: str) -> None:
    expected = index_rows(archive.index)
    by_url = {a.url: (a, c) for a, c in expected.values()}
    export_dataset(archive.index, tmp_path / "np", options=ExportOptions(format=fmt, schema="news-please",
                                                                         progress=False))
    for row in read_any(tmp_path / "np", fmt):
        assert tuple(row) == NEWS_PLEASE
        article, capture = by_url[row["url"]]
        assert row["maintext"] == article.text and row["authors"] == article.authors
        assert row["source_domain"] == capture.host and row["image_url"] == article.image_url
        published = row["date_publish"]
        assert (datetime.fromisoformat(published) if isinstance(published, str) else published) == article.published
    export_dataset(archive.index, tmp_path / "fu", options=ExportOptions(format=fmt, schema="fundus", progress=False))
    rows = read_any(tmp_path / "fu", fmt)
    for row in rows:
        assert tuple(row) == FUNDUS
        article, _ = by_url[row["requested_url"]]
        assert row["plaintext"] == article.text and row["topics"] == article.tags and row["lang"] == article.language
        assert row["publisher"] == article.site
        assert row["free_access"] == (None if article.paywalled is None else not article.paywalled)
    assert {r["free_access"] for r in rows} == {None, True, False}
    card = (tmp_path / "fu" / "README.md").read_text(encoding="utf-8")
    assert "`--schema fundus`" in card and "| `free_access` | bool | Not paywalled:" in card


def test_preset_fields_and_unknown_fields(archive: Archive, tmp_path: Path) -> None:
    export_dataset(archive.index, tmp_path / "out", options=ExportOptions(
        schema="news-please", fields=("maintext", "warc_file", "url"), progress=False))
    assert tuple(read_jsonl(tmp_path / "out")[0]) == ("maintext", "warc_file", "url")
    with pytest.raises(ExportError, match="unknown field.*text.*choose from"):
        export_dataset(archive.index, tmp_path / "bad", options=ExportOptions(schema="news-please", fields=("text",)))
    with pytest.raises(ExportError, match="unknown schema"):
        export_dataset(archive.index, tmp_path / "bad2", options=ExportOptions(schema="newspaper"))


def test_license_in_card(archive: Archive, tmp_path: Path) -> None:
    result = export_dataset(archive.index, tmp_path / "a", options=ExportOptions(progress=False))
    assert result.card is not None
    card = result.card.read_text(encoding="utf-8")
    assert "\nlicense: other\n" in card.split("---")[1] and "## License" in card and "publishers" in card
    result = export_dataset(archive.index, tmp_path / "b", options=ExportOptions(progress=False, license="cc-by-4.0"))
    assert result.card is not None and "\nlicense: cc-by-4.0\n" in result.card.read_text(encoding="utf-8")


def test_cli_export_to_stdout(archive: Archive, tmp_path: Path) -> None:
    from newsarchive.cli.main import cli

    result = CliRunner().invoke(cli, ["export", "-", "--home", str(archive.home), "--fields",
                                      "url,authors,published", "--site", "oe24", "--quiet"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["url"] for r in rows] == ["https://www.oe24.example/welt/putin-nordkorea"]
    assert rows[0] == {"url": rows[0]["url"], "authors": ["Autorin 0", "Max Muster"],
                       "published": "2024-01-15T09:00:00+00:00"}
    assert "exported 1 rows" in result.stderr and not any(tmp_path.glob("-*"))
    csv_out = CliRunner().invoke(cli, ["export", "-", "--home", str(archive.home), "--format", "csv",
                                       "--schema", "fundus", "--fields", "requested_url,free_access", "--quiet"])
    assert csv_out.exit_code == 0 and csv_out.stdout.splitlines()[0] == "requested_url,free_access"
    assert len(csv_out.stdout.splitlines()) == 8
    bad = CliRunner().invoke(cli, ["export", "-", "--home", str(archive.home), "--max-rows", "2"])
    assert bad.exit_code == 2 and "stdout" in bad.output


def test_gzip_jsonl_sharded_by_rows(archive: Archive, tmp_path: Path) -> None:
    result = export_dataset(archive.index, tmp_path / "out",
                            options=ExportOptions(gzip=True, max_rows=3, progress=False))
    assert result.files == ("articles-00000.jsonl.gz", "articles-00001.jsonl.gz", "articles-00002.jsonl.gz")
    for name in result.files:
        subprocess.run(["gzip", "-t", str(tmp_path / "out" / name)], check=True)
    sizes = [len(read_jsonl(tmp_path / "out", name)) for name in result.files]
    assert sizes == [3, 3, 1]
    assert_matches_index(read_jsonl(tmp_path / "out"), archive.index)


def test_shards_by_bytes(archive: Archive, tmp_path: Path) -> None:
    result = export_dataset(archive.index, tmp_path / "out",
                            options=ExportOptions(max_bytes=4000, batch_size=1, progress=False))
    assert len(result.files) > 1
    paths = [tmp_path / "out" / name for name in result.files]
    assert all(p.stat().st_size >= 4000 for p in paths[:-1])
    assert all(len(p.read_text(encoding="utf-8").splitlines()) for p in paths)
    assert_matches_index(read_jsonl(tmp_path / "out"), archive.index)


def test_csv_round_trip(archive: Archive, tmp_path: Path) -> None:
    export_dataset(archive.index, tmp_path / "out", options=ExportOptions(format="csv", progress=False))
    with open(tmp_path / "out" / "articles-00000.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == COLUMN_NAMES
        rows = list(reader)
    assert_matches_index(rows, archive.index, as_text=True)
    assert any("\n" in row["text"] for row in rows)  # multi-line texts survive quoting


def test_parquet_loads_in_pyarrow_pandas_polars_and_datasets(archive: Archive, tmp_path: Path) -> None:
    import pandas as pd
    import polars as pl
    import pyarrow.parquet as pq

    export_dataset(archive.index, tmp_path / "out", options=ExportOptions(format="parquet", max_rows=4,
                                                                           progress=False))
    files = sorted(str(p) for p in (tmp_path / "out").glob("*.parquet"))
    assert len(files) == 2
    table = pq.read_table(files[0])
    assert table.schema.equals(SCHEMA, check_metadata=False)
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    assert_matches_index(rows, archive.index)
    frame = pd.concat(pd.read_parquet(f) for f in files)
    assert str(frame["published"].dtype) == "datetime64[us, UTC]" and len(frame) == 7
    assert sorted(pl.read_parquet(files).get_column("article_id").to_list()) == sorted(r["article_id"] for r in rows)
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded.num_rows == 7 and set(loaded.column_names) == set(COLUMN_NAMES)
    assert sorted(loaded["text"]) == sorted(r["text"] for r in rows)


def ids(result_dir: Path, index: ArchiveIndex) -> set[str]:
    expected = index_rows(index, status=None)
    return {expected[int(r["article_id"])][0].site for r in read_jsonl(result_dir)}


@pytest.mark.parametrize(("filters", "sites"), [
    (ExportFilters(sites=("oe24", "ntv")), {"oe24", "ntv"}),
    (ExportFilters(languages=("en",)), {"newsex"}),
    (ExportFilters(min_words=200), {"oe24", "ntv", "srf", "blick", "vienna", "zdf"}),
    (ExportFilters(since=T0, until=T0 + timedelta(days=1)), {"oe24", "ntv", "vienna"}),
    (ExportFilters(since=T0 + timedelta(days=1)), {"zdf"}),
    (ExportFilters(date_field="fetched", since=T0, until=T0 + timedelta(minutes=3)), {"oe24"}),  # clock: name, warcinfo, 1st
    (ExportFilters(status="failed"), {"oe24"}),
    (ExportFilters(status=None, sites=("oe24",)), {"oe24"}),
])
def test_filters(archive: Archive, tmp_path: Path, filters: ExportFilters, sites: set[str]) -> None:
    result = export_dataset(archive.index, tmp_path / "out", filters=filters, options=ExportOptions(progress=False))
    assert ids(tmp_path / "out", archive.index) == sites
    assert result.rows == len(read_jsonl(tmp_path / "out"))


def test_failed_rows_only_with_status_filter_off(archive: Archive, tmp_path: Path) -> None:
    export_dataset(archive.index, tmp_path / "out", filters=ExportFilters(status=None),
                   options=ExportOptions(progress=False))
    rows = read_jsonl(tmp_path / "out")
    assert len(rows) == 8 and sum(r["status"] == "failed" for r in rows) == 1


@pytest.mark.parametrize(("mode", "sites", "skipped"), [
    ("exact", {"oe24", "zdf", "srf", "vienna", "ntv", "newsex"}, 1),
    ("near", {"oe24", "zdf", "srf", "vienna", "newsex"}, 2),
])
def test_dedup(archive: Archive, tmp_path: Path, mode: str, sites: set[str], skipped: int) -> None:
    result = export_dataset(archive.index, tmp_path / "out", options=ExportOptions(dedup=mode, progress=False))
    assert ids(tmp_path / "out", archive.index) == sites
    assert result.duplicates_skipped == skipped and result.rows == len(sites)


def test_near_dedup_keeps_a_member_inside_the_filter(archive: Archive, tmp_path: Path) -> None:
    export_dataset(archive.index, tmp_path / "out", filters=ExportFilters(sites=("ntv", "blick")),
                   options=ExportOptions(dedup="near", progress=False))
    assert ids(tmp_path / "out", archive.index) == {"ntv", "blick"}


def test_dataset_card(archive: Archive, tmp_path: Path) -> None:
    result = export_dataset(archive.index, tmp_path / "out", filters=ExportFilters(min_words=5),
                            options=ExportOptions(format="parquet", dedup="near", progress=False))
    card = result.card.read_text(encoding="utf-8")
    assert card.startswith("---\n") and 'path: "articles-*.parquet"' in card
    assert f"newsarchive {__version__}" in card and "minimum words: 5" in card
    assert "| oe24 | 1 |" in card and "| de | 4 |" in card and "| en | 1 |" in card
    assert "| 2024-01 | 2 |" in card and "| 2023-08 | 1 |" in card and "| 2024-08 | 1 |" in card
    for name in COLUMN_NAMES:
        assert f"| `{name}` |" in card
    assert "warc_offset" in card and "overlap coefficient >= 0.15" in card
    created = re.search(r"Created (\S+) by", card)
    assert created and datetime.fromisoformat(created.group(1)) <= datetime.now(UTC)


def records_of(path: Path) -> list[tuple[str, str, bytes]]:
    with open(path, "rb") as fh:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Record-ID") or "", r.content_stream().read())
                for r in ArchiveIterator(fh)]


def test_with_warc_copies_records_byte_for_byte(archive: Archive, tmp_path: Path) -> None:
    result = export_dataset(archive.index, tmp_path / "out", filters=ExportFilters(sites=("oe24", "newsex", "zdf")),
                            options=ExportOptions(progress=False, with_warc=True), warc_dir=archive.warc_dir)
    warc = tmp_path / "out" / "articles.warc.gz"
    assert result.warc_files == ("articles.warc.gz",)
    subprocess.run(["gzip", "-t", str(warc)], check=True)
    copied = records_of(warc)
    assert copied[0][0] == "warcinfo" and result.warc_records == len(copied) - 1 == 9
    by_id = {rid: (kind, body) for kind, rid, body in copied}
    with archive.index.sessions() as s:
        exported = s.execute(select(Article, Capture).join(Capture).where(Article.site.in_(("oe24", "newsex", "zdf")),
                                                                          Article.status == "ok")).all()
    for article, capture in exported:
        assert by_id[capture.record_id][0] == "response"
        original = read_record(archive.warc_dir, WarcRef(capture.warc_file, capture.warc_offset, capture.warc_length))
        assert b"<article>" in by_id[capture.record_id][1] and original.payload in by_id[capture.record_id][1]
        assert by_id[capture.request_record_id][0] == "request"
        assert by_id[article.metadata_record_id][0] == "metadata"  # newsex's is in the second WARC file
    raw = warc.read_bytes()
    for _article, capture in exported:  # the exact member bytes of the source file are in the copy
        with open(archive.warc_dir / capture.warc_file, "rb") as fh:
            fh.seek(capture.warc_offset)
            assert fh.read(capture.warc_length) in raw


def test_refuses_bad_options(archive: Archive, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="gzip"):
        export_dataset(archive.index, tmp_path / "a", options=ExportOptions(format="parquet", gzip=True))
    with pytest.raises(ExportError, match="warc_dir"):
        export_dataset(archive.index, tmp_path / "b", options=ExportOptions(with_warc=True))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x").write_text("x")
    with pytest.raises(ExportError, match="not empty"):
        export_dataset(archive.index, tmp_path / "c")
    with pytest.raises(ExportError, match="max rows"):
        export_dataset(archive.index, tmp_path / "d", options=ExportOptions(max_rows=0))


def test_empty_selection_still_writes_schema(archive: Archive, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    result = export_dataset(archive.index, tmp_path / "out", filters=ExportFilters(sites=("nowhere",)),
                            options=ExportOptions(format="parquet", progress=False))
    assert result.rows == 0 and result.files == ("articles-00000.parquet",)
    assert pq.read_table(tmp_path / "out" / result.files[0]).schema.equals(SCHEMA, check_metadata=False)


def test_cli_export(archive: Archive, tmp_path: Path) -> None:
    from newsarchive.cli.main import cli

    out = tmp_path / "cli-out"
    result = CliRunner().invoke(cli, ["export", str(out), "--home", str(archive.home), "--format", "jsonl",
                                      "--gzip", "--site", "oe24", "--site", "ntv", "--since", "2024-01-15",
                                      "--until", "2024-01-15", "--dedup", "near", "--with-warc", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"exported 1 rows to 1 data files in {out} (1 duplicates skipped, 3 WARC records")
    assert result.stdout.count("\n") == 1
    rows = read_jsonl(out)
    assert [r["site"] for r in rows] == ["oe24"]
    assert (out / "README.md").exists() and (out / "articles.warc.gz").exists()


def test_cli_export_errors_are_one_line(archive: Archive, tmp_path: Path) -> None:
    from newsarchive.cli.main import cli

    result = CliRunner().invoke(cli, ["export", str(tmp_path / "o"), "--home", str(archive.home),
                                      "--format", "parquet", "--gzip"])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "gzip" in result.output


def test_postgresql_export_streams_and_dedups(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from tests.pg import pg_unavailable_reason, temp_pg_database

    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with temp_pg_database() as url:
        archive = build_archive(ArchiveIndex(url), tmp_path / "home")
        try:
            export_dataset(archive.index, tmp_path / "all", options=ExportOptions(format="parquet", batch_size=2,
                                                                                   progress=False))
            rows = [r for f in sorted((tmp_path / "all").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
            assert_matches_index(rows, archive.index)
            export_dataset(archive.index, tmp_path / "jsonl", options=ExportOptions(progress=False))
            lines = read_jsonl(tmp_path / "jsonl")
            assert_matches_index(lines, archive.index)  # json_build_object: the same values, dates with offset
            assert all(r["fetched_at"].endswith("+00:00") for r in lines)
            export_dataset(archive.index, tmp_path / "fu", options=ExportOptions(schema="fundus", progress=False))
            assert {r["free_access"] for r in read_jsonl(tmp_path / "fu")} == {None, True, False}
            result = export_dataset(archive.index, tmp_path / "near", options=ExportOptions(
                dedup="near", with_warc=True, progress=False), warc_dir=archive.warc_dir)
            assert ids(tmp_path / "near", archive.index) == {"oe24", "zdf", "srf", "vienna", "newsex"}
            assert result.duplicates_skipped == 2 and result.warc_records == 15
        finally:
            archive.index.close()


def test_fields_survive_reindex_from_the_warc_metadata_record(tmp_path: Path) -> None:
    """The metadata record holds every extracted field; an index rebuilt from the WARCs exports them again."""
    from newsarchive.archive.reindex import reindex
    from newsarchive.extract.result import Extraction

    url = "https://www.example-news.org/politik/story-1.html"
    extraction = Extraction(url=url, status="ok", title="Brücke", text="Die Brücke ist offen.", language="de",
                            published=T0, authors=("Anna A", "Bernd B"), agencies=("dpa",), tags=("Verkehr",),
                            image_url="https://www.example-news.org/b.jpg", paywalled=True,
                            markdown="## Brücke\n\nDie Brücke ist offen.")
    warc_dir = tmp_path / "warcs"
    with WarcWriter(warc_dir, WarcWriterOptions(host="test")) as writer:
        rec = writer.write_exchange(HttpExchange(url, 200, [("Content-Type", "text/html")], b"<p>x</p>"))
        writer.write_metadata(url, rec.record_id, {**extraction.as_record(), "newsarchive_site": "example"})
    index = ArchiveIndex(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    assert reindex(index, warc_dir).articles == 1
    export_dataset(index, tmp_path / "out", options=ExportOptions(progress=False))
    (row,) = read_jsonl(tmp_path / "out")
    assert row["authors"] == ["Anna A", "Bernd B"] and row["agencies"] == ["dpa"] and row["tags"] == ["Verkehr"]
    assert row["image_url"] == "https://www.example-news.org/b.jpg" and row["paywalled"] is True
    assert row["markdown"].startswith("## Brücke") and row["site"] == "example"
    assert row["published"] == T0.isoformat() and row["source_domain"] == "www.example-news.org"


def test_cli_export_to_a_reader_that_stops_early(tmp_path: Path) -> None:
    """`newsarchive export - | head -1`: the export ends quietly when the reader goes away."""
    import sys

    from sqlalchemy import insert

    home = tmp_path / "home"
    index = ArchiveIndex(f"sqlite:///{home / 'index.sqlite'}")
    (home / "warcs").mkdir()
    text = "Wort " * 2000  # 10 KB a row: far more than a pipe buffer in all
    with index.session() as s:
        s.execute(insert(Capture), [dict(id=i, url=f"https://x.example/{i}", canonical_url=f"https://x.example/{i}",
                                         url_key=f"x.example/{i}", host="x.example", status=200, fetched_at=T0,
                                         payload_digest="sha1:x", record_id=f"<urn:uuid:{i}>", warc_file="x.warc.gz",
                                         warc_offset=0, warc_length=1) for i in range(1, 201)])
        s.execute(insert(Article), [dict(id=i, capture_id=i, url=f"https://x.example/{i}", site="x", status="ok",
                                         canonical_url=f"https://x.example/{i}", text=text, fetched_at=T0)
                                    for i in range(1, 201)])
    index.close()
    newsarchive = Path(sys.executable).with_name("newsarchive")
    with subprocess.Popen([str(newsarchive), "export", "-", "--home", str(home), "-q"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = json.loads(proc.stdout.readline())
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 0, err
    assert first["url"] == "https://x.example/1" and "Traceback" not in err and "Broken pipe" not in err
