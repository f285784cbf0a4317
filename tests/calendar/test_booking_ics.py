"""A booking's calendar object reads back, in two independent clients, as the instant rathaus meant."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rathaus.clock import ManualClock
from tests.calendar.clients import icaljs, utc, vobject_events
from tests.conftest import Harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio

# (zone, clock, Sunday hours, local start with offset) on both sides of clock changes.
CASES = [
    ("Europe/Berlin", datetime(2027, 3, 20, tzinfo=UTC), ["01:00-04:00"], "2027-03-28T01:45:00+01:00"),
    ("Europe/Berlin", datetime(2027, 3, 20, tzinfo=UTC), ["01:00-04:00"], "2027-03-28T03:00:00+02:00"),
    ("Europe/Berlin", datetime(2027, 10, 24, tzinfo=UTC), ["01:00-04:00"], "2027-10-31T02:30:00+02:00"),
    ("Europe/Berlin", datetime(2027, 10, 24, tzinfo=UTC), ["01:00-04:00"], "2027-10-31T02:30:00+01:00"),
    ("America/New_York", datetime(2027, 3, 7, tzinfo=UTC), ["00:00-05:00"], "2027-03-14T01:30:00-05:00"),
    ("America/New_York", datetime(2027, 3, 7, tzinfo=UTC), ["00:00-05:00"], "2027-03-14T03:00:00-04:00"),
    ("America/New_York", datetime(2027, 10, 31, tzinfo=UTC), ["00:00-05:00"], "2027-11-07T01:30:00-04:00"),
    ("America/New_York", datetime(2027, 10, 31, tzinfo=UTC), ["00:00-05:00"], "2027-11-07T01:30:00-05:00"),
]


async def book(harness: Harness, start: str) -> dict[str, Any]:
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(start))
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def ics(harness: Harness, booking: dict[str, Any]) -> bytes:
    answer = await harness.client.get(
        f"/api/v1/bookings/{booking['code']}/calendar.ics?token={booking['manage_token']}"
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    return answer.content


@pytest.mark.calendar_client
@pytest.mark.parametrize(("zone", "now", "hours", "start"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
async def test_appointment_times_read_back_exactly(
    harness: Harness, clock: ManualClock, tmp_path: Path, zone: str, now: datetime, hours: list[str], start: str
) -> None:
    clock.set(now)
    await harness.load(make_config(hours={"sun": hours}, timezone=zone))
    booking = await book(harness, start)
    data = await ics(harness, booking)
    meant = datetime.fromisoformat(start)

    [seen] = icaljs(data, tmp_path)
    assert utc(seen["startUTC"]) == meant
    assert utc(seen["endUTC"]) == datetime.fromisoformat(booking["end"])
    assert seen["uid"].startswith(f"booking-{booking['code']}@") and seen["sequence"] == 0

    [event] = vobject_events(data)
    assert event.dtstart.value == meant
    assert event.dtend.value == datetime.fromisoformat(booking["end"])


@pytest.mark.calendar_client
async def test_reschedule_and_cancel_keep_the_uid_and_raise_the_sequence(harness: Harness, tmp_path: Path) -> None:
    await harness.load(make_config())
    booking = await book(harness, "2027-01-11T09:00:00+01:00")
    auth = {"Authorization": f"Bearer {booking['manage_token']}"}
    [first] = icaljs(await ics(harness, booking), tmp_path)

    moved = await harness.client.post(
        f"/api/v1/bookings/{booking['code']}/reschedule", json={"start": "2027-01-11T10:00:00+01:00"}, headers=auth
    )
    assert moved.status_code == 200
    [second] = icaljs(await ics(harness, booking), tmp_path)

    assert (await harness.client.post(f"/api/v1/bookings/{booking['code']}/cancel", headers=auth)).status_code == 200
    [third] = icaljs(await ics(harness, booking), tmp_path)

    assert first["uid"] == second["uid"] == third["uid"]
    assert (first["sequence"], second["sequence"], third["sequence"]) == (0, 1, 2)
    assert utc(second["startUTC"]) == datetime(2027, 1, 11, 9, tzinfo=UTC)
    assert (first["status"], third["status"], third["method"]) == ("CONFIRMED", "CANCELLED", "CANCEL")


async def test_the_calendar_needs_the_manage_token(harness: Harness) -> None:
    await harness.load(make_config())
    booking = await book(harness, "2027-01-11T09:00:00+01:00")
    answer = await harness.client.get(f"/api/v1/bookings/{booking['code']}/calendar.ics?token=wrong")
    assert answer.status_code == 404


async def test_content_in_german_and_english(harness: Harness) -> None:
    await harness.load(make_config())
    booking = await book(harness, "2027-01-11T09:00:00+01:00")
    german = (await ics(harness, booking)).decode()
    english = (
        await harness.client.get(
            f"/api/v1/bookings/{booking['code']}/calendar.ics?token={booking['manage_token']}&lang=en"
        )
    ).text
    assert "Termin Testamt: Dienst A" in german and "Appointment Test office: Service A" in english
    assert "BEGIN:VALARM" in german and "TZID:Europe/Berlin" in german
    assert booking["code"] in german
