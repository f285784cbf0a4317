"""fairness: spent proofs of work and the request counts that instances share for their rate limits

New tables only, so neither database rebuilds one.

Revision ID: 20261203_fairness
Revises: 20261203_releases
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261203_fairness"
down_revision: str | Sequence[str] | None = "20261203_releases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spent_proof",
        sa.Column("proof", sa.String(length=64), nullable=False),
        sa.Column("expires_at", rathaus.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("proof", name=op.f("pk_spent_proof")),
    )
    op.create_index(op.f("ix_spent_proof_expires_at"), "spent_proof", ["expires_at"])
    op.create_table(
        "request_count",
        sa.Column("instance", sa.String(length=32), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("instance", "window", "kind", "client", name=op.f("pk_request_count")),
    )
    op.create_index(op.f("ix_request_count_window"), "request_count", ["window"])


def downgrade() -> None:
    op.drop_index(op.f("ix_request_count_window"), table_name="request_count")
    op.drop_table("request_count")
    op.drop_index(op.f("ix_spent_proof_expires_at"), table_name="spent_proof")
    op.drop_table("spent_proof")
