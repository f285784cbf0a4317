"""appointment modes: on site, by phone or by video, per service and counter; a booking's mode, number and link

Columns added in place; the booking's check on its mode comes with a batch rebuild on SQLite only.

Revision ID: 20261203_modes
Revises: 20261203_calops
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_modes"
down_revision: str | Sequence[str] | None = "20261203_calops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ON_SITE_ONLY = sa.text("'[\"on_site\"]'")


def upgrade() -> None:
    op.add_column("service", sa.Column("modes", sa.JSON(), server_default=_ON_SITE_ONLY, nullable=False))
    op.add_column("counter", sa.Column("modes", sa.JSON(), server_default=_ON_SITE_ONLY, nullable=False))
    with op.batch_alter_table("booking") as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(length=8), server_default="on_site", nullable=False))
        batch_op.add_column(sa.Column("call_number", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("meeting_url", sa.String(length=500), nullable=True))
        batch_op.create_check_constraint(op.f("ck_booking_mode"), "mode IN ('on_site', 'phone', 'video')")


def downgrade() -> None:
    with op.batch_alter_table("booking") as batch_op:
        batch_op.drop_constraint(op.f("ck_booking_mode"), type_="check")
        batch_op.drop_column("meeting_url")
        batch_op.drop_column("call_number")
        batch_op.drop_column("mode")
    with op.batch_alter_table("counter") as batch_op:
        batch_op.drop_column("modes")
    with op.batch_alter_table("service") as batch_op:
        batch_op.drop_column("modes")
