"""The end of the office day, as the scheduled job runs it."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.queue.jobs import close_days
from rathaus.queue.models import Ticket
from tests.conftest import Harness
from tests.queue.helpers import Desk
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
CLOSING = datetime(2027, 1, 11, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


async def _tickets(harness: Harness) -> dict[str, Ticket]:
    async with harness.session() as session:
        return {t.label: t for t in await session.scalars(select(Ticket))}


async def test_day_end_closes_waiting_tickets_and_marks_absent_appointments(harness: Harness) -> None:
    desk = await Desk.open(harness)
    came = await desk.book("2027-01-11T08:15:00+01:00")
    absent = await desk.book("2027-01-11T11:00:00+01:00", email="absent@example.org")
    tomorrow = await desk.book("2027-01-12T09:00:00+01:00", email="tomorrow@example.org")
    harness.clock.advance(timedelta(minutes=15))
    await desk.check_in(came)
    await desk.walk_in("a", phone="+4915123456789")
    served = (await desk.call_next("Schalter 1")).json()
    await desk.ticket_action(served["id"], "complete")

    harness.clock.set(CLOSING - timedelta(minutes=1))
    assert await close_days(harness.runtime) == 0  # still open: nothing to close yet
    harness.clock.set(CLOSING)
    assert await close_days(harness.runtime) == 2  # the waiting walk-in and the absent appointment
    assert await close_days(harness.runtime) == 0  # a second run finds nothing left

    tickets = await _tickets(harness)
    assert tickets["A-001"].status == "completed"
    assert tickets["W-001"].status == "closed" and tickets["W-001"].close_reason == "day_end"
    assert tickets["W-001"].phone is None  # the number was only needed for today's SMS
    async with harness.session() as session:
        statuses = {b.code: b.status for b in await session.scalars(select(Booking))}
    assert statuses == {came: "completed", absent: "no_show", tomorrow: "confirmed"}


async def test_a_day_missed_by_the_job_is_closed_the_next_morning(harness: Harness) -> None:
    desk = await Desk.open(harness)
    await desk.walk_in("a")
    harness.clock.set(CLOSING + timedelta(hours=12))  # 00:00 the next day, before opening

    assert await close_days(harness.runtime) == 1
    assert (await _tickets(harness))["W-001"].status == "closed"
    # The next day starts at number 1 again.
    harness.clock.set(datetime(2027, 1, 12, 7, 0, tzinfo=UTC))
    desk = Desk(harness, await staff_token(harness, "desk", role="desk"))  # yesterday's login has expired
    answer = await desk.walk_in("a")
    assert answer.status_code == 201, answer.text
    assert answer.json()["number"] == "W-001"
