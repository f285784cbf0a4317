"""calendars: staff agenda feeds, and whether they show citizens' names

Revision ID: 20261124_04
Revises: 20261124_01
Create Date: 2026-11-24 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rathaus.db

revision: str = "20261124_04"
down_revision: str | Sequence[str] | None = "20261124_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("office") as batch:
        batch.add_column(sa.Column("agenda_shows_names", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "agenda_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("created_at", rathaus.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", rathaus.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_agenda_feed_office_id_office"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_user.id"], name=op.f("fk_agenda_feed_user_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agenda_feed_token_hash")),
    )
    with op.batch_alter_table("agenda_feed") as batch:
        batch.create_index(batch.f("ix_agenda_feed_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agenda_feed") as batch:
        batch.drop_index(batch.f("ix_agenda_feed_user_id"))
    op.drop_table("agenda_feed")
    with op.batch_alter_table("office") as batch:
        batch.drop_column("agenda_shows_names")
