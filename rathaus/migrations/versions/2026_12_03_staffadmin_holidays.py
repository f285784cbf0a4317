"""office holiday calendar: which public holidays a configuration file asked for (country, subdivision, public)

Kept so that an office's configuration can be exported and applied again without losing its holiday closures.
A new nullable column only, so neither database rebuilds a table.

Revision ID: 20261203_staffadmin
Revises: 20261203_staffdesk
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_staffadmin"
down_revision: str | Sequence[str] | None = "20261203_staffdesk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("office", sa.Column("holiday_calendar", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("office") as batch:
        batch.drop_column("holiday_calendar")
