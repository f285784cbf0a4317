"""catalogue texts per language: one JSON object per field instead of a _de/_en column pair

A further language then needs a translation in the configuration file, not a migration.

Revision ID: 20261202_07
Revises: 20261129_06
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_07"
down_revision: str | Sequence[str] | None = "20261129_06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, field): the field's texts were in <field>_de and <field>_en.
FIELDS = (
    ("office", "name"),
    ("service", "name"),
    ("service", "bring"),
    ("bundle", "name"),
    ("bundle", "description"),
    ("special_hours", "note"),
    ("closure", "reason"),
)


def _json_object(dialect: str, field: str) -> str:
    function = "json_build_object" if dialect == "postgresql" else "json_object"
    return f"{function}('de', {field}_de, 'en', {field}_en)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, field in FIELDS:
        # Added with a default so that NOT NULL holds at once; SQLite cannot add that constraint later
        # without rebuilding the table, which would cascade deletes along its foreign keys.
        op.add_column(table, sa.Column(field, sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        op.execute(f"UPDATE {table} SET {field} = {_json_object(dialect, field)}")  # noqa: S608
        op.drop_column(table, f"{field}_de")
        op.drop_column(table, f"{field}_en")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, field in FIELDS:
        for language in ("de", "en"):
            op.add_column(table, sa.Column(f"{field}_{language}", sa.Text(), nullable=False, server_default=""))
            read = f"{field} ->> '{language}'" if dialect == "postgresql" else f"json_extract({field}, '$.{language}')"
            op.execute(f"UPDATE {table} SET {field}_{language} = COALESCE({read}, '')")  # noqa: S608
        op.drop_column(table, field)
