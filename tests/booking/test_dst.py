"""Days on which the clocks change in Europe/Berlin: no slot in the gap, none twice in the repeated hour."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rathaus.clock import ManualClock
from rathaus.offices.rules import wall_to_utc
from tests.conftest import Harness
from tests.factories import make_config

pytestmark = pytest.mark.anyio
BERLIN = ZoneInfo("Europe/Berlin")


def local(slot: dict[str, str]) -> str:
    return slot["start"][11:16]


async def slots_on(harness: Harness, day: str) -> list[dict[str, str]]:
    answer = await harness.client.get(f"/api/v1/offices/amt/availability?services=a&date={day}")
    assert answer.status_code == 200, answer.text
    slots: list[dict[str, str]] = answer.json()["slots"]
    return slots


async def test_spring_forward_has_no_slot_in_the_gap(harness: Harness, clock: ManualClock) -> None:
    clock.set(datetime(2027, 3, 20, 12, tzinfo=UTC))
    await harness.load(make_config(hours={"sun": ["01:00-04:00"]}))

    slots = await slots_on(harness, "2027-03-28")

    # 01:00-02:00 CET, then the clock jumps to 03:00 CEST: two real hours, eight 15-minute slots.
    assert [local(s) for s in slots] == ["01:00", "01:15", "01:30", "01:45", "03:00", "03:15", "03:30", "03:45"]
    assert slots[3]["start"].endswith("+01:00") and slots[4]["start"].endswith("+02:00")
    instants = [datetime.fromisoformat(s["start"]) for s in slots]
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(instants))


async def test_fall_back_offers_the_repeated_hour_once_per_real_instant(harness: Harness, clock: ManualClock) -> None:
    clock.set(datetime(2027, 10, 24, 12, tzinfo=UTC))
    await harness.load(make_config(hours={"sun": ["01:00-04:00"]}))

    slots = await slots_on(harness, "2027-10-31")

    instants = [datetime.fromisoformat(s["start"]) for s in slots]
    # 01:00 CEST to 04:00 CET is four real hours: 02:00-03:00 happens twice, with different offsets.
    assert len(instants) == 16
    assert len(set(instants)) == 16
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(instants))
    twice = [s["start"] for s in slots if local(s) == "02:30"]
    assert twice == ["2027-10-31T02:30:00+02:00", "2027-10-31T02:30:00+01:00"]


async def test_ordinary_days_around_the_change_keep_their_local_hours(harness: Harness, clock: ManualClock) -> None:
    clock.set(datetime(2027, 3, 20, 12, tzinfo=UTC))
    await harness.load(make_config())
    before = await slots_on(harness, "2027-03-26")
    after = await slots_on(harness, "2027-03-29")
    assert before[0]["start"] == "2027-03-26T08:00:00+01:00"
    assert after[0]["start"] == "2027-03-29T08:00:00+02:00"
    assert [local(s) for s in before] == [local(s) for s in after]


async def test_booking_on_the_change_day_stores_the_real_instant(harness: Harness, clock: ManualClock) -> None:
    clock.set(datetime(2027, 10, 24, 12, tzinfo=UTC))
    await harness.load(make_config(hours={"sun": ["01:00-04:00"]}))
    second = "2027-10-31T02:30:00+01:00"  # the second 02:30, after the clocks went back
    body = {"office": "amt", "services": ["a"], "start": second, "name": "A", "email": "a@example.org"}
    created = await harness.client.post("/api/v1/bookings", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["start"] == second
    left = [s["start"] for s in await slots_on(harness, "2027-10-31")]
    assert second not in left and "2027-10-31T02:30:00+02:00" in left


@pytest.mark.parametrize(
    ("day", "wall", "expected"),
    [
        (date(2027, 3, 28), time(2, 30), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),  # in the gap: the jump
        (date(2027, 3, 28), time(3, 0), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        (date(2027, 10, 31), time(2, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),  # first occurrence
        (date(2027, 1, 11), time(8, 0), datetime(2027, 1, 11, 7, 0, tzinfo=UTC)),
    ],
)
def test_wall_to_utc(day: date, wall: time, expected: datetime) -> None:
    assert wall_to_utc(day, wall, BERLIN) == expected
