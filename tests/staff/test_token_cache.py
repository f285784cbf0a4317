"""Staff bearer tokens are checked in the database once per RATHAUS_STAFF_TOKEN_CACHE_SECONDS per instance: a
sign-out or a disabled account is refused at once on the instance that made the change, and on another instance
(a second app on the same database) as soon as that time has passed on the injected clock, never later."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.runtime import Runtime
from rathaus.staff import accounts
from rathaus.staff.models import StaffUser
from rathaus.staff.service import staff_of
from tests.conftest import Harness, open_harness
from tests.factories import make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
TTL = 5.0
PAST_TTL = timedelta(seconds=TTL, milliseconds=1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def me(harness: Harness, token: str) -> int:
    return (await harness.client.get("/api/v1/auth/me", headers=bearer(token))).status_code


async def disable(runtime: Runtime, *, admin: str, user: str, now: datetime) -> None:
    """Disable `user` as the admin does on the staff pages (the same service function, on that instance)."""

    async def work(session: AsyncSession) -> None:
        ids = dict((await session.execute(select(StaffUser.username, StaffUser.id))).tuples().all())
        actor = await staff_of(session, ids[admin])
        assert actor is not None
        await accounts.set_active(session, actor=actor, user_id=ids[user], active=False, now=now)

    await run_unit(runtime, work)


async def test_a_known_token_costs_no_statement_until_the_cache_time_has_passed(
    db_url: str, clock: ManualClock
) -> None:
    async with open_harness(db_url, clock, staff_token_cache_seconds=TTL) as harness:
        await harness.load(make_config())
        token = await staff_token(harness, "clerk")
        assert await me(harness, token) == 200
        statements: list[str] = []
        engine = harness.app.state.runtime.read_engine.sync_engine

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert await me(harness, token) == 200
            assert statements == []
            clock.advance(PAST_TTL)
            assert await me(harness, token) == 200
            assert any("staff_token" in s for s in statements)  # checked again once the time was up
        finally:
            event.remove(engine, "before_cursor_execute", count)


async def test_a_sign_out_is_refused_at_once_here_and_within_the_cache_time_on_another_instance(
    db_url: str, clock: ManualClock
) -> None:
    async with (
        open_harness(db_url, clock, staff_token_cache_seconds=TTL) as one,
        open_harness(db_url, clock, staff_token_cache_seconds=TTL) as two,
    ):
        await one.load(make_config())
        token = await staff_token(one, "clerk")
        assert await me(one, token) == 200
        assert await me(two, token) == 200  # both instances know the token now

        clock.advance(timedelta(seconds=1))
        out = await one.client.post("/api/v1/auth/logout", headers=bearer(token))
        assert out.status_code == 204
        assert await me(one, token) == 401  # at once where the sign-out happened

        # The other instance learns it from the database only: it may accept the token for the rest of its
        # cache time (it does: it checked one second ago), and refuses it once that time is over.
        assert await me(two, token) == 200
        clock.advance(PAST_TTL - timedelta(seconds=1))
        assert await me(two, token) == 401


async def test_a_disabled_account_is_refused_at_once_here_and_within_the_cache_time_elsewhere(
    db_url: str, clock: ManualClock
) -> None:
    async with (
        open_harness(db_url, clock, staff_token_cache_seconds=TTL) as one,
        open_harness(db_url, clock, staff_token_cache_seconds=TTL) as two,
    ):
        await one.load(make_config())
        await staff_token(one, "boss", role="admin")
        token = await staff_token(one, "clerk", role="desk")
        assert await me(one, token) == 200
        assert await me(two, token) == 200

        await disable(one.runtime, admin="boss", user="clerk", now=clock.now())
        assert await me(one, token) == 401
        clock.advance(PAST_TTL)
        assert await me(two, token) == 401


async def test_without_a_cache_time_every_request_asks_the_database(db_url: str, clock: ManualClock) -> None:
    async with (
        open_harness(db_url, clock, staff_token_cache_seconds=0) as one,
        open_harness(db_url, clock, staff_token_cache_seconds=0) as two,
    ):
        await one.load(make_config())
        token = await staff_token(one, "clerk")
        assert await me(two, token) == 200
        assert (await one.client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
        assert await me(two, token) == 401


async def test_a_token_is_not_trusted_past_its_expiry(db_url: str, clock: ManualClock) -> None:
    async with open_harness(db_url, clock, staff_token_cache_seconds=3600, staff_token_hours=1) as harness:
        await harness.load(make_config())
        token = await staff_token(harness, "clerk")
        assert await me(harness, token) == 200
        clock.advance(timedelta(hours=1))
        assert await me(harness, token) == 401
