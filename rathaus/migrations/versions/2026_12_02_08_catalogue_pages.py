"""catalogue pages: search keywords per service, an office's facilities

Columns are only added (nullable or with a default), so neither database rebuilds a table.

Revision ID: 20261202_08
Revises: 20261202_07
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_08"
down_revision: str | Sequence[str] | None = "20261202_07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACILITIES = ("step_free", "parking", "bicycle_stands", "quiet_room")


def upgrade() -> None:
    op.add_column("service", sa.Column("keywords", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    for name in FACILITIES:
        op.add_column("office", sa.Column(name, sa.Boolean(), nullable=True))
    op.add_column("office", sa.Column("facilities_note", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    op.drop_column("office", "facilities_note")
    for name in FACILITIES:
        op.drop_column("office", name)
    op.drop_column("service", "keywords")
