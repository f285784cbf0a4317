"""A booking's reminders follow the office's policy without reading it: it comes with the catalogue, on every
instance exactly as fresh as the office rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rathaus.clock import ManualClock
from rathaus.notify.models import OutboxMessage
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
TTL = 60.0


async def reminder_offsets(h: Harness, start: str, email: str) -> list[int]:
    """Book `start` through `h`'s app; the offsets (minutes) of the e-mail reminders it planned."""
    answer = await h.client.post("/api/v1/bookings", json=booking_body(start, email=email))
    assert answer.status_code == 201, answer.text
    async with h.session() as s:
        rows = (
            await s.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "reminder", OutboxMessage.recipient == email)
            )
        ).all()
    return sorted((r.payload["offset_minutes"] for r in rows), reverse=True)


async def test_a_new_policy_reaches_the_next_booking_here_at_once_and_on_another_instance_within_the_ttl(
    db_url: str, clock: ManualClock
) -> None:
    async with open_harness(db_url, clock, availability_cache_seconds=TTL) as here:
        await here.load(make_config())
        async with open_harness(db_url, clock, availability_cache_seconds=TTL) as there:
            assert await reminder_offsets(there, "2027-01-12T09:00:00+01:00", "a@example.org") == [1440, 120]

            admin = await staff_token(here, "admin1")
            policy = {"reminder_offsets_minutes": [2880, 60], "quiet_start": "22:00", "quiet_end": "07:00"}
            put = await here.client.put(
                "/api/v1/offices/amt/notify-policy", json=policy, headers={"Authorization": f"Bearer {admin}"}
            )
            assert put.status_code == 200, put.text
            assert await reminder_offsets(here, "2027-01-14T09:00:00+01:00", "b@example.org") == [2880, 60]

            clock.advance(timedelta(seconds=TTL + 1))  # the other instance checks its catalogue's version again
            assert await reminder_offsets(there, "2027-01-14T09:30:00+01:00", "c@example.org") == [2880, 60]
