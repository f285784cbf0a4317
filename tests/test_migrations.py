"""Migrations build the schema from nothing on SQLite and PostgreSQL, and match the models exactly."""

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
