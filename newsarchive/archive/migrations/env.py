"""Alembic environment: run programmatically by newsarchive.archive.schema (no alembic.ini needed).

The connection comes in ``config.attributes["connection"]``; the target metadata is the index's
``Base.metadata`` with every table module imported. Tables that other libraries keep in the index
database (APScheduler's job store, full-text helper tables) are not ours and are left alone.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from newsarchive.archive.schema import is_managed, target_metadata

config = context.config


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return is_managed(obj, name, type_, reflected)


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("newsarchive migrations run through newsarchive.archive.schema.ensure_schema")
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
