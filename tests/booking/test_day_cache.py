"""The cached claims of a day follow this instance's bookings cell by cell: no reread, no recomputation storm.

Reads of claims are counted (`AvailabilityCache.reads`), never timed.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from rathaus.booking import service
from rathaus.booking._day_claims import note_claimed, note_freed, take_changes
from rathaus.booking.deps import booking_context
from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.db import create_session_maker
from rathaus.jobs import run_unit
from rathaus.offices.catalog import Catalog
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio
DAY = "2027-01-11"
NINE = f"{DAY}T09:00:00+01:00"
URL = f"/api/v1/offices/amt/availability?services=a&date={DAY}"


def cache_of(harness: Harness) -> service.AvailabilityCache:
    return harness.runtime.get(service.AvailabilityCache)


async def starts(client: httpx.AsyncClient) -> list[str]:
    answer = await client.get(URL)
    assert answer.status_code == 200, answer.text
    return [slot["start"] for slot in answer.json()["slots"]]


async def book(harness: Harness, start: str, email: str = "erika@example.org") -> dict[str, Any]:
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(start, email=email))
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def truth(harness: Harness) -> list[str]:
    """The day's free starts computed from the database, past every cache."""
    snapshot = await harness.runtime.get(Catalog).current(now=harness.clock.now())
    office, services = snapshot.offices["amt"], [snapshot.services["a"]]
    async with harness.session() as session:
        found = await service.uncached_day_slots(
            session, office=office, services=services, day=datetime.fromisoformat(DAY).date(), now=harness.clock.now()
        )
    return [slot.start.isoformat() for slot in found.slots]


async def test_a_booking_leaves_the_cached_day_at_once_and_a_cancellation_returns_it(harness: Harness) -> None:
    await harness.load(make_config())
    assert NINE in await starts(harness.client)
    reads = cache_of(harness).reads

    booked = await book(harness, NINE)
    assert NINE not in await starts(harness.client)
    headers = {"Authorization": f"Bearer {booked['manage_token']}"}
    cancelled = await harness.client.post(f"/api/v1/bookings/{booked['code']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    assert NINE in await starts(harness.client)

    assert cache_of(harness).reads == reads  # both moved the cached day; neither read it again
    assert await starts(harness.client) == await truth(harness)


async def test_a_freed_slot_that_is_held_again_stays_hidden(harness: Harness) -> None:
    await harness.load(make_config())
    booked = await book(harness, NINE)
    assert NINE not in await starts(harness.client)
    reads = cache_of(harness).reads
    ctx, now = booking_context(harness.runtime), harness.clock.now()
    holder = service.Holder(name="Max Mustermann", email="max@example.org", phone=None, language="de")

    async def cancel_and_hold(session: Any) -> service.Hold:
        # As a waiting list does: the freed slot goes to someone else in the same transaction.
        booking = (await session.scalars(select(Booking).where(Booking.code == booked["code"]))).one()
        await service.cancel_booking(session, ctx=ctx, booking=booking, reason="office", actor="staff", now=now)
        snapshot = await harness.runtime.get(Catalog).current(now=now)
        return await service.hold(
            session,
            ctx=ctx,
            office_id=snapshot.offices["amt"].id,
            service_ids=[snapshot.services["a"].id],
            start=booking.start_at,
            holder=holder,
            actor="test",
            now=now,
        )

    held = await run_unit(harness.runtime, cancel_and_hold)
    assert NINE not in await starts(harness.client)

    await run_unit(
        harness.runtime,
        lambda s: service.release_hold(s, ctx=ctx, booking_id=held.booking_id, action="test", actor="test", now=now),
    )
    assert NINE in await starts(harness.client)
    assert cache_of(harness).reads == reads
    assert await starts(harness.client) == await truth(harness)


async def test_readers_during_a_burst_of_bookings_never_read_the_day_again(harness: Harness) -> None:
    await harness.load(make_config())
    first = await starts(harness.client)
    reads = cache_of(harness).reads

    async def read_many() -> None:
        for _ in range(10):
            await starts(harness.client)

    burst = [book(harness, start, email=f"b{i}@example.org") for i, start in enumerate(first[:8])]
    await asyncio.gather(*burst, *(read_many() for _ in range(4)))

    assert cache_of(harness).reads == reads  # no recomputation at all, let alone one per reader
    assert await starts(harness.client) == await truth(harness) == first[8:]


async def test_readers_of_an_old_day_wait_for_one_read_without_holding_a_connection(
    harness: Harness, db_url: str
) -> None:
    await harness.load(make_config())
    runtime, clock = harness.runtime, harness.clock
    catalog, cache = runtime.get(Catalog), cache_of(harness)
    # One connection for all readers: a reader that waited while holding it would starve the one reading.
    engine = create_async_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=30)
    sessions = create_session_maker(engine, read_only=True)

    async def read() -> list[str]:
        found = await service.availability(
            sessions,
            catalog=catalog,
            cache=cache,
            office_slug="amt",
            service_slugs=["a"],
            day=clock.now().date() + timedelta(days=7),
            now=clock.now(),
        )
        return [s.start.isoformat() for s in found.bookable]

    try:
        first = await read()
        clock.advance(timedelta(seconds=catalog.ttl + 1))
        reads = cache.reads
        answers = await asyncio.gather(*(read() for _ in range(20)))
    finally:
        await engine.dispose()
    assert all(answer == first for answer in answers)
    assert cache.reads == reads + 1


async def test_a_fresh_instance_has_read_its_days_before_the_first_request(db_url: str, clock: ManualClock) -> None:
    async with open_harness(db_url, clock) as first:
        await first.load(make_config())
    async with open_harness(db_url, clock) as fresh:
        reads = cache_of(fresh).reads
        assert reads == 1  # one statement for the office's whole booking window, at start
        assert NINE in await starts(fresh.client)
        later = f"/api/v1/offices/amt/availability?services=b&date={(clock.now() + timedelta(days=40)).date()}"
        assert (await fresh.client.get(later)).status_code == 200
        assert cache_of(fresh).reads == reads


async def test_the_warm_up_dates_each_office_from_its_own_read(harness: Harness) -> None:
    # A warm-up that takes longer than the cache's setting (a big installation): days dated from its start would
    # all be stale by the time the server takes requests.
    await harness.load(make_config())
    sessions = harness.runtime.read_session_maker
    catalog = Catalog(ttl=harness.runtime.settings.availability_cache_seconds, sessions=sessions)
    cache = service.AvailabilityCache(catalog, sessions)
    began, step = harness.clock.now(), timedelta(seconds=catalog.ttl * 0.6)
    asked: list[datetime] = []

    def clock() -> datetime:  # every reading of the clock lands 0.6 of the setting later
        asked.append(began + step * len(asked))
        return asked[-1]

    await cache.warm(sessions, clock=clock)
    ready = asked[-1]
    assert ready - began > timedelta(seconds=catalog.ttl)
    snapshot = catalog.peek(now=ready)
    assert snapshot is not None  # checked again at the end
    day = datetime.fromisoformat(DAY).date()
    assert cache.claims(snapshot.offices["amt"], day, now=ready) is not None
    assert cache.reads == 1
    await cache.drain()
    await catalog.drain()


async def test_cells_reported_in_a_rolled_back_savepoint_void_the_report(harness: Harness) -> None:
    cell = datetime(2027, 1, 11, 8, tzinfo=UTC)
    async with harness.session() as session, session.begin():
        note_claimed(session, office_id=1, counter_id=1, cells=[cell])
        note_freed(session, office_id=2, counter_id=3, cells=[cell])
        taken = take_changes(session, 1)
        assert taken is not None and [c.claimed for c in taken] == [True]
        assert take_changes(session, 1) == []  # once only
        assert take_changes(session, 9) is None  # nothing reported: the office's days are dropped instead
        savepoint = await session.begin_nested()
        note_claimed(session, office_id=2, counter_id=3, cells=[cell])
        await savepoint.rollback()
        assert take_changes(session, 2) is None  # what the savepoint undid is unknown cell by cell
    async with harness.session() as session, session.begin():
        assert take_changes(session, 2) is None  # nothing carries over into the next transaction
