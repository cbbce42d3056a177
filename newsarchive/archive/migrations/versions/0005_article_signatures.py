"""articles.shingles and articles.signature: the story-clustering MinHash made by the extraction worker

Story clustering at a crawl's close shingled and hashed every new article's text, ~2 ms of CPU per article,
serially, after the last page. The crawl's extraction workers now make the signature beside each other and
the article row carries it until clustering moves it to the article's ``story_clusters`` row. Existing rows
get NULL: clustering computes their signatures as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("shingles", sa.Integer), ("signature", sa.LargeBinary))


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("articles")}
    missing = [sa.Column(name, kind(), nullable=True) for name, kind in COLUMNS if name not in have]
    if missing:
        with op.batch_alter_table("articles", schema=None) as batch_op:
            for column in missing:
                batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("signature")
        batch_op.drop_column("shingles")
