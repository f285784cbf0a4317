"""Several app instances on one database: a change on one shows on the others within the cache TTL."""

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from rathaus.clock import ManualClock
from tests.conftest import Harness, LiveServer
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

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


async def test_a_closure_on_one_instance_reaches_the_others_through_the_catalog_version(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    token = await staff_token(harness, "admin")
    one = live_server_factory(db_url, clock, availability_cache_seconds=0.2)
    two = live_server_factory(db_url, clock, availability_cache_seconds=0.2)
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(two.url + "/api/v1/offices/amt")).json()["upcoming_closures"] == []

        closure = {"start": "2027-01-12T08:00:00+01:00", "end": "2027-01-12T12:00:00+01:00", "reason": "Umzug"}
        made = await client.post(
            one.url + "/api/v1/offices/amt/closures", json=closure, headers={"Authorization": f"Bearer {token}"}
        )
        assert made.status_code == 201, made.text

        began = time.monotonic()
        while not (await client.get(two.url + "/api/v1/offices/amt")).json()["upcoming_closures"]:
            assert time.monotonic() - began < 3, "instance two never saw the closure"
            await asyncio.sleep(0.05)
        assert "2027-01-12T08:00:00+01:00" not in [
            s["start"] for s in (await client.get(two.url + URL.replace("2027-01-11", "2027-01-12"))).json()["slots"]
        ]
