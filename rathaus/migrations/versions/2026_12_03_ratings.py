"""ratings: one per visit, invited with a single-use token after the visit

A new table only.

Revision ID: 20261203_ratings
Revises: 20261203_modes
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261203_ratings"
down_revision: str | Sequence[str] | None = "20261203_modes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rated_at", rathaus.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stars", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_rating_stars")),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_rating_office_id_office"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rating_token_hash")),
        sa.UniqueConstraint("visit", name=op.f("uq_rating_visit")),
    )
    op.create_index("ix_rating_office_day", "rating", ["office_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_rating_office_day", table_name="rating")
    op.drop_table("rating")
