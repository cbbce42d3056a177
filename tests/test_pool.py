"""The extraction pool: workers forked from a prepared forkserver start with the extraction stack loaded."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from newsarchive.archive.owner import pid_alive
from newsarchive.extract.pool import WARM_UP_PAGE, make_executor, prepare_worker_process, run_extract


def _worker_state() -> dict[str, Any]:
    """Run in a pool worker before it extracts anything: what it inherited from the forkserver."""
    import py3langid.langid

    return {"model": py3langid.langid.IDENTIFIER is not None, "frozen": gc.get_freeze_count(),
            "trafilatura": "trafilatura" in sys.modules, "sqlalchemy": "sqlalchemy" in sys.modules,
            "dateparser": "dateparser" in sys.modules}


def test_workers_inherit_the_loaded_extraction_stack() -> None:
    executor = make_executor(1)
    try:
        state = executor.submit(_worker_state).result(timeout=300)
        page = executor.submit(run_extract, WARM_UP_PAGE, "https://news.example/city/bridge.html").result(timeout=300)
    finally:
        executor.shutdown()
    assert state["model"] and state["trafilatura"]  # loaded by the forkserver, before this worker existed
    assert state["dateparser"]  # htmldate's fallback parser too, which the warm-up page itself never reaches
    assert state["frozen"] > 0  # the inherited objects are out of the collector's reach: their pages stay shared
    assert not state["sqlalchemy"]  # the index models are no business of a crawl's extraction worker
    assert page.ok and page.language == "en"


def test_preparing_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception in the forkserver's preload would stop the forkserver and with it every pool."""
    import newsarchive.extract.article

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("model file missing")

    monkeypatch.setattr(newsarchive.extract.article, "extract", broken)
    try:
        prepare_worker_process()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_one_thread_without_workers() -> None:
    executor = make_executor(0)
    try:
        assert executor.submit(run_extract, WARM_UP_PAGE, "https://news.example/a.html").result().ok
    finally:
        executor.shutdown()


def test_a_page_leaves_no_lines_in_the_word_cache() -> None:
    """The line-word cache serves one page's filters; held between pages it was a worker's largest growth."""
    from newsarchive.extract import chrome

    page = run_extract(WARM_UP_PAGE, "https://news.example/city/bridge.html")
    assert page.ok and chrome.words("The harbour bridge reopened") == ["the", "harbour", "bridge", "reopened"]
    run_extract(WARM_UP_PAGE, "https://news.example/city/bridge-2.html")
    assert chrome._words.cache_info().currsize == 0


KILLED_OWNER = """
import os, sys
from newsarchive.extract.pool import make_executor
if __name__ == "__main__":
    pool = make_executor(2)
    pids = {pool.submit(os.getpid).result() for _ in range(8)} | {pool.submit(os.getppid).result()}
    print(" ".join(map(str, sorted(pids))), flush=True)
    sys.stdin.read()  # until the test kills this process
"""


@pytest.mark.slow
def test_workers_and_forkserver_end_when_the_crawl_is_killed(tmp_path: Any) -> None:
    """A SIGKILLed crawl leaves no extraction processes behind (they would wait on its queue forever)."""
    script = tmp_path / "owner.py"
    script.write_text(KILLED_OWNER)
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        pids = [int(p) for p in line.split()]
        assert len(pids) >= 2 and all(pid_alive(p) for p in pids), line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 120  # the workers check every 2 s; generous for a loaded machine
        while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in pids if pid_alive(p)], "pool processes outlived the killed owner"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_worker_signs_the_text_for_story_clustering() -> None:
    """Each extracted article carries its story-clustering signature, made where it was extracted, equal to
    the one the close would make; the WARC record does not carry it."""
    from newsarchive.archive.dedup import ClusterOptions, shingles, signature

    page = run_extract(WARM_UP_PAGE, "https://news.example/city/bridge.html")
    assert page.ok and page.shingles == len(shingles(page.text)) and page.shingles >= 10
    assert page.signature == signature(shingles(page.text), ClusterOptions()).astype("<u8").tobytes()
    assert "signature" not in page.as_record() and "shingles" not in page.as_record()


def test_an_article_whose_signature_fails_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The signature is an optimisation of story clustering: the article is kept without it."""
    import newsarchive.archive.minhash

    def broken(text: str) -> Any:
        raise MemoryError("no room for the shingles")

    monkeypatch.setattr(newsarchive.archive.minhash, "text_signature", broken)
    page = run_extract(WARM_UP_PAGE, "https://news.example/city/bridge.html")
    assert page.ok and page.signature is None and page.shingles is None
