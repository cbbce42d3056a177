"""PostgreSQL for tests: a throw-away database on the local server, or a clear skip reason."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from newsarchive.archive.index import ArchiveIndex

PG_ADMIN_URL = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_unavailable_reason() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'newsarchive[postgres]')"
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"
    return None


@contextmanager
def temp_pg_database() -> Iterator[str]:
    """Create a fresh database, yield its URL, drop it afterwards."""
    from sqlalchemy import create_engine, text

    name = f"newsarchive_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_and_postgresql_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArchiveIndex]:
    """Body of an ``index`` fixture parametrized over ["sqlite", "postgresql"] (PostgreSQL skips when absent)."""
    if request.param == "sqlite":
        idx = ArchiveIndex(f"sqlite:///{tmp_path / 'index.sqlite'}")
        yield idx
        idx.close()
        return
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with temp_pg_database() as url:
        idx = ArchiveIndex(url)
        yield idx
        idx.close()
