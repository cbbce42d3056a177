"""The extraction process pool, shared by the crawl's extraction pipeline and archive import.

Extraction is CPU-bound (lxml + trafilatura), so it runs in worker processes started with ``forkserver``:
no fork of a running reactor's or a database connection's threads. ``workers <= 0`` gives one thread
instead (debugging, or a machine where processes cannot be started).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from newsarchive.archive.charset import decode_html
from newsarchive.archive.warc import StoredRecord, decoded_body
from newsarchive.extract.result import Extraction, ExtractOptions
from newsarchive.extract.templates import TemplateModel


def make_executor(workers: int) -> Executor:
    """Processes for CPU-bound extraction (forkserver: no fork of the reactor's threads); 0 = one thread."""
    if workers <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


def run_extract(html: str | bytes, url: str, options: ExtractOptions | None = None,
                template: TemplateModel | None = None) -> Extraction:
    """:func:`newsarchive.extract.article.extract`, imported where it runs: the process that submits pages
    to the pool (the crawl's main process) never loads trafilatura and its dependencies."""
    from newsarchive.extract.article import extract

    return extract(html, url, options, template)


def extract_record(record: StoredRecord, url: str, options: ExtractOptions,
                   template: TemplateModel | None = None) -> Extraction:
    """Extract the article of an archived HTML response, in a pool worker: transfer and content encodings
    undone and the charset decoded here, so the process reading the WARCs only ships bytes."""
    html, _encoding = decode_html(decoded_body(record), record.http_header("Content-Type"))
    return run_extract(html, url, options, template)
