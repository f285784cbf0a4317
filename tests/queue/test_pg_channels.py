"""On PostgreSQL the queue's change messages go out as NOTIFYs on one kept connection, made anew after a failure
(Litestar's own backend opens and closes a connection for every message)."""

import asyncio

import asyncpg
import pytest

from rathaus.queue.pg_channels import KeptConnectionChannelsBackend

pytestmark = pytest.mark.anyio


async def test_notifies_share_one_connection_and_a_broken_one_is_made_anew(pg_database: str) -> None:
    dsn = pg_database.replace("postgresql+asyncpg://", "postgresql://", 1)
    backend = KeptConnectionChannelsBackend(dsn)
    await backend.on_startup()
    made: list[asyncpg.Connection] = []
    connect = backend._connect

    async def counted() -> asyncpg.Connection:
        made.append(await connect())
        return made[-1]

    backend._connect = counted
    try:
        await backend.subscribe(["rathaus_test"])
        events = backend.stream_events()
        for payload in (b"1", b"2"):
            await backend.publish(payload, ["rathaus_test"])
        assert len(made) == 1

        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", made[0].get_server_pid())
        finally:
            await admin.close()
        await backend.publish(b"perhaps lost", ["rathaus_test"])  # on the broken connection: logged, dropped
        await backend.publish(b"3", ["rathaus_test"])

        assert len(made) == 2
        received: list[bytes] = []
        while not received or received[-1] != b"3":
            received.append((await asyncio.wait_for(anext(events), timeout=5))[1])
        assert [payload for payload in received if payload != b"perhaps lost"] == [b"1", b"2", b"3"]
    finally:
        await backend.on_shutdown()
