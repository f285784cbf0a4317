"""Bad input gets a clear 4xx that a person understands, and changes nothing."""

from typing import Any

import pytest
from sqlalchemy import func, select

from rathaus.booking.models import Booking, SlotClaim
from rathaus.notify.models import OutboxMessage
from tests.conftest import Harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio
OK = "2027-01-11T09:00:00+01:00"


async def count_rows(harness: Harness) -> tuple[int, int, int]:
    async with harness.session() as s:
        return (
            await s.scalar(select(func.count()).select_from(Booking)) or 0,
            await s.scalar(select(func.count()).select_from(SlotClaim)) or 0,
            await s.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown office", {"office": "nowhere"}, 404, "no office called nowhere"),
    ("unknown service", {"services": ["passport"]}, 422, "no service called passport"),
    ("no service", {"services": []}, 400, "services"),
    ("same service twice", {"services": ["a", "a"]}, 422, "chosen twice"),
    ("start in the past", {"start": "2027-01-10T09:00:00+01:00"}, 422, "in the past"),
    ("inside the lead time", {"start": "2027-01-11T07:15:00+01:00"}, 422, "at least 60 minutes ahead"),
    ("past the horizon", {"start": "2027-06-01T09:00:00+02:00"}, 422, "at most 60 days ahead"),
    ("outside hours", {"start": "2027-01-11T13:00:00+01:00"}, 422, "not open"),
    ("ends after closing", {"start": "2027-01-11T11:45:00+01:00", "services": ["b"]}, 422, "after closing"),
    ("not on the slot grid", {"start": "2027-01-11T09:05:00+01:00"}, 422, "15-minute grid"),
    ("on a weekend", {"start": "2027-01-16T09:00:00+01:00"}, 422, "not open"),
    ("in a closure", {"start": "2027-01-12T09:00:00+01:00"}, 422, "closed then: Staff outing"),
    ("start without offset", {"start": "2027-01-11T09:00:00"}, 400, "start"),
    ("start not a time", {"start": "tomorrow"}, 400, "start"),
    ("phone not a number", {"phone": "call me", "email": None}, 422, "not a valid mobile number"),
    ("landline", {"phone": "030 1234567", "email": None}, 422, "not a mobile number"),
    ("invalid e-mail", {"email": "erika@"}, 422, "e-mail address is invalid"),
    ("no contact", {"email": None}, 422, "e-mail address or a mobile number"),
    ("empty name", {"name": "   "}, 422, "enter your name"),
    ("invisible name", {"name": "\u200b\u2060\u00ad\u0301"}, 422, "enter your name"),
    ("absurdly long name", {"name": "x" * 5000}, 400, "name"),
    ("unknown language", {"language": "fr"}, 422, "de or en"),
    ("wrong type", {"services": "a"}, 400, "services"),
    ("unknown field", {"admin": True}, 400, "admin"),
]


@pytest.mark.parametrize(("case", "change", "status", "says"), CASES, ids=[c[0] for c in CASES])
async def test_bad_booking_is_refused_and_writes_nothing(
    harness: Harness, case: str, change: dict[str, Any], status: int, says: str
) -> None:
    await harness.load(
        make_config(
            lead_time_minutes=60,
            closures=[{"date": "2027-01-12", "reason": {"de": "Betriebsausflug", "en": "Staff outing"}}],
        )
    )
    body = {k: v for k, v in {**booking_body(OK), **change}.items() if v is not None}

    answer = await harness.client.post("/api/v1/bookings", json=body, headers={"Accept-Language": "en"})

    assert answer.status_code == status, answer.text
    assert says in answer.json()["detail"], answer.json()
    assert await count_rows(harness) == (0, 0, 0)


async def test_malformed_json_is_a_400(harness: Harness) -> None:
    answer = await harness.client.post(
        "/api/v1/bookings", content=b'{"office": ', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert "detail" in answer.json()


async def test_errors_speak_german_by_default(harness: Harness) -> None:
    await harness.load(make_config())
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(OK, office="nirgendwo"))
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Dieses Amt gibt es nicht: nirgendwo", "code": "unknown_office"}


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("services=a&date=2027-13-01", 400, "date"),
        ("services=a", 400, "date"),
        ("date=2027-01-11", 400, "services"),
        ("services=zzz&date=2027-01-11", 422, "no service called zzz"),
    ],
)
async def test_bad_availability_queries(harness: Harness, query: str, status: int, says: str) -> None:
    await harness.load(make_config())
    answer = await harness.client.get(f"/api/v1/offices/amt/availability?{query}", headers={"Accept-Language": "en"})
    assert answer.status_code == status, answer.text
    assert says in answer.json()["detail"]


async def test_services_no_counter_offers_together_are_refused(harness: Harness) -> None:
    await harness.load(
        make_config(counters=[{"name": "A only", "services": ["a"]}, {"name": "B only", "services": ["b"]}])
    )
    answer = await harness.client.post(
        "/api/v1/bookings", json=booking_body(OK, services=["a", "b"]), headers={"Accept-Language": "en"}
    )
    assert answer.status_code == 422 and "not offered together" in answer.json()["detail"]
    slots = await harness.client.get("/api/v1/offices/amt/availability?services=a,b&date=2027-01-11")
    assert slots.status_code == 422
    assert await count_rows(harness) == (0, 0, 0)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-01-11"])
async def test_days_outside_the_booking_window_have_no_slots(harness: Harness, day: str) -> None:
    await harness.load(make_config())
    answer = await harness.client.get(f"/api/v1/offices/amt/availability?services=a&date={day}")
    assert answer.status_code == 200 and answer.json()["slots"] == []


async def test_unknown_office_availability_is_404(harness: Harness) -> None:
    await harness.load(make_config())
    answer = await harness.client.get("/api/v1/offices/nope/availability?services=a&date=2027-01-11")
    assert answer.status_code == 404
