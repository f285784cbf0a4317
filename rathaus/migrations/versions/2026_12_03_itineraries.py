"""life events across offices: travel times between offices, life events, itineraries of bookings

New tables only, so neither database rebuilds one.

Revision ID: 20261203_itinerary
Revises: 20261203_waitlist
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261203_itinerary"
down_revision: str | Sequence[str] | None = "20261203_waitlist"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "travel_time",
        sa.Column("from_office_id", sa.Integer(), nullable=False),
        sa.Column("to_office_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("from_office_id <> to_office_id", name=op.f("ck_travel_time_distinct")),
        sa.CheckConstraint("minutes >= 0", name=op.f("ck_travel_time_minutes")),
        sa.ForeignKeyConstraint(
            ["from_office_id"], ["office.id"], name=op.f("fk_travel_time_from_office_id_office"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["to_office_id"], ["office.id"], name=op.f("fk_travel_time_to_office_id_office"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("from_office_id", "to_office_id", name=op.f("pk_travel_time")),
    )
    op.create_table(
        "life_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("description", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("max_days", sa.SmallInteger(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.CheckConstraint("max_days BETWEEN 1 AND 14", name=op.f("ck_life_event_max_days")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_event")),
        sa.UniqueConstraint("slug", name=op.f("uq_life_event_slug")),
    )
    op.create_table(
        "itinerary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("life_event", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("created_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_itinerary")),
        sa.UniqueConstraint("code", name=op.f("uq_itinerary_code")),
    )
    op.create_table(
        "itinerary_part",
        sa.Column("itinerary_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_itinerary_part_booking_id_booking"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["itinerary_id"],
            ["itinerary.id"],
            name=op.f("fk_itinerary_part_itinerary_id_itinerary"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("itinerary_id", "position", name=op.f("pk_itinerary_part")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_itinerary_part_booking_id")),
    )


def downgrade() -> None:
    op.drop_table("itinerary_part")
    op.drop_table("itinerary")
    op.drop_table("life_event")
    op.drop_table("travel_time")
