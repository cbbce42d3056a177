"""The index schema under Alembic: the same migrations on SQLite and PostgreSQL, run from Python.

:func:`ensure_schema` brings a database to the newest revision (``newsarchive db upgrade`` and every
:class:`~newsarchive.archive.index.ArchiveIndex` call it). A new SQLite database is created from the models
and stamped at :data:`HEAD`, which is what replaying every migration gives (``tests/test_migrations.py``
compares the two) without importing Alembic and running its scripts: a fresh home's first crawl pays
~0.2 s CPU less. A database made before migrations existed (tables created by ``create_all``, no
``alembic_version``) is stamped at :data:`BASELINE` (the schema those versions created) and upgraded from
there. Concurrent starters are serialised: a PostgreSQL advisory lock, or a lock file next to a SQLite
database.

When you change a model, add a revision (``alembic -c`` is not needed)::

    python -m newsarchive.archive.schema revision "add foo to captures" 0003

then set :data:`HEAD` to the new revision. Every table is a model in :mod:`newsarchive.archive.models`.
``tests/test_migrations.py`` fails while the migrated schema differs from the models.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the schema of databases created by create_all before migrations
# The tables of BASELINE. Before migrations, create_all made only the tables of the modules imported at the
# time, so an adopted database gets the missing ones of these first (never tables of later revisions).
BASELINE_TABLES = ("crawl_runs", "captures", "articles", "fetch_failures", "schedule_runs", "site_templates",
                   "template_lines", "story_clusters")
HEAD = "0005"  # the newest revision; the up-to-date check needs no Alembic import (a test keeps it true)
ADVISORY_LOCK = 0x6E65777361726368  # "newsarch": one migrator at a time per PostgreSQL database
# Indexes created as DDL in migrations that SQLAlchemy's models cannot express (full-text search).
DDL_ONLY_INDEXES: frozenset[str] = frozenset({"ix_articles_fulltext"})  # migration 0002
# Where the models alone are the schema at HEAD, so a new database is created from them: not PostgreSQL,
# which gets DDL_ONLY_INDEXES from the migrations.
CREATE_FROM_MODELS = frozenset({"sqlite"})


def target_metadata() -> MetaData:
    """``Base.metadata``: every table (all models live in :mod:`newsarchive.archive.models`)."""
    from newsarchive.archive.models import Base

    return Base.metadata


def is_managed(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any = None) -> bool:
    """Whether a database object is ours to compare and migrate.

    Tables in the database that no model maps belong to someone else (APScheduler's job store, SQLite
    FTS5 shadow tables) and are never dropped; full-text indexes made by DDL are not in the models.
    """
    if type_ == "table" and reflected and compare_to is None:
        return False
    return not (type_ == "index" and name in DDL_ONLY_INDEXES)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision of the migration scripts (read once per process)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has no migration history."""
    with engine.connect() as conn:
        return _current(conn)


def _current(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine, *, replay: bool = False) -> str:
    """Upgrade the database to the newest revision (adopting a pre-migration database); returns it.

    A new database where the models are the whole schema (:data:`CREATE_FROM_MODELS`) is created from them
    and stamped instead, unless ``replay``: then every migration runs, as on PostgreSQL.
    """
    if current_revision(engine) == HEAD:
        return HEAD
    with _migration_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        current = _current(conn)
        if current == HEAD:
            return HEAD
        if current is None and not replay and _new_and_creatable(conn):
            _create_at_head(conn)
            logger.info("index schema created at %s", HEAD)
            return HEAD
        from alembic import command

        config = alembic_config(conn)
        if current is None and inspect(conn).has_table("captures"):
            _adopt(conn, config)
        command.upgrade(config, "head")
        logger.info("index schema upgraded from %s to %s", current or "nothing", HEAD)
    return HEAD


def _new_and_creatable(conn: Connection) -> bool:
    """No table of ours yet (tables of others, like a job store, may be there), in a dialect whose schema
    at HEAD the models express entirely."""
    if conn.dialect.name not in CREATE_FROM_MODELS:
        return False
    return not set(inspect(conn).get_table_names()) & set(target_metadata().tables)


def _create_at_head(conn: Connection) -> None:
    """Every table of the models, and the revision recorded as ``alembic stamp head`` records it: Alembic's
    version table (its name, column and primary key name) holding :data:`HEAD`."""
    target_metadata().create_all(conn)
    version = Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
                    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD))


def _adopt(conn: Connection, config: Config) -> None:
    """A database from before migrations: complete the baseline tables, then stamp it at the baseline."""
    from alembic import command

    metadata = target_metadata()
    missing = [metadata.tables[name] for name in BASELINE_TABLES if not inspect(conn).has_table(name)]
    metadata.create_all(conn, tables=missing)
    logger.info("index without migration history: added %d baseline tables, stamped at %s", len(missing), BASELINE)
    command.stamp(config, BASELINE)


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """A lock file next to a SQLite database (PostgreSQL takes an advisory lock in the transaction)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def autogenerate_revision(message: str, revision_id: str | None = None) -> None:
    """Write a new revision script from the difference between the models and a scratch database at head."""
    import tempfile

    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/scratch.sqlite")
        with engine.begin() as conn:
            config = alembic_config(conn)
            if ScriptDirectory.from_config(config).get_current_head() is not None:
                command.upgrade(config, "head")
            command.revision(config, message=message, autogenerate=True, rev_id=revision_id)
        engine.dispose()


if __name__ == "__main__":  # python -m newsarchive.archive.schema revision "message" [rev-id]
    if len(sys.argv) < 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m newsarchive.archive.schema revision "message" [revision-id]')
    autogenerate_revision(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
