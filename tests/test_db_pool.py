"""The PostgreSQL pool checks a connection before handing it out, with the BEGIN of the transaction it is taken
for: one the server has closed is replaced, and a transaction costs no round trip beyond its statements and the
BEGIN and COMMIT."""

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event, text

from rathaus.clock import ManualClock
from rathaus.db import create_engine, create_session_maker
from rathaus.staff.pages_auth import STAFF_COOKIE
from tests.conftest import LiveServer, open_harness
from tests.factories import make_config
from tests.staff_helpers import add_staff, sign_in_page

pytestmark = pytest.mark.anyio


@contextmanager
def simple_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The simple-protocol queries asyncpg sends (BEGIN, COMMIT, ROLLBACK, a ping): each a round trip."""
    sent: list[str] = []
    for name in ("execute", "fetchrow"):
        original: Callable[..., Awaitable[Any]] = getattr(asyncpg.Connection, name)

        async def recorded(self: asyncpg.Connection, query: str, *args: Any, _sent: Any = original) -> Any:
            sent.append(query)
            return await _sent(self, query, *args)

        monkeypatch.setattr(asyncpg.Connection, name, recorded)
    yield sent
    monkeypatch.undo()


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


async def test_a_transaction_sends_only_begin_its_statements_and_commit(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(pg_database, pool_size=1)
    sessions = create_session_maker(engine)
    try:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))  # the pool's first connection, made before counting
        with simple_queries(monkeypatch) as sent:
            async with sessions() as session, session.begin():
                first = await session.scalar(text("SELECT pg_current_xact_id()::text"))
                second = await session.scalar(text("SELECT pg_current_xact_id()::text"))
        assert [query.rstrip(";").split()[0].upper() for query in sent] == ["BEGIN", "COMMIT"]
        assert first == second  # both statements ran in the transaction begun at checkout
    finally:
        await engine.dispose()


async def test_a_checked_out_connection_can_still_run_outside_a_transaction(pg_database: str) -> None:
    engine = create_engine(pg_database, pool_size=1)
    try:
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM pg_class")  # refused inside a transaction block
            assert await autocommit.scalar(text("SELECT 1")) == 1
        async with engine.begin() as connection:
            assert await connection.scalar(text("SELECT 2")) == 2
    finally:
        await engine.dispose()


async def test_requests_beyond_the_pool_wait_for_its_connections_instead_of_opening_and_closing_more(
    pg_database: str,
) -> None:
    engine = create_engine(pg_database, pool_size=3)
    sessions = create_session_maker(engine)
    opened: list[int] = []
    event.listen(engine.sync_engine, "connect", lambda *_: opened.append(1))

    async def work(n: int) -> int:
        async with sessions() as session, session.begin():
            await session.execute(text("SELECT 1"))
            return int(await session.scalar(text("SELECT CAST(:n AS integer)"), {"n": n}))

    try:
        for _ in range(2):  # a burst, and the next one on the kept connections
            assert await asyncio.gather(*(work(n) for n in range(20))) == list(range(20))
        # A connection opened beyond the pool would be closed again once it was handed back to a full pool: every
        # burst would start PostgreSQL server processes anew (a fork, and every statement prepared again).
        assert len(opened) == 3
        assert engine.sync_engine.pool.checkedin() == 3
    finally:
        await engine.dispose()


async def test_a_request_that_finds_every_connection_taken_for_too_long_is_answered_busy_in_its_language(
    pg_database: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    server = live_server_factory(pg_database, clock, db_pool_size=1, db_pool_timeout_seconds=0.5)
    async with open_harness(pg_database, clock) as harness:  # a clerk signed in before the rush
        await harness.load(make_config())
        await add_staff(harness, "clerk")
        await sign_in_page(harness, "clerk")
        clerk = harness.client.cookies[STAFF_COOKIE]
    dsn = pg_database.replace("postgresql+asyncpg://", "postgresql://", 1)
    locker = await asyncpg.connect(dsn)
    lookup = ("/api/v1/bookings/ABCD2345", {"Authorization": "Bearer not-a-token"})
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            async with locker.transaction():
                await locker.execute("LOCK TABLE booking IN ACCESS EXCLUSIVE MODE")
                # A lookup that holds the pool's only connection while it waits for the lock.
                held = asyncio.create_task(client.get(lookup[0], headers=lookup[1]))
                await until_the_lookup_waits_for_the_lock(locker)

                api = await client.get(lookup[0], headers={**lookup[1], "Accept-Language": "en"})
                page = await client.get("/bookings/ABCD2345?token=x", headers={"Accept-Language": "de"})
                client.cookies.set(STAFF_COOKIE, clerk)
                desk = await client.get("/staff/amt/desk", headers={"Accept-Language": "en"})

            assert (api.status_code, api.headers["Retry-After"], api.json()["code"]) == (503, "60", "busy")
            assert api.json()["detail"] == "Too many requests at once right now. Please try again in a minute."
            assert page.status_code == 503 and page.headers["Retry-After"] == "60"
            assert "Gerade zu viel Andrang" in page.text and "Es wurde nichts geändert" in page.text
            assert desk.status_code == 503 and "Too busy right now" in desk.text  # a staff page too, not sign-in
            # The lock gone, the held request and the next ones are answered as usual.
            assert (await held).status_code == 404
            assert (await client.get(lookup[0], headers=lookup[1])).status_code == 404
    finally:
        await locker.close()


async def until_the_lookup_waits_for_the_lock(locker: asyncpg.Connection) -> None:
    waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'booking'::regclass"
    for _ in range(3000):
        if await locker.fetchval(waiting):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the lookup never waited for the lock")
