"""The simulated month of the waiting list (bench/waitlist_month.py): its quick configuration, with a quarter of its
wishes, runs end to end and leaves every invariant intact (no timing asserted); and a defect the month revealed."""

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bench import waitlist_month
from rathaus.clock import ManualClock
from rathaus.waitlist.jobs import offer_free_slots
from rathaus.web import runtime_of
from tests.conftest import Harness, open_harness
from tests.factories import make_config
from tests.waitlist.helpers import book, cancel, offer_token, offers, register, two_offices

# The quick month's 100 released slots, 25 cancellations and its offices, but 250 wishes instead of 1,000: still
# 2.5 wishes for every slot, and as many offers accepted, declined and run out (45-54 in all, measured), for 23 s of
# CPU instead of 61 s (the wishes' registrations, confirmations and changes cost most of it).
WISHES = 250


def test_the_quick_month_keeps_every_invariant(tmp_path: Path) -> None:
    output = tmp_path / "month.json"
    assert waitlist_month.main(["--quick", "--wishes", str(WISHES), "--no-http", "--output", str(output)]) == 0
    month = json.loads(output.read_text())["month"]
    assert month["problems"] == []
    did, outcome = month["did"], month["outcome"]
    scale = replace(waitlist_month.Scale().part(0.05), wishes=WISHES)
    assert did["wishes"] + sum(n for k, n in did.items() if k.startswith("wish_refused")) == scale.wishes
    # Every acceptance the citizens saw is an accepted offer, and the figures count the same offers.
    assert outcome["offers_by_status"]["accepted"] == did["accepted"] > 0
    assert did["declined"] > 0 and outcome["offers_by_status"]["expired"] > 0
    published = sum(
        n for office in outcome["figures"].values() for s in office["services"] for n in s["offers"].values()
    )
    assert published >= outcome["offers"]  # an offer for two services counts under each
    assert did["cancelled"] == scale.cancellations
    assert sum(outcome["released_cells_taken"].values()) == scale.slots
    assert outcome["released_cells_taken"]["free"] >= 0


@pytest.fixture
async def harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with open_harness(sqlite_url, clock, availability_cache_seconds=86400.0) as h:
        yield h


async def _statements(harness: Harness, path: str) -> int:
    """The SQL statements one POST to `path` sends."""
    sent = 0

    def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    engine = runtime_of(harness.app.state).engine.sync_engine  # the app's own engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = await harness.client.post(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert answer.status_code == 200, answer.text
    return sent


@pytest.mark.anyio
async def test_passing_a_declined_slot_on_does_not_read_every_waiting_wish(harness: Harness) -> None:
    # One slot a week at each office: the sweep offers it to the first wish there, the others wait.
    await harness.load(two_offices(hours={"mon": ["09:00-09:15"]}, horizon_days=6))
    for i in range(3):
        await register(harness, email=f"few{i}@example.org", offices=["amt"])
    for i in range(150):
        await register(harness, email=f"many{i}@example.org", offices=["amt2"])
    assert await offer_free_slots(harness.runtime) == 2
    few, many = await offers(harness)
    declined = {}
    for offer in (few, many):
        token = await offer_token(harness, offer.id)
        declined[offer.office_id] = await _statements(harness, f"/api/v1/offers/{token}/decline")
    # Each slot went on to the next wish of its office.
    assert [o.status for o in await offers(harness)] == ["declined", "declined", "open", "open"]
    # Passing one slot on costs the same whether three wishes wait or a hundred and fifty.
    assert declined[many.office_id] == declined[few.office_id]


@pytest.mark.anyio
async def test_a_cancelled_booking_from_an_offer_is_freed_capacity_for_the_wishes_waiting_now(harness: Harness) -> None:
    await harness.load(make_config(hours={"mon": ["09:00-09:15"]}, horizon_days=6))
    await register(harness, email="first@example.org")
    assert await offer_free_slots(harness.runtime) == 1
    (first,) = await offers(harness)
    accepted = await harness.client.post(f"/api/v1/offers/{await offer_token(harness, first.id)}/accept")
    assert accepted.status_code == 200, accepted.text
    harness.clock.advance(timedelta(minutes=30))
    await register(harness, email="later@example.org")  # registered after the offer's release

    await cancel(harness, accepted.json()["booking"])

    # The freed slot is offered to the wish that waits now, not left to open booking until the next sweep …
    assert [o.status for o in await offers(harness)] == ["accepted", "open"]
    # … and the figures count it as capacity a booking gave back.
    figures = (await harness.client.get("/api/v1/offices/amt/waitlist")).json()
    assert figures["freed_slots"] == 1


@pytest.mark.anyio
async def test_a_wish_waiting_before_a_release_is_offered_the_released_day(harness: Harness) -> None:
    # One slot each weekday and a booking window of six days, booked out: Monday the 18th enters it on Tuesday.
    await harness.load(
        make_config(hours={d: ["09:00-09:15"] for d in ("mon", "tue", "wed", "thu", "fri")}, horizon_days=6)
    )
    for day in range(11, 16):
        await book(harness, f"2027-01-{day}T09:00:00+01:00", email=f"early{day}@example.org")
    # "Any day in the next three weeks", as a citizen who cannot get an appointment would ask.
    await register(harness, email="waiting@example.org", first_day="2027-01-11", last_day="2027-01-29", windows=[])

    harness.clock.advance(timedelta(days=1, hours=3))  # Tuesday 10:00: the window now reaches Monday 10:00
    assert await offer_free_slots(harness.runtime) == 1
    (offer,) = await offers(harness)
    assert offer.start_at.isoformat() == "2027-01-18T08:00:00+00:00"
