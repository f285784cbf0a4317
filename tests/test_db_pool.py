"""The PostgreSQL pool checks a connection before handing it out: one the server has closed is replaced."""

import pytest
from sqlalchemy import text

from rathaus.db import create_engine

pytestmark = pytest.mark.anyio


async def test_a_pooled_connection_the_server_closed_is_replaced(pg_database: str) -> None:
    engine, admin = create_engine(pg_database, pool_size=1), create_engine(pg_database, pool_size=0)
    try:
        async with engine.connect() as connection:
            first = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with admin.connect() as connection:
            assert await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})

        async with engine.connect() as connection:
            second = await connection.scalar(text("SELECT pg_backend_pid()"))

        assert second is not None and second != first
    finally:
        await engine.dispose()
        await admin.dispose()
