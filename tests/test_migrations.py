"""Migrations build the schema from nothing on SQLite and PostgreSQL, and match the models exactly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from rathaus import migrate
from rathaus.db import create_engine
from rathaus.models import Base

pytestmark = pytest.mark.anyio


async def test_migrations_create_every_table_and_match_the_models(db_url: str) -> None:
    # db_url was migrated from an empty database by the fixtures (SQLite template / fresh PostgreSQL database).
    engine = create_engine(db_url, pool_size=0 if db_url.startswith("postgresql") else 1)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= tables
        assert await migrate.pending_differences(engine) == []
        await migrate.upgrade(engine)  # applying again is a no-op
    finally:
        await engine.dispose()


def test_db_commands_upgrade_and_check(tmp_path: Path) -> None:
    env = {**os.environ, "RATHAUS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"}
    env |= {"RATHAUS_ENVIRONMENT": "test", "RATHAUS_SECRET_KEY": "k" * 40}
    rathaus = str(Path(sys.executable).parent / "rathaus")
    upgraded = subprocess.run([rathaus, "db", "upgrade"], env=env, capture_output=True, text=True, check=False)
    assert upgraded.returncode == 0 and "up to date" in upgraded.stdout, upgraded.stderr
    checked = subprocess.run([rathaus, "db", "check"], env=env, capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and "agree" in checked.stdout, checked.stdout + checked.stderr
