"""Package archived captures as a WACZ (``newsarchive wacz``): one file that ReplayWeb.page opens.

WACZ 1.1.1 (https://specs.webrecorder.net/wacz/1.1.1/), as py-wacz writes it and ``wacz validate`` checks:

* ``archive/data.warc.gz``: the selected ``response``/``revisit`` records copied byte for byte (a record
  stored uncompressed, e.g. one imported from a plain ``.warc``, gets a gzip member of its own), the
  originals of selected revisits added so that they replay, after a ``warcinfo`` record; stored in the
  zip uncompressed, so that a replay tool reads records by offset inside the zip;
* ``indexes/index.cdxj``: the CDXJ index of that WARC (:mod:`newsarchive.archive.cdxj`);
* ``pages/pages.jsonl``: the article pages (URL, capture time, title, text) for the page list and search;
* ``datapackage.json``: every file with its size and SHA-256, and ``datapackage-digest.json``, the hash
  of ``datapackage.json`` itself.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import socket
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, BinaryIO

from sqlalchemy import select
from warcio.warcwriter import WARCWriter

from newsarchive import __version__
from newsarchive.archive.cdxj import write_cdxj
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.urls import netloc_of, without_www
from newsarchive.archive.warc import OPEN_SUFFIX, warc_date

logger = logging.getLogger(__name__)

WACZ_VERSION = "1.1.1"
WARC_NAME = "data.warc.gz"
CHUNK = 1 << 20


class WaczError(Exception):
    """The WACZ cannot be written: nothing selected, or the output exists."""


@dataclass(frozen=True)
class WaczSelection:
    sites: tuple[str, ...] = ()  # article site names, or hosts (host[:port], www. or not)
    since: datetime | None = None  # capture time, inclusive
    until: datetime | None = None  # capture time, exclusive


@dataclass(frozen=True)
class WaczResult:
    path: str
    captures: int
    pages: int
    bytes: int


@dataclass(frozen=True)
class _Page:
    url: str
    fetched_at: datetime
    title: str
    text: str



def select_captures(index: ArchiveIndex, selection: WaczSelection) -> list[Capture]:
    """The selected responses and revisits, in time order, plus the originals their revisits need."""
    stmt = select(Capture).where(Capture.record_type.in_(("response", "revisit")))
    if selection.since:
        stmt = stmt.where(Capture.fetched_at >= selection.since)
    if selection.until:
        stmt = stmt.where(Capture.fetched_at < selection.until)
    with index.sessions() as s:
        netlocs = _site_netlocs(index, selection.sites)
        chosen = [c for c in s.scalars(stmt.order_by(Capture.fetched_at, Capture.id))
                  if not netlocs or without_www(netloc_of(c.url)) in netlocs]
        have = {c.record_id for c in chosen}
        wanted = {c.refers_to_record_id for c in chosen if c.record_type == "revisit" and c.refers_to_record_id}
        missing = sorted(wanted - have)
        originals = list(s.scalars(select(Capture).where(Capture.record_id.in_(missing)))) if missing else []
    return sorted(chosen + originals, key=lambda c: (c.fetched_at, c.id))


def _site_netlocs(index: ArchiveIndex, sites: tuple[str, ...]) -> set[str]:
    """host[:port] of each site: the hosts named, and where the articles of the sites named were fetched."""
    if not sites:
        return set()
    with index.sessions() as s:
        urls = s.scalars(select(Article.url).where(Article.site.in_(sites)).distinct())
        return {without_www(s_.lower()) for s_ in sites} | {without_www(netloc_of(u)) for u in urls}


def _pages(index: ArchiveIndex, captures: list[Capture]) -> list[_Page]:
    ids = [c.id for c in captures]
    pages: list[_Page] = []
    with index.sessions() as s:
        for start in range(0, len(ids), 500):
            rows = s.execute(select(Article.url, Capture.fetched_at, Article.title, Article.text).join(Capture)
                             .where(Article.capture_id.in_(ids[start:start + 500]), Article.status == "ok"))
            pages.extend(_Page(u, f, t or "", x or "") for u, f, t, x in rows)
    return sorted(pages, key=lambda p: (p.fetched_at, p.url))


# -- the WARC ------------------------------------------------------------------------------------------------
def _record_bytes(warc_dir: Path, capture: Capture) -> bytes:
    path = warc_dir / capture.warc_file
    if not path.exists() and (warc_dir / (capture.warc_file + OPEN_SUFFIX)).exists():
        path = warc_dir / (capture.warc_file + OPEN_SUFFIX)
    with open(path, "rb") as fh:
        fh.seek(capture.warc_offset)
        data = fh.read(capture.warc_length)
    if len(data) != capture.warc_length:
        raise WaczError(f"{path} @ {capture.warc_offset}: record cut short ({len(data)} of {capture.warc_length} bytes)")
    return data if data[:2] == b"\x1f\x8b" else gzip.compress(data)


def write_warc(warc_dir: Path, captures: list[Capture], out: BinaryIO) -> int:
    """A warcinfo record, then each capture's record as one gzip member; returns the records copied."""
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    info = writer.create_warcinfo_record(WARC_NAME, {
        "software": f"newsarchive/{__version__}", "format": "WARC File Format 1.1", "hostname": socket.gethostname(),
        "description": "Captures packaged by newsarchive wacz, records copied byte for byte"})
    info.rec_headers.replace_header("WARC-Date", warc_date(datetime.now(UTC)))
    writer.write_record(info)
    for capture in captures:
        out.write(_record_bytes(warc_dir, capture))
    return len(captures)


# -- the package ---------------------------------------------------------------------------------------------
def _pages_jsonl(pages: list[_Page]) -> bytes:
    lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Articles", "hasText": True})]
    for number, page in enumerate(pages, 1):
        ts = page.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(json.dumps({"id": f"page-{number}", "url": page.url, "ts": ts, "title": page.title,
                                 "text": page.text}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _sha256(fh: IO[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, "sha256:" + digest.hexdigest()


def _datapackage(zf: zipfile.ZipFile, title: str, main: _Page | None) -> bytes:
    resources = []
    for entry in zf.infolist():
        with zf.open(entry) as fh:
            size, digest = _sha256(fh)
        resources.append({"name": os.path.basename(entry.filename).lower(), "path": entry.filename,
                          "hash": digest, "bytes": size})
    package = {"profile": "data-package", "resources": resources, "title": title,
               "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "wacz_version": WACZ_VERSION,
               "software": f"newsarchive {__version__}"}
    if main is not None:
        package["mainPageURL"] = main.url
        package["mainPageDate"] = main.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(package, indent=2).encode("utf-8")


def _add(zf: zipfile.ZipFile, name: str, data: bytes | Path, *, stored: bool = False) -> None:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as dst:
        if isinstance(data, Path):
            with open(data, "rb") as src:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
        else:
            dst.write(data)


def write_wacz(index: ArchiveIndex, warc_dir: str | os.PathLike[str], out: str | os.PathLike[str],
               selection: WaczSelection | None = None, *, title: str | None = None) -> WaczResult:
    """Write the captures ``selection`` picks as the WACZ ``out`` (see the module docstring)."""
    out_path, warc_dir = Path(out), Path(warc_dir)
    if out_path.exists():
        raise WaczError(f"{out_path} exists; choose a new file name")
    captures = select_captures(index, selection or WaczSelection())
    if not captures:
        raise WaczError("no captures match the selection")
    pages = _pages(index, captures)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".wacz-", dir=out_path.parent) as tmp:
        warc = Path(tmp) / WARC_NAME
        with open(warc, "wb") as fh:
            write_warc(warc_dir, captures, fh)
        cdxj = io.StringIO()
        write_cdxj(tmp, cdxj, [warc])
        partial = Path(tmp) / "out.wacz"
        with zipfile.ZipFile(partial, "w") as zf:
            _add(zf, f"archive/{WARC_NAME}", warc, stored=True)
            _add(zf, "indexes/index.cdxj", cdxj.getvalue().encode("utf-8"))
            _add(zf, "pages/pages.jsonl", _pages_jsonl(pages))
            package = _datapackage(zf, title or "newsarchive captures", pages[0] if pages else None)
            _add(zf, "datapackage.json", package)
            digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package).hexdigest()}
            _add(zf, "datapackage-digest.json", json.dumps(digest, indent=2).encode("utf-8"))
        os.replace(partial, out_path)
    logger.info("wrote %s: %d captures, %d pages", out_path, len(captures), len(pages))
    return WaczResult(str(out_path), len(captures), len(pages), out_path.stat().st_size)


def iter_pages(path: str | os.PathLike[str]) -> Iterator[dict[str, object]]:
    """The page entries of a WACZ's ``pages/pages.jsonl`` (not the header line)."""
    with zipfile.ZipFile(path) as zf, zf.open("pages/pages.jsonl") as fh:
        for number, line in enumerate(io.TextIOWrapper(fh, "utf-8")):
            if number and line.strip():
                yield json.loads(line)
