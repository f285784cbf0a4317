"""office holidays: which public holidays an office observes, so that a job can load each new year's

Nullable columns added in place (no table rebuild on either database).

Revision ID: 20261203_calops
Revises: 20261203_staffdesk
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_calops"
down_revision: str | Sequence[str] | None = "20261203_staffdesk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("office", sa.Column("holidays_country", sa.String(length=2), nullable=True))
    op.add_column("office", sa.Column("holidays_subdivision", sa.String(length=16), nullable=True))
    op.add_column("office", sa.Column("holidays_public", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("office") as batch_op:
        batch_op.drop_column("holidays_public")
        batch_op.drop_column("holidays_subdivision")
        batch_op.drop_column("holidays_country")
