"""Several app instances on one database: a change on one shows on the others within the cache TTL."""

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from rathaus.clock import ManualClock
from tests.conftest import Harness, LiveServer
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio
NINE = "2027-01-11T09:00:00+01:00"
URL = "/api/v1/offices/amt/availability?services=a&date=2027-01-11"


async def starts(client: httpx.AsyncClient, base: str) -> list[str]:
    return [s["start"] for s in (await client.get(base + URL)).json()["slots"]]


async def test_a_booking_on_one_instance_shows_on_another_within_the_ttl(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    one = live_server_factory(db_url, clock, availability_cache_seconds=0.2)
    two = live_server_factory(db_url, clock, availability_cache_seconds=0.2)
    async with httpx.AsyncClient(timeout=10) as client:
        assert NINE in await starts(client, two.url)  # instance two has the day cached now

        booked = await client.post(one.url + "/api/v1/bookings", json=booking_body(NINE))
        assert booked.status_code == 201
        assert NINE not in await starts(client, one.url)  # never stale where the change was made

        # While instance two may still show the slot, the database judges: booking it there is refused.
        again = await client.post(two.url + "/api/v1/bookings", json=booking_body(NINE, email="b@example.org"))
        assert again.status_code == 409

        # Instance two serves its cached day until the TTL runs out, then refreshes it in the background.
        began = time.monotonic()
        while NINE in await starts(client, two.url):
            assert time.monotonic() - began < 3, "instance two still shows the booked slot"
            await asyncio.sleep(0.05)
