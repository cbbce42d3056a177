"""full-text search: SQLite FTS5 table with sync triggers, PostgreSQL GIN index

The same objects as newsarchive.archive.search.ensure_search_index creates on first use (that function
stays as a no-op safety net: every statement is IF NOT EXISTS). Written out here, not imported, so this
revision keeps meaning what it meant when it was written.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "title, text, author, description"
NEW = "new.id, new.title, new.text, new.author, new.description"
OLD = "'delete', old.id, old.title, old.text, old.author, old.description"
SQLITE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5({COLUMNS}, content='articles', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS articles_fts_ai AFTER INSERT ON articles BEGIN "
    f"INSERT INTO articles_fts(rowid, {COLUMNS}) VALUES ({NEW}); END",
    f"CREATE TRIGGER IF NOT EXISTS articles_fts_ad AFTER DELETE ON articles BEGIN "
    f"INSERT INTO articles_fts(articles_fts, rowid, {COLUMNS}) VALUES ({OLD}); END",
    f"CREATE TRIGGER IF NOT EXISTS articles_fts_au AFTER UPDATE ON articles BEGIN "
    f"INSERT INTO articles_fts(articles_fts, rowid, {COLUMNS}) VALUES ({OLD}); "
    f"INSERT INTO articles_fts(rowid, {COLUMNS}) VALUES ({NEW}); END",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",  # index the articles already there
)
POSTGRES = ("CREATE INDEX IF NOT EXISTS ix_articles_fulltext ON articles USING GIN "
            "((to_tsvector('simple', coalesce(articles.title, '') || ' ' || coalesce(articles.text, ''))))")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(POSTGRES)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("articles_fts_ai", "articles_fts_ad", "articles_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_fulltext")
