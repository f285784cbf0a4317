"""published releases and the cool-down: an office's release schedule, the releases made, slots held back

Nullable columns added in place and new tables only (no table rebuild on either database).

Revision ID: 20261203_releases
Revises: 20261203_itinerary
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261203_releases"
down_revision: str | Sequence[str] | None = "20261203_itinerary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("office", sa.Column("release_weekdays", sa.JSON(), nullable=True))
    op.add_column("office", sa.Column("release_time", sa.Time(), nullable=True))
    op.add_column("office", sa.Column("release_days_ahead", sa.SmallInteger(), nullable=True))
    op.create_table(
        "office_release",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("made_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_office_release_office_id_office"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("office_id", "at", name=op.f("pk_office_release")),
    )
    op.create_table(
        "wish_cooldown",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("created_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_wish_cooldown_booking_id_booking"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], name=op.f("fk_wish_cooldown_office_id_office")),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["wish_release.id"],
            name=op.f("fk_wish_cooldown_release_id_wish_release"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_wish_cooldown")),
    )
    op.create_index(op.f("ix_wish_cooldown_release_id"), "wish_cooldown", ["release_id"], unique=False)
    op.create_index(op.f("ix_wish_cooldown_until"), "wish_cooldown", ["until"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_wish_cooldown_until"), table_name="wish_cooldown")
    op.drop_index(op.f("ix_wish_cooldown_release_id"), table_name="wish_cooldown")
    op.drop_table("wish_cooldown")
    op.drop_table("office_release")
    with op.batch_alter_table("office") as batch_op:
        batch_op.drop_column("release_days_ahead")
        batch_op.drop_column("release_time")
        batch_op.drop_column("release_weekdays")
