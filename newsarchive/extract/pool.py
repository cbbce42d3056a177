"""The extraction process pool, shared by the crawl's extraction pipeline and archive import.

Extraction is CPU-bound (lxml + trafilatura), so it runs in worker processes started with ``forkserver``:
no fork of a running reactor's or a database connection's threads. ``workers <= 0`` gives one thread
instead (debugging, or a machine where processes cannot be started).

The forkserver prepares once what every worker needs (:func:`prepare_worker_process`, run by the preload
module :mod:`newsarchive.extract.preload`): the extraction libraries imported and the language model
loaded before any worker is forked, so the workers share those pages instead of each loading its own copy
(py3langid's model alone is ~75 MB and ~0.7 s CPU per process). ``bench/profile_pool.py``: 2 workers after
139 real pages hold 225 MB PSS with the forkserver, against 402 MB when each worker loaded its own.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from multiprocessing import forkserver
from typing import TYPE_CHECKING, Any

from newsarchive.archive.charset import decode_html
from newsarchive.archive.owner import owner_alive, process_owner
from newsarchive.extract.result import Extraction, ExtractOptions
from newsarchive.extract.templates import TemplateModel

if TYPE_CHECKING:  # the WARC reader (warcio, the index models) loads in a worker only for archive import
    from newsarchive.archive.warc import StoredRecord

logger = logging.getLogger(__name__)

PRELOAD = "newsarchive.extract.preload"  # imported by the forkserver: runs prepare_worker_process()
# A short article page without a date, so that its extraction goes through every stage a page may need: the
# parse, metadata and htmldate's date search, language detection, the body with trafilatura's fallbacks
# (readability, and jusText's stop word lists for a text this short) and then ours (untouched page and
# readability, below FALLBACK_MIN_WORDS).
WARM_UP_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Harbour bridge reopens
| Example News</title></head><body><header><nav><a href="/">Home</a> <a href="/city/">City</a></nav></header>
<main><article><h1>Harbour bridge reopens</h1><p>The harbour bridge reopened to traffic on Monday morning,
after eight months of repairs to its deck and cables, two weeks ahead of schedule.</p></article></main>
<footer><p>Contact us</p></footer></body></html>"""


def make_executor(workers: int) -> Executor:
    """Processes for CPU-bound extraction (forkserver: no fork of the reactor's threads); 0 = one thread."""
    if workers <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
    context = multiprocessing.get_context("forkserver")
    # effective when this process starts its forkserver, i.e. with its first pool; "__main__" is the default
    context.set_forkserver_preload(["__main__", PRELOAD])
    # start it now: it prepares while the crawl fetches its first pages, instead of when the first page is
    # submitted (the submitting thread, the crawl's reactor, waits for the first worker to be forked)
    forkserver.ensure_running()
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=watch_owner,
                               initargs=(process_owner(),))


OWNER_CHECK_SECONDS = 2.0


def watch_owner(owner: dict[str, Any]) -> None:
    """Pool worker initializer: end this worker when the process that made the pool is gone.

    A pool's workers block on its call queue, whose pipe they hold both ends of, so a crawl killed with
    SIGKILL never closes it: without this they (and the forkserver, kept alive by the workers' copies of
    its alive-pipe) would wait forever, ~200 MB a killed crawl. A daemon thread checks the owner (PID and
    start time, so a reused PID is not taken for it) every :data:`OWNER_CHECK_SECONDS`.
    """
    def watch() -> None:
        while owner_alive(owner) is not False:
            time.sleep(OWNER_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def prepare_worker_process() -> None:
    """Load what extraction loads on first use (trafilatura and lxml, py3langid's model, htmldate,
    readability) by extracting :data:`WARM_UP_PAGE`, then freeze the garbage collector's view of it all.

    Run in the forkserver, so every worker forked from it starts with these pages in common. ``gc.freeze``
    keeps them in common: a collection in a worker would otherwise write to every object's GC header and
    so copy the pages they are on. Never raises: a worker that loads what it needs itself is slower, not
    wrong, whereas an exception here would stop the forkserver and with it the pool.
    """
    try:
        from newsarchive.extract.article import extract

        extract(WARM_UP_PAGE, "https://news.example/city/harbour-bridge-reopens.html", ExtractOptions())
        _warm_date_parser()
    except Exception:
        logger.exception("could not prepare the extraction worker processes")
    gc.collect()
    gc.freeze()


def _warm_date_parser() -> None:
    """Load what htmldate loads when its own date patterns fail, which the warm-up page never reaches:
    dateparser (~250 modules), the month names of all its locales and its date parser with the locales
    a first date compiles. Real pages reach it: each worker used to import it on its own, into private
    memory (``bench/profile_pool.py``)."""
    try:  # htmldate internals (1.9); another layout loads it on first use, in each worker, as before
        from htmldate.extractors import get_external_parser, month_words
    except ImportError:  # pragma: no cover
        return
    month_words()
    parser = get_external_parser()
    for sample in ("12. März 2024", "March 5, 2023", "5 octobre 2021"):
        parser.get_date_data(sample)


def run_extract(html: str | bytes, url: str, options: ExtractOptions | None = None,
                template: TemplateModel | None = None) -> Extraction:
    """:func:`newsarchive.extract.article.extract`, imported where it runs: the process that submits pages
    to the pool (the crawl's main process) never loads trafilatura and its dependencies. Then the memory
    the page's trees and its line cache took is handed back (:func:`release_free_memory`)."""
    from newsarchive.archive.minhash import text_signature
    from newsarchive.extract import chrome
    from newsarchive.extract.article import extract

    try:
        result = extract(html, url, options, template)
        if not result.ok:
            return result
        try:  # for story clustering, made here beside the other workers; the close makes it when missing
            count, signature = text_signature(result.text)
        except Exception:  # never lose the article for its signature
            logger.exception("could not sign the text of %s for story clustering", url)
            return result
        return replace(result, shingles=count, signature=signature)
    finally:
        chrome.forget_lines()
        release_free_memory()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc
        return None


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc's ``malloc_trim``; elsewhere nothing).

    A page's lxml trees are freed after extraction, but the allocator keeps the free pages between the live
    objects resident, so a worker's memory creeps up page by page. ``bench/profile_pool.py``, 139 real pages
    in 2 workers: 29 MB less PSS for the pool, for ~0.7 ms CPU per page (about 2% of extraction).
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, kept fixed
ARENA_MAX = 2


@functools.cache
def _mallopt() -> Callable[[int, int], int] | None:
    try:
        return ctypes.CDLL(None).mallopt  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc
        return None


def tune_allocator() -> bool:
    """Keep a long-running process's C heap from holding what it freed (glibc; elsewhere nothing). Call it
    before the process starts its threads. Whether it applied.

    A crawl's main process allocates a few buffers of a page's size (~300 KB: the body, its decoded text,
    the pickled task for the extraction pool) per page, in several threads (reactor, pool feeder, index
    writer). glibc serves the first from mmap, then raises its mmap threshold to the largest size freed, so
    the later ones come from the heap and each thread's arena, where live small objects between them keep
    the freed pages resident. Fixing the threshold keeps every such buffer in its own mapping, returned
    when it is freed, and two arenas at most (MALLOC_ARENA_MAX=2) bound how many heaps hold free pages.
    Measured on a 500-page crawl of ``bench/crawl.py``'s site, the main process's PSS read every 3 s: peak
    161 MB without, 135 MB with (its ``[heap]`` mapping 63 MB -> 30 MB).
    """
    mallopt = _mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_ARENA_MAX, ARENA_MAX))


def extract_record(record: StoredRecord, url: str, options: ExtractOptions,
                   template: TemplateModel | None = None) -> Extraction:
    """Extract the article of an archived HTML response, in a pool worker: transfer and content encodings
    undone and the charset decoded here, so the process reading the WARCs only ships bytes."""
    from newsarchive.archive.warc import decoded_body

    html, _encoding = decode_html(decoded_body(record), record.http_header("Content-Type"))
    return run_extract(html, url, options, template)
