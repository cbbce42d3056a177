"""article fields for export (authors list, agencies, image, tags, paywall flag, Markdown body);
truncated captures (why a stored body is incomplete)

Existing rows get empty lists and an empty Markdown body (server defaults), so the migration runs on a
filled index; re-extraction fills the new fields from the archived pages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:08:44.772987
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ARTICLE_COLUMNS: tuple[tuple[str, Callable[[], sa.Column]], ...] = (
    ("authors", lambda: sa.Column("authors", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))),
    ("agencies", lambda: sa.Column("agencies", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))),
    ("image_url", lambda: sa.Column("image_url", sa.Text(), nullable=True)),
    ("tags", lambda: sa.Column("tags", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))),
    ("paywalled", lambda: sa.Column("paywalled", sa.Boolean(), nullable=True)),
    ("markdown", lambda: sa.Column("markdown", sa.Text(), nullable=False, server_default=sa.text("''"))),
)


def _missing(table: str, columns: tuple[tuple[str, Callable[[], sa.Column]], ...]) -> list[sa.Column]:
    """The columns ``table`` lacks. A database adopted from before migrations may have had baseline tables
    created from newer models (schema._adopt), which already hold these columns."""
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
    return [make() for name, make in columns if name not in have]


def upgrade() -> None:
    for table, columns in (("articles", ARTICLE_COLUMNS),
                           ("captures", (("truncated", lambda: sa.Column("truncated", sa.String(length=32),
                                                                         nullable=True)),))):
        missing = _missing(table, columns)
        if missing:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for column in missing:
                    batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_column('truncated')

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('markdown')
        batch_op.drop_column('paywalled')
        batch_op.drop_column('tags')
        batch_op.drop_column('image_url')
        batch_op.drop_column('agencies')
        batch_op.drop_column('authors')

