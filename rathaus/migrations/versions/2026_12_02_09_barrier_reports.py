"""barrier reports: what citizens tell us through the accessibility statement's form

A new table only, so neither database rebuilds one.

Revision ID: 20261202_09
Revises: 20261202_08
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261202_09"
down_revision: str | Sequence[str] | None = "20261202_08"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "barrier_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("page", sa.String(length=2000), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, server_default="new"),
        sa.CheckConstraint("status IN ('new', 'answered', 'closed')", name=op.f("ck_barrier_report_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barrier_report")),
    )
    op.create_index(op.f("ix_barrier_report_created_at"), "barrier_report", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_barrier_report_created_at"), table_name="barrier_report")
    op.drop_table("barrier_report")
