"""merge the notification and calendar branches

Revision ID: 20261124_05
Revises: 20261124_03, 20261124_04
Create Date: 2026-11-24 06:30:00
"""

from collections.abc import Sequence

revision: str = "20261124_05"
down_revision: str | Sequence[str] | None = ("20261124_03", "20261124_04")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the two branches into one head."""


def downgrade() -> None:
    """Nothing to change."""
