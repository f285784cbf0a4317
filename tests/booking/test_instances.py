"""Several app instances on one database: a change on one shows on the others within the cache TTL, never later.

The instances share one manual clock, so the tests move time instead of waiting for it.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from rathaus.booking import service
from rathaus.clock import ManualClock
from rathaus.offices.catalog import Catalog
from tests.altcha_client import SolvingHttpClient
from tests.conftest import Harness, LiveServer
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
NINE = "2027-01-11T09:00:00+01:00"
URL = "/api/v1/offices/amt/availability?services=a&date=2027-01-11"
TTL = 5.0
PAST_TTL = timedelta(seconds=TTL, milliseconds=1)


async def starts(client: httpx.AsyncClient, base: str, url: str = URL) -> list[str]:
    answer = await client.get(base + url)
    assert answer.status_code == 200, answer.text
    return [s["start"] for s in answer.json()["slots"]]


def two_instances(db_url: str, clock: ManualClock, factory: Callable[..., LiveServer]) -> tuple[LiveServer, LiveServer]:
    return (
        factory(db_url, clock, availability_cache_seconds=TTL),
        factory(db_url, clock, availability_cache_seconds=TTL),
    )


async def test_a_booking_on_one_instance_shows_on_another_once_the_ttl_is_over(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    one, two = two_instances(db_url, clock, live_server_factory)
    async with SolvingHttpClient(timeout=10) as client:
        assert NINE in await starts(client, two.url)  # instance two has the day cached now

        booked = await client.post(one.url + "/api/v1/bookings", json=booking_body(NINE))
        assert booked.status_code == 201
        assert NINE not in await starts(client, one.url)  # never stale where the change was made

        # Within the TTL instance two may still show the slot (it does: its cached day is young); the database
        # judges, so booking it there is refused.
        assert NINE in await starts(client, two.url)
        again = await client.post(two.url + "/api/v1/bookings", json=booking_body(NINE, email="b@example.org"))
        assert again.status_code == 409

        # Past the TTL the first reader gets the truth: the old day is never served, not even once.
        clock.advance(PAST_TTL)
        assert NINE not in await starts(client, two.url)


async def test_a_day_cached_long_ago_is_not_served_after_a_quiet_spell(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    one, two = two_instances(db_url, clock, live_server_factory)
    async with SolvingHttpClient(timeout=10) as client:
        assert NINE in await starts(client, two.url)
        clock.advance(timedelta(seconds=30))  # nobody asks instance two for half a minute
        assert (await client.post(one.url + "/api/v1/bookings", json=booking_body(NINE))).status_code == 201
        clock.advance(PAST_TTL)
        assert NINE not in await starts(client, two.url)


async def test_a_closure_on_one_instance_reaches_the_others_within_the_ttl(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    token = await staff_token(harness, "admin")
    one, two = two_instances(db_url, clock, live_server_factory)
    day_url = URL.replace("2027-01-11", "2027-01-12")
    async with SolvingHttpClient(timeout=10) as client:
        assert (await client.get(two.url + "/api/v1/offices/amt")).json()["upcoming_closures"] == []
        assert "2027-01-12T08:00:00+01:00" in await starts(client, two.url, day_url)

        closure = {"start": "2027-01-12T08:00:00+01:00", "end": "2027-01-12T12:00:00+01:00", "reason": "Umzug"}
        made = await client.post(
            one.url + "/api/v1/offices/amt/closures", json=closure, headers={"Authorization": f"Bearer {token}"}
        )
        assert made.status_code == 201, made.text

        clock.advance(PAST_TTL)
        assert (await client.get(two.url + "/api/v1/offices/amt")).json()["upcoming_closures"]
        assert await starts(client, two.url, day_url) == []


async def test_new_opening_hours_from_a_load_reach_every_instance_within_the_ttl(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    one, two = two_instances(db_url, clock, live_server_factory)
    async with SolvingHttpClient(timeout=10) as client:
        for instance in (one, two):
            assert NINE in await starts(client, instance.url)

        # `rathaus load` from a third process: the office now opens at ten.
        await harness.load(make_config(hours={d: ["10:00-12:00"] for d in ("mon", "tue", "wed", "thu", "fri")}))
        clock.advance(PAST_TTL)
        for instance in (one, two):
            found = await starts(client, instance.url)
            assert found[0] == "2027-01-11T10:00:00+01:00", instance.url


async def test_a_burst_of_readers_of_an_old_day_recomputes_it_once(harness: Harness, clock: ManualClock) -> None:
    await harness.load(make_config())
    runtime = harness.runtime
    catalog, cache = runtime.get(Catalog), runtime.get(service.AvailabilityCache)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async def read() -> list[str]:
        found = await service.availability(
            runtime.read_session_maker,
            catalog=catalog,
            cache=cache,
            office_slug="amt",
            service_slugs=["a"],
            day=clock.now().date() + timedelta(days=1),
            now=clock.now(),
        )
        return [s.start.isoformat() for s in found.bookable]

    first = await read()
    clock.advance(timedelta(seconds=catalog.ttl + 1))
    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    try:
        answers = await asyncio.gather(*(read() for _ in range(20)))
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)
    assert all(answer == first for answer in answers)
    assert len([s for s in statements if "slot_claim" in s]) == 1, statements
    assert len([s for s in statements if "catalog_version" in s]) == 1, statements
