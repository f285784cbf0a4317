"""staff sign-in: browser sessions and the record of sign-in attempts

New tables only, so neither database rebuilds one.

Revision ID: 20261203_staffdesk
Revises: 20261202_09
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261203_staffdesk"
down_revision: str | Sequence[str] | None = "20261202_09"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_staff_session_user_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_staff_session_id_hash")),
    )
    op.create_index(op.f("ix_staff_session_user_id"), "staff_session", ["user_id"])
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.CheckConstraint("outcome IN ('success', 'failure', 'refused')", name=op.f("ck_sign_in_attempt_outcome")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_sign_in_attempt_user_id_staff_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempt")),
    )
    op.create_index("ix_sign_in_attempt_account_at", "sign_in_attempt", ["account_key", "at"])
    op.create_index("ix_sign_in_attempt_client_at", "sign_in_attempt", ["client_key", "at"])
    op.create_index(op.f("ix_sign_in_attempt_user_id"), "sign_in_attempt", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_attempt_user_id"), table_name="sign_in_attempt")
    op.drop_index("ix_sign_in_attempt_client_at", table_name="sign_in_attempt")
    op.drop_index("ix_sign_in_attempt_account_at", table_name="sign_in_attempt")
    op.drop_table("sign_in_attempt")
    op.drop_index(op.f("ix_staff_session_user_id"), table_name="staff_session")
    op.drop_table("staff_session")
