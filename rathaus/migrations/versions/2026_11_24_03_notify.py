"""notify: reminder policy per office, message history, SMS opt-outs

Revision ID: 20261124_03
Revises: 20261124_01
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261124_03"
down_revision: str | Sequence[str] | None = "20261124_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notify_policy",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("reminder_offsets", sa.String(length=100), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=False),
        sa.Column("quiet_end", sa.String(length=5), nullable=False),
        sa.Column("turn_near_ahead", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_notify_policy_office_id_office"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("office_id", name=op.f("pk_notify_policy")),
    )
    op.create_table(
        "notify_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_status", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_notify_event_outbox_id_outbox"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_event")),
    )
    op.create_index(op.f("ix_notify_event_outbox_id"), "notify_event", ["outbox_id"], unique=False)
    op.create_table(
        "sms_opt_out",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("created_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_opt_out")),
    )


def downgrade() -> None:
    op.drop_table("sms_opt_out")
    op.drop_index(op.f("ix_notify_event_outbox_id"), table_name="notify_event")
    op.drop_table("notify_event")
    op.drop_table("notify_policy")
