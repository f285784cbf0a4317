"""waiting list: wishes, releases, lottery draws, offers and the offices' choice of order

New tables only, so neither database rebuilds one.

Revision ID: 20261203_waitlist
Revises: 20261203_ratings
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261203_waitlist"
down_revision: str | Sequence[str] | None = "20261203_ratings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waitlist_policy",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("ordering", sa.String(length=8), nullable=False),
        sa.CheckConstraint("ordering IN ('fifo', 'lottery')", name=op.f("ck_waitlist_policy_ordering")),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_waitlist_policy_office_id_office"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("office_id", name=op.f("pk_waitlist_policy")),
    )
    op.create_table(
        "wish_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("start_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ordering", sa.String(length=8), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("ordering = 'fifo' OR seed IS NOT NULL", name=op.f("ck_wish_release_seed")),
        sa.CheckConstraint("ordering IN ('fifo', 'lottery')", name=op.f("ck_wish_release_ordering")),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], name=op.f("fk_wish_release_office_id_office")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wish_release")),
    )
    op.create_index(op.f("ix_wish_release_office_id"), "wish_release", ["office_id"], unique=False)
    op.create_table(
        "wish",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("verification_code_hash", sa.String(length=64), nullable=True),
        sa.Column("verification_attempts", sa.SmallInteger(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("created_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_wish_channel")),
        sa.CheckConstraint(
            "status IN ('unverified', 'active', 'fulfilled', 'withdrawn', 'expired')", name=op.f("ck_wish_status")
        ),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_wish_days")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_wish_booking_id_booking"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wish")),
        sa.UniqueConstraint("code", name=op.f("uq_wish_code")),
    )
    op.create_index(op.f("ix_wish_email"), "wish", ["email"], unique=False)
    op.create_index(op.f("ix_wish_phone"), "wish", ["phone"], unique=False)
    op.create_index("ix_wish_status_created", "wish", ["status", "created_at"], unique=False)
    op.create_table(
        "wish_draw",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["wish_release.id"], name=op.f("fk_wish_draw_release_id_wish_release"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["wish_id"], ["wish.id"], name=op.f("fk_wish_draw_wish_id_wish"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("release_id", "wish_id", name=op.f("pk_wish_draw")),
    )
    op.create_index("uq_wish_draw_release_rank", "wish_draw", ["release_id", "rank"], unique=True)
    op.create_table(
        "wish_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("start_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", rathaus.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'declined', 'expired', 'cancelled')", name=op.f("ck_wish_offer_status")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_wish_offer_booking_id_booking"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], name=op.f("fk_wish_offer_office_id_office")),
        sa.ForeignKeyConstraint(
            ["release_id"], ["wish_release.id"], name=op.f("fk_wish_offer_release_id_wish_release"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["wish_id"], ["wish.id"], name=op.f("fk_wish_offer_wish_id_wish"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wish_offer")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_wish_offer_booking_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_wish_offer_token_hash")),
    )
    op.create_index("ix_wish_offer_office_start", "wish_offer", ["office_id", "start_at"], unique=False)
    op.create_index(op.f("ix_wish_offer_release_id"), "wish_offer", ["release_id"], unique=False)
    op.create_index("ix_wish_offer_status_expires", "wish_offer", ["status", "expires_at"], unique=False)
    op.create_index(op.f("ix_wish_offer_wish_id"), "wish_offer", ["wish_id"], unique=False)
    op.create_index(
        "uq_wish_offer_open_wish",
        "wish_offer",
        ["wish_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "wish_office",
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], name=op.f("fk_wish_office_office_id_office")),
        sa.ForeignKeyConstraint(["wish_id"], ["wish.id"], name=op.f("fk_wish_office_wish_id_wish"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("wish_id", "office_id", name=op.f("pk_wish_office")),
    )
    op.create_index(op.f("ix_wish_office_office_id"), "wish_office", ["office_id"], unique=False)
    op.create_table(
        "wish_service",
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_wish_service_service_id_service")),
        sa.ForeignKeyConstraint(
            ["wish_id"], ["wish.id"], name=op.f("fk_wish_service_wish_id_wish"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("wish_id", "service_id", name=op.f("pk_wish_service")),
    )
    op.create_table(
        "wish_window",
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("from_minute", sa.SmallInteger(), nullable=False),
        sa.Column("to_minute", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "from_minute < to_minute AND from_minute >= 0 AND to_minute <= 1440", name=op.f("ck_wish_window_minutes")
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_wish_window_weekday")),
        sa.ForeignKeyConstraint(["wish_id"], ["wish.id"], name=op.f("fk_wish_window_wish_id_wish"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("wish_id", "weekday", "from_minute", name=op.f("pk_wish_window")),
    )
    op.create_table(
        "wish_offer_lock",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["wish_offer.id"], name=op.f("fk_wish_offer_lock_offer_id_wish_offer"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wish_offer_lock")),
    )
    op.create_index(op.f("ix_wish_offer_lock_offer_id"), "wish_offer_lock", ["offer_id"], unique=False)


def downgrade() -> None:
    for table in (
        "wish_offer_lock",
        "wish_window",
        "wish_service",
        "wish_office",
        "wish_offer",
        "wish_draw",
        "wish",
        "wish_release",
        "waitlist_policy",
    ):
        op.drop_table(table)
