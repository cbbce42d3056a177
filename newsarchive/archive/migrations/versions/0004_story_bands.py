"""story_bands: the LSH band keys of the stored story signatures, on disk

Story clustering used to load every stored signature into an in-memory LSH index at each crawl's close
(4.4-10.9 KB per article). The band keys now live in the index: one row per (article, band), looked up by
``ix_story_bands_band_key``. The table is filled here from the signatures already in ``story_clusters``, in
keyset-paged chunks (bounded memory whatever the index size), so existing stories keep finding their copies.

The keys are those of newsarchive.archive.dedup's default layout when this revision was written: 32 bands of
one row (datasketch's MinHashLSH choice for Jaccard 0.05 and 128 permutations), a band's key being the
signature's value at that position as a signed 32-bit integer. Written out here, not imported, so this
revision keeps meaning what it meant when it was written; dedup re-bands the whole table itself when its
layout differs from the stored one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:10:00
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANDS = 32  # rows per band: 1
CHUNK = 2000  # articles per read/insert step


def band_rows(article_id: int, signature: bytes) -> list[dict[str, int]]:
    """The band rows of one stored signature (little-endian uint64 values holding 32-bit hashes)."""
    count = min(BANDS, len(signature) // 8)
    values = struct.unpack_from(f"<{count}Q", signature)
    return [{"article_id": article_id, "band": band, "key": value - (1 << 32) if value >= 1 << 31 else value}
            for band, value in enumerate(values)]


def upgrade() -> None:
    # A database adopted from before migrations may have had its tables created from newer models
    # (schema._adopt): then the table is there already, and only its missing rows are filled.
    if not sa.inspect(op.get_bind()).has_table("story_bands"):
        create()
    backfill(op.get_bind())


def create() -> None:
    op.create_table(
        "story_bands",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["story_clusters.article_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "band"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("story_bands", schema=None) as batch_op:
        batch_op.create_index("ix_story_bands_band_key", ["band", "key"], unique=False)


def backfill(conn: sa.Connection) -> None:
    """Band rows for every stored signature that has none."""
    clusters = sa.table("story_clusters", sa.column("article_id", sa.Integer()),
                        sa.column("signature", sa.LargeBinary()))
    bands = sa.table("story_bands", sa.column("article_id", sa.Integer()), sa.column("band", sa.Integer()),
                     sa.column("key", sa.Integer()))
    last = -1
    while True:
        chunk = conn.execute(sa.select(clusters.c.article_id, clusters.c.signature)
                             .where(clusters.c.article_id > last, clusters.c.signature.is_not(None),
                                    ~sa.exists().where(bands.c.article_id == clusters.c.article_id))
                             .order_by(clusters.c.article_id).limit(CHUNK)).all()
        if not chunk:
            return
        rows = [row for article_id, signature in chunk for row in band_rows(article_id, signature)]
        if rows:
            conn.execute(bands.insert(), rows)
        last = chunk[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("story_bands", schema=None) as batch_op:
        batch_op.drop_index("ix_story_bands_band_key")
    op.drop_table("story_bands")
