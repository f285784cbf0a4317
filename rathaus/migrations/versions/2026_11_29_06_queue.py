"""queue: tickets, their events and number sequences; the check-in grace period of offices

Revision ID: 20261129_06
Revises: 20261124_05
Create Date: 2026-11-29 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261129_06"
down_revision: str | Sequence[str] | None = "20261124_05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("office") as batch:
        batch.add_column(
            sa.Column("check_in_grace_minutes", sa.SmallInteger(), nullable=False, server_default=sa.text("10"))
        )
    op.create_table(
        "ticket_sequence",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_ticket_sequence_office_id_office"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("office_id", "day", "prefix", name=op.f("pk_ticket_sequence")),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("due_at", rathaus.db.UTCDateTime(), nullable=True),
        sa.Column("arrived_at", rathaus.db.UTCDateTime(), nullable=False),
        sa.Column("queued_at", rathaus.db.UTCDateTime(), nullable=False),
        sa.Column("target_counter_id", sa.Integer(), nullable=True),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("called_at", rathaus.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", rathaus.db.UTCDateTime(), nullable=True),
        sa.Column("recalls", sa.SmallInteger(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("turn_near_sent", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint("kind IN ('appointment', 'walk_in')", name=op.f("ck_ticket_kind")),
        sa.CheckConstraint("lane IN ('transfer', 'appointment', 'walk_in')", name=op.f("ck_ticket_lane")),
        sa.CheckConstraint(
            "status IN ('waiting', 'called', 'completed', 'no_show', 'closed')", name=op.f("ck_ticket_status")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_ticket_booking_id_booking"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counter.id"], name=op.f("fk_ticket_counter_id_counter"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_ticket_office_id_office"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["target_counter_id"], ["counter.id"], name=op.f("fk_ticket_target_counter_id_counter"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_ticket_booking_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_ticket_public_id")),
    )
    op.create_index("ix_ticket_office_day_status", "ticket", ["office_id", "day", "status"], unique=False)
    op.create_index("uq_ticket_number", "ticket", ["office_id", "day", "prefix", "number"], unique=True)
    op.create_index(
        "uq_ticket_counter_called",
        "ticket",
        ["counter_id"],
        unique=True,
        sqlite_where=sa.text("status = 'called'"),
        postgresql_where=sa.text("status = 'called'"),
    )
    op.create_table(
        "ticket_service",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_ticket_service_service_id_service")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_service_ticket_id_ticket"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ticket_id", "service_id", name=op.f("pk_ticket_service")),
    )
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", rathaus.db.UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counter.id"], name=op.f("fk_ticket_event_counter_id_counter"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_event_ticket_id_ticket"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_event")),
    )
    op.create_index(op.f("ix_ticket_event_ticket_id"), "ticket_event", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_table("ticket_event")
    op.drop_table("ticket_service")
    op.drop_table("ticket")
    op.drop_table("ticket_sequence")
    with op.batch_alter_table("office") as batch:
        batch.drop_column("check_in_grace_minutes")
