"""The extraction pool: workers forked from a prepared forkserver start with the extraction stack loaded."""

from __future__ import annotations

import gc
import sys
from typing import Any

import pytest

from newsarchive.extract.pool import WARM_UP_PAGE, make_executor, prepare_worker_process, run_extract


def _worker_state() -> dict[str, Any]:
    """Run in a pool worker before it extracts anything: what it inherited from the forkserver."""
    import py3langid.langid

    return {"model": py3langid.langid.IDENTIFIER is not None, "frozen": gc.get_freeze_count(),
            "trafilatura": "trafilatura" in sys.modules, "sqlalchemy": "sqlalchemy" in sys.modules}


def test_workers_inherit_the_loaded_extraction_stack() -> None:
    executor = make_executor(1)
    try:
        state = executor.submit(_worker_state).result(timeout=300)
        page = executor.submit(run_extract, WARM_UP_PAGE, "https://news.example/city/bridge.html").result(timeout=300)
    finally:
        executor.shutdown()
    assert state["model"] and state["trafilatura"]  # loaded by the forkserver, before this worker existed
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
