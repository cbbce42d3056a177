"""Alembic migrations of the index schema; run them with :func:`newsarchive.archive.schema.ensure_schema`."""
