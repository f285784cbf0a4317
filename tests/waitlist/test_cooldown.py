"""The cool-down: a freed slot no wish takes stays out of open booking for a while, then opens."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from rathaus.clock import ManualClock
from rathaus.settings import WaitlistSettings
from rathaus.waitlist.jobs import reopen_cooled_slots
from rathaus.waitlist.models import Cooldown
from tests.conftest import Harness, open_harness
from tests.factories import make_config
from tests.waitlist.conftest import LONG_CACHE
from tests.waitlist.helpers import NINE, book, booking_status, cancel, free_starts, offers, register

pytestmark = pytest.mark.anyio


@pytest.fixture
async def harness(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """The app with a cool-down of 30 minutes."""
    async with open_harness(
        db_url, clock, availability_cache_seconds=LONG_CACHE, waitlist=WaitlistSettings(cooldown_minutes=30)
    ) as h:
        yield h


async def cooling(harness: Harness) -> list[Cooldown]:
    async with harness.session() as s:
        return list((await s.scalars(select(Cooldown))).all())


async def test_a_cancelled_slot_opens_only_after_the_cool_down(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness)
    await cancel(harness, taken)

    assert NINE not in await free_starts(harness)
    [held] = await cooling(harness)
    assert await booking_status(harness, held.booking_id) == "pending"
    harness.clock.advance(timedelta(minutes=29))
    assert await reopen_cooled_slots(harness.runtime) == 0
    assert NINE not in await free_starts(harness)

    harness.clock.advance(timedelta(minutes=1))
    assert await reopen_cooled_slots(harness.runtime) == 1
    assert NINE in await free_starts(harness)
    assert await cooling(harness) == []
    assert await offers(harness) == []


async def test_a_wish_registered_during_the_cool_down_gets_the_slot(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness)
    await cancel(harness, taken)
    harness.clock.advance(timedelta(minutes=5))
    await register(harness, email="wartend@example.org")

    harness.clock.advance(timedelta(minutes=1))
    assert await reopen_cooled_slots(harness.runtime) == 1

    [offer] = await offers(harness)
    assert offer.status == "open" and offer.start_at.isoformat() == "2027-01-11T08:00:00+00:00"
    assert NINE not in await free_starts(harness)
    assert await cooling(harness) == []


async def test_a_wish_that_does_not_match_leaves_the_slot_cooling_until_its_time(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness)
    await cancel(harness, taken)
    harness.clock.advance(timedelta(minutes=5))
    await register(
        harness, email="spaet@example.org", windows=[{"weekdays": ["mon"], "start": "11:00:00", "end": "12:00:00"}]
    )

    harness.clock.advance(timedelta(minutes=1))
    await reopen_cooled_slots(harness.runtime)  # looked at again for the new wish: held on for the rest
    assert [o.start_at.isoformat() for o in await offers(harness)] == []
    [held] = await cooling(harness)
    assert held.until == harness.clock.now() + timedelta(minutes=24)
    assert NINE not in await free_starts(harness)
    assert await reopen_cooled_slots(harness.runtime) == 0  # nothing new since: left alone

    harness.clock.advance(timedelta(minutes=24))
    assert await reopen_cooled_slots(harness.runtime) == 1
    assert NINE in await free_starts(harness)


async def test_a_slot_soon_after_the_cancellation_is_held_back_only_until_it_would_be_of_use(
    harness: Harness,
) -> None:
    await harness.load(make_config(lead_time_minutes=60))
    taken = await book(harness, start="2027-01-11T08:15:00+01:00")  # a quarter past eight, in 75 minutes
    await cancel(harness, taken)

    [held] = await cooling(harness)
    assert held.until == harness.clock.now() + timedelta(minutes=15)  # the slot leaves the window then


async def test_two_instances_open_a_cooled_slot_once(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness)
    await cancel(harness, taken)
    harness.clock.advance(timedelta(minutes=30))

    given = await asyncio.gather(reopen_cooled_slots(harness.runtime), reopen_cooled_slots(harness.runtime))

    assert sorted(given) == [0, 1]  # type: ignore[type-var]
    assert NINE in await free_starts(harness)
    assert await cooling(harness) == []
