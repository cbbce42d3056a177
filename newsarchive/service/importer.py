"""Bring WARC and WACZ files written by other tools into the archive (``newsarchive import``).

Every ``response``, ``revisit`` and ``resource`` record becomes a :class:`Capture` pointing at its record
(file, offset, length), whatever tool wrote it, and every HTML response (status 200) is extracted like a
crawled page: the same :func:`~newsarchive.extract.article.extract` in the same process pool
(:mod:`newsarchive.extract.pool`), each site's learned template applied, the fields written as a WARC
``metadata`` record (in the home's own ``newsarchive-import-*.warc.gz``, linked by ``WARC-Concurrent-To``)
before the article row is committed; story clusters and templates are updated at the end.

Where the records stay: a file outside the home is linked (or with ``copy``, copied) as
``warcs/imported/<hash>-<name>``, so every index row names a path inside the WARC directory and replay,
export and re-extraction read it like our own files. A WACZ's WARCs and a whole-file gzip WARC (no
member per record, so no offset can address a record) are unpacked there, the latter decompressed.

Idempotent and resumable: captures are written in batches, each batch with its articles in one
transaction, and a record whose ``WARC-Record-ID`` is already indexed is skipped; importing a file again
adds nothing and a killed import resumes where its last batch was committed. Damaged regions are skipped
and reported (:func:`newsarchive.archive.warcscan.scan`), never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import time
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.archive.owner import pid_alive
from newsarchive.archive.reindex import MAX_ID, capture_from, fit_id
from newsarchive.archive.urls import host_of, netloc_of, without_www
from newsarchive.archive.warc import (
    OPEN_SUFFIX,
    WARC_SUFFIX,
    StoredRecord,
    WarcRef,
    WarcWriter,
    WarcWriterOptions,
    recover_open_files,
    sha1_digest,
)
from newsarchive.archive.warcscan import Damage, scan
from newsarchive.extract.pool import extract_record, make_executor
from newsarchive.extract.records import ArticleSource, article_row
from newsarchive.extract.result import Extraction, ExtractOptions, failed
from newsarchive.extract.templates import TemplateModel

logger = logging.getLogger(__name__)

IMPORTED_DIR = "imported"
WRITER_PREFIX = "newsarchive-import"  # the metadata records of imported pages go to files of this prefix
CAPTURED_TYPES = ("response", "revisit", "resource")
HTML_TYPES = ("text/html", "application/xhtml+xml")
WARC_NAMES = (".warc", ".warc.gz", ".warc.open", ".warc.gz.open")


class ImportFailed(Exception):
    """The import cannot start: a path that does not exist or is not a WARC/WACZ file."""


@dataclass(frozen=True)
class ImportFilters:
    url_pattern: str | None = None  # a regular expression searched in the URL
    hosts: tuple[str, ...] = ()  # host names (www. or not)
    since: datetime | None = None  # capture date, inclusive
    until: datetime | None = None  # capture date, exclusive
    languages: tuple[str, ...] = ()  # article language; captures of other languages are kept without article
    max_records: int | None = None  # new captures at most

    def matches(self, url: str, fetched_at: datetime) -> bool:
        if self.url_pattern and not re.search(self.url_pattern, url):
            return False
        if self.hosts and not {without_www(host_of(url)), site_of(url)} & {without_www(h.lower()) for h in self.hosts}:
            return False
        if self.since and fetched_at < self.since:
            return False
        return not (self.until and fetched_at >= self.until)


@dataclass(frozen=True)
class ImportOptions:
    filters: ImportFilters = field(default_factory=ImportFilters)
    extract: bool = True
    copy: bool = False  # copy foreign files into the home instead of linking them
    article_pattern: str | None = None  # extract only HTML pages whose URL matches (default: every HTML page)
    workers: int = 2  # extraction processes; 0 = in this process's one thread
    extract_options: ExtractOptions = field(default_factory=ExtractOptions)
    templates: bool = True  # apply (and afterwards learn) each site's template
    write_metadata: bool = True  # the extracted fields as WARC metadata records in the home
    batch_size: int = 100


@dataclass
class ImportReport:
    files: int = 0
    records: int = 0  # records read
    captures: int = 0  # new captures indexed
    duplicates: int = 0  # already in the index (same record id)
    filtered: int = 0
    other_records: int = 0  # request, metadata, warcinfo ...
    articles_ok: int = 0
    articles_failed: int = 0
    unchanged: int = 0  # same URL and payload as an indexed article: no new version
    other_language: int = 0
    damaged: list[Damage] = field(default_factory=list)
    bad_records: int = 0
    run_id: int | None = None
    seconds: float = 0.0

    @property
    def articles(self) -> int:
        return self.articles_ok + self.articles_failed


# -- sources ------------------------------------------------------------------------------------------------
def site_of(url: str) -> str:
    """The site an imported page belongs to (its templates, its articles' ``site``): host[:port], no www."""
    return without_www(netloc_of(url))


def is_source(path: Path) -> bool:
    return path.name.endswith(WARC_NAMES) or path.suffix == ".wacz"


def collect_sources(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The WARC and WACZ files named, directories searched recursively, in name order."""
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and is_source(p)))
        elif path.is_file() and is_source(path):
            found.append(path)
        elif path.exists():
            raise ImportFailed(f"{path}: not a .warc, .warc.gz or .wacz file")
        else:
            raise ImportFailed(f"{path}: no such file or directory")
    return list(dict.fromkeys(p.resolve() for p in found))


def _tag(path: Path) -> str:
    return hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:10]


def whole_file_gzip(path: Path) -> bool:
    """True when the first gzip member holds more than one record (``gzip x.warc``)."""
    decomp, out = zlib.decompressobj(16 + zlib.MAX_WBITS), b""
    with open(path, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            return False
        fh.seek(0)
        while not decomp.eof and (chunk := fh.read(1 << 16)):
            try:
                out += decomp.decompress(chunk, 1 << 20)
            except zlib.error:
                return False
            end = _first_record_end(out)
            if end is not None and len(out) > end:
                return True
            if len(out) >= 1 << 20:
                return False
    return False


def _first_record_end(data: bytes) -> int | None:
    head_end = data.find(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:[ \t]*([0-9]+)", data[:head_end]) if head_end > 0 else None
    return head_end + 4 + int(match.group(1)) + 4 if match else None


def register(path: Path, warc_dir: Path, copy: bool) -> list[tuple[str, Path]]:
    """(name relative to ``warc_dir``, file to read) for each WARC ``path`` brings (a WACZ several)."""
    path = path.resolve()
    if path.suffix == ".wacz":
        return _unpack_wacz(path, warc_dir)
    if path.is_relative_to(warc_dir.resolve()):
        return [(str(path.relative_to(warc_dir.resolve())), path)]
    target_dir = warc_dir / IMPORTED_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz") and whole_file_gzip(path):
        target = target_dir / f"{_tag(path)}-{path.name.removesuffix('.gz')}"
        if not target.exists():
            logger.info("%s is gzipped as a whole; decompressing it to %s", path, target)
            _atomic_copy(path, target, decompress=True)
    else:
        target = target_dir / f"{_tag(path)}-{path.name}"
        if copy and not target.exists():
            _atomic_copy(path, target)
        elif not copy and not target.exists() and not target.is_symlink():
            target.symlink_to(path)
    return [(f"{IMPORTED_DIR}/{target.name}", target)]


def _atomic_copy(source: Path, target: Path, *, decompress: bool = False) -> None:
    import gzip

    partial = target.with_name(target.name + ".partial")
    with (gzip.open(source, "rb") if decompress else open(source, "rb")) as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(partial, target)


def _unpack_wacz(path: Path, warc_dir: Path) -> list[tuple[str, Path]]:
    """The WARCs of a WACZ (``archive/*``), unpacked to ``warcs/imported/<hash>-<name>/``."""
    target_dir = warc_dir / IMPORTED_DIR / f"{_tag(path)}-{path.stem}"
    out: list[tuple[str, Path]] = []
    try:
        with zipfile.ZipFile(path) as wacz:
            members = [m for m in wacz.infolist() if m.filename.startswith("archive/") and is_source(Path(m.filename))]
            if not members:
                raise ImportFailed(f"{path}: a WACZ without WARC files under archive/")
            target_dir.mkdir(parents=True, exist_ok=True)
            for member in members:
                target = target_dir / Path(member.filename).name
                if not target.exists() or target.stat().st_size != member.file_size:
                    partial = target.with_name(target.name + ".partial")
                    with wacz.open(member) as src, open(partial, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    os.replace(partial, target)
                out.append((f"{IMPORTED_DIR}/{target_dir.name}/{target.name}", target))
    except zipfile.BadZipFile as exc:
        raise ImportFailed(f"{path}: not a readable WACZ (zip) file: {exc}") from exc
    return out


# -- records to rows ----------------------------------------------------------------------------------------
def capture_row(ref: WarcRef, record: StoredRecord, run_id: int | None) -> Capture:
    """The capture row of a response, revisit or resource record written by any tool."""
    capture = capture_from(ref, record)
    capture.run_id = run_id
    if capture.fetched_at.tzinfo is None:
        capture.fetched_at = capture.fetched_at.replace(tzinfo=UTC)
    capture.record_id = capture.record_id or f"<urn:newsarchive:{ref.path}#{ref.offset}>"[:MAX_ID]
    if record.rec_type == "resource":
        capture.status = 200
        capture.content_type = (record.warc_header("Content-Type") or "")[:255] or None
    capture.payload_digest = capture.payload_digest or sha1_digest(record.payload)
    return capture


def is_html_page(capture: Capture) -> bool:
    ctype = (capture.content_type or "").split(";")[0].strip().lower()
    return capture.record_type in ("response", "resource") and capture.status == 200 and ctype in HTML_TYPES


def _concurrent(record: StoredRecord) -> list[str]:
    return [v for k, v in record.warc_headers if k.lower() == "warc-concurrent-to"]


@dataclass
class _Pending:
    capture: Capture
    record: StoredRecord | None  # kept only for an HTML page to extract
    future: Future[Extraction] | None = None
    pool: int = 0  # which pool runs it (a broken pool is replaced once, not once per page it held)


@dataclass
class _Requests:
    """Request records of one file, whichever comes first: request then response (wget) or the reverse."""

    by_id: dict[str, str] = field(default_factory=dict)  # request id -> method
    by_target: dict[str, tuple[str, str]] = field(default_factory=dict)  # response id -> (method, request id)

    def add(self, record: StoredRecord) -> None:
        rid = fit_id(record.warc_header("WARC-Record-ID")) or ""
        method = (record.protocol or "GET")[:16]
        self.by_id[rid] = method
        for target in _concurrent(record):
            self.by_target[fit_id(target) or target] = (method, rid)

    def link(self, capture: Capture, record: StoredRecord) -> None:
        for other in _concurrent(record):
            if (other := fit_id(other) or other) in self.by_id:
                capture.method, capture.request_record_id = self.by_id[other], other
                return
        if capture.record_id in self.by_target:
            capture.method, capture.request_record_id = self.by_target[capture.record_id]


# -- the job ------------------------------------------------------------------------------------------------
def _host() -> str:
    import socket

    return re.sub(r"[^A-Za-z0-9.-]+", "_", socket.gethostname()) or "host"


def recover_killed_imports(warc_dir: Path) -> int:
    """Close the metadata WARCs (``.open``) of import processes that are gone: cut after the last whole record.

    A file names its writer's pid (``...-<host>-import-<pid>.warc.gz.open``): a live import's file is left
    alone, as are the crawl's files. Returns how many files were closed.
    """
    closed = 0
    for path in warc_dir.glob(f"{WRITER_PREFIX}-*{WARC_SUFFIX}{OPEN_SUFFIX}"):
        match = re.search(r"-(\d{5})-(.+-import-(\d+))" + re.escape(WARC_SUFFIX + OPEN_SUFFIX) + "$", path.name)
        if match is None or pid_alive(int(match.group(3))):
            continue
        for done in recover_open_files(warc_dir, host=match.group(2)):
            logger.warning("closed the metadata WARC of a killed import: %s (%d records)", done.path, done.records)
            closed += 1
    return closed



class _Importer:
    """State of one import run: the pool, the metadata writer, templates, pending batches, the report."""

    def __init__(self, index: ArchiveIndex, warc_dir: Path, options: ImportOptions, report: ImportReport):
        self.index, self.warc_dir, self.options, self.report = index, warc_dir, options, report
        self.executor: Executor | None = make_executor(options.workers) if options.extract else None
        self.pool = 0
        writer_options = WarcWriterOptions(prefix=WRITER_PREFIX, host=f"{_host()}-import-{os.getpid()}")
        self.writer = WarcWriter(warc_dir, writer_options) if options.extract and options.write_metadata else None
        self.templates: dict[str, TemplateModel | None] = {}
        self.sites: set[str] = set()
        self.staged: list[tuple[WarcRef, StoredRecord, Capture]] = []
        self.batches: deque[list[_Pending]] = deque()
        self.in_flight: set[str] = set()  # record ids staged or pending, not yet committed
        self.requests = _Requests()
        self.late_requests: dict[str, tuple[str, str]] = {}
        self.unlinked: set[str] = set()  # committed captures of this file without their request record

    @property
    def full(self) -> bool:
        limit = self.options.filters.max_records
        return limit is not None and self.report.captures + len(self.in_flight) >= limit

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
        if self.writer is not None:
            self.writer.close()

    # reading
    def add(self, ref: WarcRef, record: StoredRecord) -> None:
        self.report.records += 1
        if record.rec_type == "request":
            self.requests.add(record)
            return
        if record.rec_type not in CAPTURED_TYPES:
            self.report.other_records += 1
            return
        try:
            capture = capture_row(ref, record, self.report.run_id)
        except (ValueError, TypeError) as exc:
            logger.warning("%s @ %d: record skipped: %s", ref.path, ref.offset, exc)
            self.report.bad_records += 1
            return
        if not capture.url.lower().startswith(("http:", "https:")):  # dns:, metadata://, wget's own log ...
            self.report.other_records += 1
            return
        if not self.options.filters.matches(capture.url, capture.fetched_at):
            self.report.filtered += 1
            return
        if capture.record_id in self.in_flight:
            self.report.duplicates += 1
            return
        self.requests.link(capture, record)
        self.in_flight.add(capture.record_id)
        self.staged.append((ref, record, capture))
        if len(self.staged) >= self.options.batch_size:
            self.submit()

    def end_of_file(self) -> None:
        """Requests read after their response's batch was committed are applied with the next commit."""
        self.submit()
        for batch in self.batches:
            for pending in batch:
                if pending.capture.request_record_id is None and pending.capture.record_id in self.requests.by_target:
                    pending.capture.method, pending.capture.request_record_id = \
                        self.requests.by_target[pending.capture.record_id]
        self.late_requests.update({rid: self.requests.by_target[rid] for rid in self.unlinked
                                   if rid in self.requests.by_target})
        self.requests, self.unlinked = _Requests(), set()

    def submit(self) -> None:
        """Drop staged records already indexed, start extraction of the rest, commit batches that are done."""
        if not self.staged:
            return
        staged, self.staged = self.staged, []
        known = self._indexed({c.record_id for _, _, c in staged})
        batch: list[_Pending] = []
        for _ref, record, capture in staged:
            if capture.record_id in known:
                self.report.duplicates += 1
                self.in_flight.discard(capture.record_id)
                if not known[capture.record_id]:  # indexed by a killed run before its request was read
                    self.unlinked.add(capture.record_id)
                continue
            if capture.request_record_id is None and capture.record_id in self.requests.by_target:
                capture.method, capture.request_record_id = self.requests.by_target[capture.record_id]
            pending = _Pending(capture, record if self._extracts(capture) else None)
            batch.append(pending)
        self._start(batch)
        self.batches.append(batch)
        while len(self.batches) > 1 or (self.batches and all(p.future is None or p.future.done()
                                                             for p in self.batches[0])):
            self.commit(self.batches.popleft())

    def _extracts(self, capture: Capture) -> bool:
        pattern = self.options.article_pattern
        return self.executor is not None and is_html_page(capture) and (
            pattern is None or re.search(pattern, capture.url) is not None)

    def _indexed(self, record_ids: set[str]) -> dict[str, bool]:
        """Which of these records are indexed, and whether their request record is known."""
        with self.index.sessions() as s:
            rows = s.execute(select(Capture.record_id, Capture.request_record_id)
                             .where(Capture.record_id.in_(record_ids))).all()
        return {str(rid): request is not None for rid, request in rows}

    def _start(self, batch: list[_Pending]) -> None:
        pages = [p for p in batch if p.record is not None]
        unchanged = self._unchanged(pages)
        for pending in pages:
            capture = pending.capture
            if (capture.url_key, capture.payload_digest) in unchanged:
                self.report.unchanged += 1
                continue
            unchanged.add((capture.url_key, capture.payload_digest))
            self._submit(pending)

    def _submit(self, pending: _Pending) -> None:
        assert self.executor is not None and pending.record is not None
        args = (pending.record, pending.capture.url, self.options.extract_options,
                self._template(site_of(pending.capture.url)))
        try:
            pending.future = self.executor.submit(extract_record, *args)
        except BrokenProcessPool:  # a worker died since the last page: a fresh pool for this one and the next
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor, self.pool = make_executor(self.options.workers), self.pool + 1
            pending.future = self.executor.submit(extract_record, *args)
        pending.pool, pending.record = self.pool, None

    def _unchanged(self, pages: list[_Pending]) -> set[tuple[str, str]]:
        """(URL key, payload digest) of these pages that already have an article: not a new version."""
        digests = {p.capture.payload_digest for p in pages}
        if not digests:
            return set()
        with self.index.sessions() as s:
            rows = s.execute(select(Capture.url_key, Capture.payload_digest).join(Article)
                             .where(Capture.payload_digest.in_(digests))).all()
        return {(str(k), str(d)) for k, d in rows}

    def _template(self, site: str) -> TemplateModel | None:
        if not self.options.templates:
            return None
        if site not in self.templates:
            from newsarchive.extract.learning import load

            model = load(self.index, site)
            self.templates[site] = model if model else None
        return self.templates[site]

    # writing
    def commit(self, batch: list[_Pending]) -> None:
        """The batch's metadata records (flushed), then its captures and articles in one transaction."""
        results = [(p.capture, self._result(p)) for p in batch]
        for capture, _ in results:  # a request read after its response was submitted (pywb's order)
            if capture.request_record_id is None and capture.record_id in self.requests.by_target:
                capture.method, capture.request_record_id = self.requests.by_target[capture.record_id]
        articles: list[tuple[Capture, Extraction, str | None]] = []
        for capture, result in results:
            if result is None:
                continue
            if result.ok and self.options.filters.languages and result.language not in self.options.filters.languages:
                self.report.other_language += 1
                continue
            articles.append((capture, result, self._write_metadata(capture, result)))
        with self.index.session() as s:
            s.add_all(c for c, _ in results)
            s.flush()
            for capture, result, meta_id in articles:
                site = site_of(capture.url)
                if result.ok:
                    capture.kind = "article"
                s.add(article_row(result, ArticleSource(capture.id, capture.url, site, capture.fetched_at), meta_id))
                self.sites.add(site)
            self._apply_late_requests(s)
        for capture, _ in results:
            self.in_flight.discard(capture.record_id)
            if capture.request_record_id is None:
                self.unlinked.add(capture.record_id)
        self.report.captures += len(results)
        self.report.articles_ok += sum(1 for _, r, _ in articles if r.ok)
        self.report.articles_failed += sum(1 for _, r, _ in articles if not r.ok)

    def _result(self, pending: _Pending) -> Extraction | None:
        if pending.future is None:
            return None
        try:
            return pending.future.result()
        except BrokenProcessPool:
            if pending.pool == self.pool and self.executor is not None:
                logger.error("extraction worker died (at %s); restarting the pool", pending.capture.url)
                self.executor.shutdown(wait=False, cancel_futures=True)
                self.executor, self.pool = make_executor(self.options.workers), self.pool + 1
            return failed(pending.capture.url, "worker-crashed")
        except Exception as exc:  # an extractor bug must not stop the import
            logger.warning("extraction crashed on %s: %s", pending.capture.url, exc)
            return failed(pending.capture.url, f"crashed: {type(exc).__name__}")

    def _write_metadata(self, capture: Capture, result: Extraction) -> str | None:
        if self.writer is None:
            return None
        fields = {**result.as_record(), "newsarchive_site": site_of(capture.url)}
        _ref, meta_id = self.writer.write_metadata(capture.url, capture.record_id, fields, moment=capture.fetched_at)
        return meta_id

    def _apply_late_requests(self, session: Any) -> None:
        late, self.late_requests = self.late_requests, {}
        for response_id, (method, request_id) in late.items():
            session.execute(update(Capture).where(Capture.record_id == response_id,
                                                  Capture.request_record_id.is_(None))
                            .values(method=method, request_record_id=request_id))

    def drain(self) -> None:
        self.submit()
        while self.batches:
            self.commit(self.batches.popleft())
        if self.late_requests:
            with self.index.session() as s:
                self._apply_late_requests(s)


def import_archives(index: ArchiveIndex, warc_dir: str | os.PathLike[str], paths: Iterable[str | os.PathLike[str]],
                    options: ImportOptions | None = None, progress: ImportProgress | None = None) -> ImportReport:
    """Import the WARC/WACZ files at ``paths`` (files or directories) into ``index``; see the module doc.

    ``progress(bytes done, bytes of all sources, report so far)`` is called after every record.
    """
    options = options or ImportOptions()
    for option, pattern in (("--url-pattern", options.filters.url_pattern), ("--article-pattern", options.article_pattern)):
        try:
            re.compile(pattern or "")
        except re.error as exc:
            raise ImportFailed(f"{option} {pattern!r}: {exc}") from exc
    sources = collect_sources(paths)
    warc_dir = Path(warc_dir)
    warc_dir.mkdir(parents=True, exist_ok=True)
    recover_killed_imports(warc_dir)
    started = time.perf_counter()
    report = ImportReport(run_id=index.start_run("import", {"paths": [str(p) for p in sources]}))
    job = _Importer(index, warc_dir, options, report)
    status = "interrupted"
    try:
        position = _Position(sources, progress)
        for source in sources:
            _import_source(job, source, position)
            if job.full:
                break
        job.drain()
        status = "finished"
    finally:
        job.close()
        report.seconds = time.perf_counter() - started
        index.finish_run(report.run_id or 0, status=status, stats=_stats(report))
    if options.extract and report.articles:
        _derive(index, job.sites if options.templates else set())
    return report


def _import_source(job: _Importer, source: Path, bar: _Position) -> None:
    files = register(source, job.warc_dir, job.options.copy)
    for name, path in files:
        job.report.files += 1
        bar.file(source, path, 1 / len(files))
        for item in scan(path):
            if isinstance(item, Damage):
                logger.warning("damaged WARC region skipped: %s", item)
                job.report.damaged.append(item)
                continue
            ref, record = item
            job.add(WarcRef(name, ref.offset, ref.length), record)
            bar.advance(ref, job.report)
            if job.full:
                break
        job.end_of_file()
        if job.full:
            break
    bar.done_source(source, job.report)


def _derive(index: ArchiveIndex, sites: set[str]) -> None:
    """Story clusters for the new articles, and each imported site's template learned again."""
    from newsarchive.archive.dedup import cluster_articles
    from newsarchive.extract.learning import learn, save

    try:
        logger.info("story clusters: %s", cluster_articles(index))
    except Exception:  # derived data: the next crawl, import or export clusters again
        logger.exception("could not cluster the imported articles into stories")
    for site in sorted(sites):
        try:
            save(index, learn(index, site))
        except Exception:  # an optimisation; it must never lose the import's results
            logger.exception("could not learn the template of %s", site)


def _stats(report: ImportReport) -> dict[str, Any]:
    return {"newsarchive/import/records": report.records, "newsarchive/import/captures": report.captures,
            "newsarchive/import/duplicates": report.duplicates, "newsarchive/import/filtered": report.filtered,
            "newsarchive/import/articles": report.articles_ok, "newsarchive/import/damaged": len(report.damaged),
            "newsarchive/errors": len(report.damaged) + report.bad_records}


# -- progress -----------------------------------------------------------------------------------------------
ImportProgress = Callable[[int, int, ImportReport], None]  # (bytes done, bytes of all sources, counts so far)


class _Position:
    """Bytes of the sources read so far, for a ``(done, total, report)`` progress callback."""

    def __init__(self, sources: list[Path], progress: ImportProgress | None):
        self.progress = progress
        self.total = sum(p.stat().st_size for p in sources)
        self.base, self.scale = 0, 1.0

    def file(self, source: Path, path: Path, share: float) -> None:
        """Reading ``path``, which stands for ``share`` of the bytes of ``source`` (a WACZ holds several)."""
        self.scale = source.stat().st_size * share / max(path.stat().st_size, 1)

    def advance(self, ref: WarcRef, report: ImportReport) -> None:
        if self.progress is not None:
            self.progress(min(self.total, self.base + int((ref.offset + ref.length) * self.scale)), self.total, report)

    def done_source(self, source: Path, report: ImportReport) -> None:
        self.base += source.stat().st_size
        if self.progress is not None:
            self.progress(min(self.total, self.base), self.total, report)
