"""Shared pytest fixtures. Keep them generic: several test modules use them.

- ``demo_sites`` (session): the five demo news sites, each outlet publishing its own seed story.
- ``fresh_demo_sites`` (function): the same, started for one test (mutate it freely: ``update_story``).
- ``demo_server_factory`` (function): ``start(**serve_demo_kwargs)`` for other variants (hostile pages,
  every story on every outlet); everything it started is closed after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from newsarchive.demo.server import DemoServer, serve_demo


@pytest.fixture(scope="session")
def demo_sites() -> Iterator[DemoServer]:
    with serve_demo() as server:
        yield server


@pytest.fixture
def fresh_demo_sites() -> Iterator[DemoServer]:
    with serve_demo() as server:
        yield server


@pytest.fixture
def demo_server_factory() -> Iterator[Callable[..., DemoServer]]:
    started: list[DemoServer] = []

    def start(**kwargs: Any) -> DemoServer:
        server = serve_demo(**kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(autouse=True)
def _no_archive_in_the_working_directory() -> Iterator[None]:
    """No test may write the default archive home (./newsarchive-data) where pytest runs: every test works
    in its own temporary home."""
    from pathlib import Path

    default = Path("newsarchive-data")
    existed = default.exists()
    yield
    assert existed or not default.exists(), "the test created ./newsarchive-data (give it a temporary home)"
