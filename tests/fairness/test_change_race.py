"""The cap on moves per booking holds when many moves of one booking arrive at once (real sockets, both
databases): exactly the allowed number succeed, every other one gets the cap's refusal."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from rathaus.booking.models import BookingEvent
from rathaus.clock import ManualClock
from tests.altcha_client import SolvingHttpClient
from tests.conftest import Harness, LiveServer
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio
CAP = 3
# The sixteen quarter hours of a Tuesday morning, all free (the booking is on Monday at 08:00).
TARGETS = [f"2027-01-12T{8 + q // 4:02d}:{q % 4 * 15:02d}:00+01:00" for q in range(16)]


async def test_concurrent_moves_of_one_booking_stop_at_the_cap(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    server = live_server_factory(db_url, clock, db_pool_size=10, booking_max_changes=CAP)
    limits = httpx.Limits(max_connections=len(TARGETS), max_keepalive_connections=0)
    async with SolvingHttpClient(base_url=server.url, limits=limits, timeout=120) as client:
        booked = (await client.post("/api/v1/bookings", json=booking_body("2027-01-11T08:00:00+01:00"))).json()
        auth = {"Authorization": f"Bearer {booked['manage_token']}"}
        url = f"/api/v1/bookings/{booked['code']}/reschedule"
        gate = asyncio.Event()

        async def move(start: str) -> tuple[int, str]:
            await gate.wait()
            answer = await client.post(url, json={"start": start}, headers=auth)
            return answer.status_code, answer.json().get("code", "") if answer.status_code != 200 else ""

        tasks = [asyncio.create_task(move(start)) for start in TARGETS]
        await asyncio.sleep(0)  # every task waits at the gate; then they go together
        gate.set()
        answers = Counter(await asyncio.gather(*tasks))
        kept = (await client.get(f"/api/v1/bookings/{booked['code']}", headers=auth)).json()

    assert answers == Counter({(200, ""): CAP, (409, "too_many_changes"): len(TARGETS) - CAP})
    async with harness.session() as session:
        moves = await session.scalar(
            select(func.count()).select_from(BookingEvent).where(BookingEvent.action == "booking.rescheduled")
        )
    assert moves == CAP
    assert kept["status"] == "confirmed" and kept["start"] in TARGETS
