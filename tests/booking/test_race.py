"""Races decided by the database: concurrent requests over real sockets against the running app."""

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking, SlotClaim
from rathaus.clock import ManualClock
from tests.altcha_client import SolvingHttpClient
from tests.conftest import Harness, LiveServer
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio
START = "2027-01-11T09:00:00+01:00"


async def _storm(server: LiveServer, bodies: list[dict[str, object]]) -> Counter[int]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with SolvingHttpClient(base_url=server.url, limits=limits, timeout=120) as client:
        gate = asyncio.Event()

        async def one(body: dict[str, object]) -> int:
            await gate.wait()
            return (await client.post("/api/v1/bookings", json=body)).status_code

        tasks = [asyncio.create_task(one(body)) for body in bodies]
        await asyncio.sleep(0)  # let every task reach the gate, then release them together
        gate.set()
        return Counter(await asyncio.gather(*tasks))


@pytest.mark.parametrize(("counters", "winners"), [(1, 1), (3, 3)])
async def test_hundred_concurrent_bookings_for_one_slot(
    harness: Harness,
    db_url: str,
    clock: ManualClock,
    live_server_factory: Callable[..., LiveServer],
    counters: int,
    winners: int,
) -> None:
    await harness.load(make_config(counters=[{"name": f"Counter {i}", "services": ["a"]} for i in range(counters)]))
    server = live_server_factory(db_url, clock, db_pool_size=10)
    bodies = [booking_body(START, email=f"person{i}@example.org") for i in range(100)]

    statuses = await _storm(server, bodies)

    assert statuses == Counter({201: winners, 409: 100 - winners})
    async with SolvingHttpClient(base_url=server.url) as client:
        left = (await client.get("/api/v1/offices/amt/availability?services=a&date=2027-01-11")).json()["slots"]
    assert START not in [slot["start"] for slot in left]


async def test_concurrent_replays_of_one_idempotency_key_book_once(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config(counters=[{"name": f"Counter {i}", "services": ["a"]} for i in range(3)]))
    server = live_server_factory(db_url, clock, db_pool_size=10)
    body = booking_body(START)
    async with SolvingHttpClient(base_url=server.url, timeout=60) as client:
        answers = await asyncio.gather(
            *(client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "same-key"}) for _ in range(20))
        )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["code"] for a in answers}) == 1
    assert len({a.json()["manage_token"] for a in answers}) == 1


async def test_overlapping_storm_never_double_books_a_counter(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    """Thirty-minute bookings at overlapping quarter hours on two counters: partial claims must be undone."""
    await harness.load(make_config(counters=[{"name": f"Counter {i}", "services": ["a", "b"]} for i in range(2)]))
    server = live_server_factory(db_url, clock, db_pool_size=10)
    starts = ["09:00", "09:15", "09:30", "09:45", "10:00"]
    bodies = [
        booking_body(f"2027-01-11T{starts[i % len(starts)]}:00+01:00", services=["b"], email=f"p{i}@example.org")
        for i in range(60)
    ]

    statuses = await _storm(server, bodies)

    assert set(statuses) <= {201, 409} and statuses[201] >= 4
    async with harness.session() as s:
        bookings = (await s.scalars(select(Booking).where(Booking.status == "confirmed"))).all()
        claims = (await s.execute(select(SlotClaim.counter_id, SlotClaim.cell_start, SlotClaim.booking_id))).all()
    assert len(bookings) == statuses[201]
    assert len(claims) == 2 * len(bookings)  # no cell left behind by an undone partial claim
    by_counter: dict[int, list[tuple[object, object]]] = {}
    for b in bookings:
        by_counter.setdefault(b.counter_id, []).append((b.start_at, b.end_at))
    for spans in by_counter.values():
        spans.sort()
        assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))
