"""full-text search: PostgreSQL GIN index over articles

On PostgreSQL the expression index that newsarchive.archive.search queries is built here, by
`newsarchive db upgrade`, so a large archive builds it once at deploy time and not in the first search
request (search.ensure_search_index stays a no-op safety net: CREATE INDEX IF NOT EXISTS). On SQLite
nothing happens: the FTS5 table and its triggers are created and filled by ensure_search_index on first
use, so archives that are never searched do not pay for the index on every article insert.

Written out here, not imported, so this revision keeps meaning what it meant when it was written.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES = ("CREATE INDEX IF NOT EXISTS ix_articles_fulltext ON articles USING GIN "
            "((to_tsvector('simple', coalesce(articles.title, '') || ' ' || coalesce(articles.text, ''))))")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_fulltext")
