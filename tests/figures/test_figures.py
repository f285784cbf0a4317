"""The day's figures of a seeded day equal the same figures computed here, straight from the tables."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from rathaus.booking.models import Booking, BookingEvent
from rathaus.notify.models import OutboxMessage
from rathaus.offices.models import Counter as CounterRow
from rathaus.offices.models import Office, Service
from rathaus.queue.models import Ticket, TicketService
from tests.conftest import Harness
from tests.factories import booking_body
from tests.queue.helpers import OPENING, Desk, two_offices
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2027, 1, 11)
CLOSING = OPENING + timedelta(hours=4)


def at(hh_mm: str) -> datetime:
    """An instant of the seeded day, in Berlin wall time."""
    hours, minutes = map(int, hh_mm.split(":"))
    return datetime(2027, 1, 11, hours, minutes, tzinfo=BERLIN).astimezone(UTC)


async def _book(harness: Harness, start: str, *, made: datetime, services: list[str] | None = None) -> dict[str, Any]:
    harness.clock.set(made)
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(start, services=services))
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _cancel(harness: Harness, booking: dict[str, Any], *, when: datetime) -> None:
    harness.clock.set(when)
    answer = await harness.client.post(
        f"/api/v1/bookings/{booking['code']}/cancel", headers={"Authorization": f"Bearer {booking['manage_token']}"}
    )
    assert answer.status_code == 200, answer.text


async def _seed(harness: Harness) -> Desk:
    """Bookings made weeks and days ahead, two cancelled, check-ins, walk-ins, calls, completions, no-shows."""
    desk = await Desk.open(harness, two_offices())
    made_early, made_late = datetime(2026, 12, 20, 10, 0, tzinfo=UTC), datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
    b1 = await _book(harness, "2027-01-11T08:00:00+01:00", made=made_early)
    b2 = await _book(harness, "2027-01-11T08:15:00+01:00", made=made_early, services=["b"])
    b3 = await _book(harness, "2027-01-11T08:30:00+01:00", made=made_late)
    b4 = await _book(harness, "2027-01-11T09:00:00+01:00", made=made_late)
    b5 = await _book(harness, "2027-01-11T09:30:00+01:00", made=made_late)
    b6 = await _book(harness, "2027-01-11T10:00:00+01:00", made=made_late, services=["a", "b"])
    await _book(harness, "2027-01-12T08:00:00+01:00", made=made_late)  # another day of the same week
    await _cancel(harness, b5, when=datetime(2027, 1, 6, 9, 0, tzinfo=UTC))
    await _cancel(harness, b6, when=at("07:00"))

    async def step(when: str, action: Any) -> Any:
        harness.clock.set(at(when))
        answer = await action
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    a1 = await step("07:55", desk.check_in(b1["code"]))
    await step("08:02", desk.walk_in("a"))
    await step("08:03", desk.walk_in("b"))
    first = await step("08:05", desk.call_next("Schalter 1"))
    assert first["id"] == a1["id"]
    second = await step("08:06", desk.call_next("Schalter 2"))
    await step("08:14", desk.ticket_action(first["id"], "complete"))
    await step("08:16", desk.check_in(b2["code"]))
    await step("08:20", desk.ticket_action(second["id"], "complete"))
    third = await step("08:21", desk.call_next("Schalter 1"))
    await step("08:25", desk.check_in(b3["code"]))
    await step("08:49", desk.ticket_action(third["id"], "complete"))
    fourth = await step("08:50", desk.call_next("Schalter 1"))
    await step("08:55", desk.ticket_action(fourth["id"], "no-show"))
    await step("08:58", desk.check_in(b4["code"]))
    for minute in ("09:05", "09:06", "09:20"):
        await step(minute, desk.walk_in("a"))
    fifth = await step("09:07", desk.call_next("Schalter 2"))
    await step("09:12", desk.ticket_action(fifth["id"], "complete"))
    sixth = await step("09:13", desk.call_next("Schalter 1"))
    await step("09:31", desk.ticket_action(sixth["id"], "complete"))
    seventh = await step("09:32", desk.call_next("Schalter 2"))
    await step("09:45", desk.ticket_action(seventh["id"], "no-show"))
    await step("10:10", desk.call_next("Schalter 2"))  # still at the counter when the figures are read

    async with harness.session() as session:  # the dispatcher's outcomes, decided here
        due_today = (OutboxMessage.due_at >= at("00:00"), OutboxMessage.due_at < at("23:59"))
        ids = list(await session.scalars(select(OutboxMessage.id).where(*due_today).order_by(OutboxMessage.id)))
        assert len(ids) >= 6, len(ids)
        for status, chosen in (("sent", ids[0:3]), ("delivered", ids[3:4]), ("failed", ids[4:5]), ("dead", ids[5:6])):
            await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(chosen)).values(status=status))
        await session.commit()
    harness.clock.set(CLOSING + timedelta(minutes=30))
    return desk


def _nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[math.ceil(fraction * len(ordered)) - 1], 1)


async def _expected(harness: Harness, office_id: int) -> dict[str, Any]:
    """Every figure of the day, computed by plain loops over the rows."""
    start, end = datetime(2027, 1, 10, 23, 0, tzinfo=UTC), datetime(2027, 1, 11, 23, 0, tzinfo=UTC)
    async with harness.session() as session:
        all_bookings = list(await session.scalars(select(Booking).where(Booking.office_id == office_id)))
        tickets = list(await session.scalars(select(Ticket).where(Ticket.office_id == office_id, Ticket.day == DAY)))
        items = list(await session.execute(select(TicketService.ticket_id, TicketService.service_id)))
        events = list(await session.scalars(select(BookingEvent)))
        messages = [
            m
            for m in await session.scalars(select(OutboxMessage).where(OutboxMessage.office_id == office_id))
            if start <= m.due_at < end
        ]
        counters = list(await session.scalars(select(CounterRow).where(CounterRow.office_id == office_id)))
    bookings = [b for b in all_bookings if start <= b.start_at < end]
    statuses = Counter(b.status for b in bookings)
    expected: dict[str, Any] = {
        "bookings": sum(1 for b in bookings if b.status not in ("pending", "expired")),
        "bookings_by_status": dict(statuses),
        "visits": len(tickets),
    }
    online = sum(1 for t in tickets if t.kind == "appointment")
    expected["online"] = (online, len(tickets))
    due = sum(1 for b in bookings if b.status in ("checked_in", "serving", "completed", "no_show"))
    expected["no_shows"] = (statuses["no_show"], due)

    waits: dict[int, list[float]] = defaultdict(list)
    for t in tickets:
        if t.called_at is not None:
            began = t.arrived_at if t.due_at is None or t.due_at < t.arrived_at else t.due_at
            waits[began.astimezone(BERLIN).hour].append(round(max((t.called_at - began).total_seconds(), 0) / 60, 1))
    every = [w for hour in waits.values() for w in hour]
    expected["waits"] = (len(every), round(statistics.median(every), 1), _nearest_rank(every, 0.9))
    expected["by_hour"] = {
        hour: (len(v), round(statistics.median(v), 1), _nearest_rank(v, 0.9)) for hour, v in waits.items()
    }

    services_of: dict[int, list[int]] = defaultdict(list)
    for ticket_id, service_id in items:
        services_of[ticket_id].append(service_id)
    service_times: dict[tuple[int, ...], list[float]] = defaultdict(list)
    for t in tickets:
        if t.status == "completed":
            service_times[tuple(services_of[t.id])].append(round((t.finished_at - t.called_at).total_seconds() / 60, 1))
    expected["service_times"] = {
        k: (len(v), round(statistics.fmean(v), 1), round(statistics.median(v), 1)) for k, v in service_times.items()
    }

    open_minutes = 4 * 60.0  # 08:00-12:00, read after closing
    expected["counters"] = {}
    for counter in counters:
        mine = [t for t in tickets if t.counter_id == counter.id and t.status in ("completed", "no_show")]
        busy = round(sum((t.finished_at - t.called_at).total_seconds() for t in mine) / 60, 1)
        expected["counters"][counter.name] = (len(mine), busy, round(busy / open_minutes, 4))

    made = [b for b in all_bookings if start <= b.created_at < end and b.status not in ("pending", "expired")]
    expected["within_14"] = (sum(1 for b in made if b.start_at - b.created_at <= timedelta(days=14)), len(made))

    cancelled = [b for b in bookings if b.status == "cancelled"]
    notices = []
    for b in cancelled:
        when = max(e.at for e in events if e.booking_id == b.id and e.to_status == "cancelled")
        notices.append(b.start_at - when)
    buckets = Counter(
        "under_1_day"
        if n < timedelta(days=1)
        else "1_to_3_days"
        if n < timedelta(days=3)
        else "3_to_7_days"
        if n < timedelta(days=7)
        else "over_7_days"
        for n in notices
    )
    expected["cancellations"] = (len(cancelled), Counter(b.cancel_reason for b in cancelled), buckets)
    expected["messages"] = {
        channel: (
            sum(1 for m in messages if m.channel == channel and m.status in ("sent", "delivered")),
            sum(1 for m in messages if m.channel == channel and m.status in ("failed", "dead")),
        )
        for channel in ("email", "sms")
    }
    return expected


async def test_every_figure_of_a_seeded_day_equals_the_database(harness: Harness) -> None:
    desk = await _seed(harness)
    office_id = await _office_id(harness)
    expected = await _expected(harness, office_id)

    answer = await harness.client.get("/api/v1/offices/amt/figures?period=day&date=2027-01-11", headers=desk.headers)
    assert answer.status_code == 200, answer.text
    got = answer.json()

    assert got["first_day"] == got["last_day"] == "2027-01-11"
    assert got["bookings"] == expected["bookings"] == 6  # cancelled ones included; one more on the 12th
    assert got["bookings_by_status"] == expected["bookings_by_status"]
    assert expected["bookings_by_status"]["cancelled"] == 2 and expected["bookings_by_status"]["no_show"] == 1
    assert got["visits"] == expected["visits"]
    assert (got["online"]["count"], got["online"]["total"]) == expected["online"]
    assert got["online"]["share"] == round(expected["online"][0] / expected["online"][1], 4)
    assert (got["no_shows"]["count"], got["no_shows"]["total"]) == expected["no_shows"]
    waits = got["waits"]
    assert (waits["tickets"], waits["median_minutes"], waits["p90_minutes"]) == expected["waits"]
    assert {h["hour"]: (h["tickets"], h["median_minutes"], h["p90_minutes"]) for h in waits["by_hour"]} == expected[
        "by_hour"
    ]
    assert set(expected["by_hour"]) == {8, 9}
    slugs = await _service_slugs(harness)
    assert {
        tuple(s["services"]): (s["tickets"], s["mean_minutes"], s["median_minutes"]) for s in got["service_times"]
    } == {tuple(slugs[i] for i in k): v for k, v in expected["service_times"].items()}
    assert {c["counter"]: (c["tickets"], c["busy_minutes"], c["utilisation"]) for c in got["counters"]} == expected[
        "counters"
    ]
    assert all(c["open_minutes"] == 240.0 for c in got["counters"])
    within = got["booked_within_14_days"]
    assert (within["count"], within["total"]) == expected["within_14"] == (0, 0)
    cancellations = got["cancellations"]
    total, reasons, buckets = expected["cancellations"]
    assert cancellations["total"] == total == 2
    assert cancellations["by_reason"] == dict(reasons)
    assert {b["key"]: b["count"] for b in cancellations["by_notice"] if b["count"]} == dict(buckets)
    assert dict(buckets) == {"under_1_day": 1, "3_to_7_days": 1}
    assert {m["channel"]: (m["sent"], m["failed"]) for m in got["messages"]} == expected["messages"]
    assert sum(m["sent"] for m in got["messages"]) == 4 and sum(m["failed"] for m in got["messages"]) == 2
    # Right after closing, the first free slot of service a is tomorrow's (one of them is booked).
    assert {n["service"]: n["days"] for n in got["next_free"]} == await _first_free_days(harness, ["a", "b", "c"])

    csv_answer = await harness.client.get(
        "/api/v1/offices/amt/figures.csv?period=day&date=2027-01-11", headers=desk.headers
    )
    assert csv_answer.status_code == 200 and csv_answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_answer.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(csv_answer.text)))
    value = {(r["section"], r["item"], r["measure"]): r["value"] for r in table}
    assert value["bookings", "", "total"] == str(expected["bookings"])
    assert value["waits", "all", "p90_minutes"] == str(expected["waits"][2])
    assert value["no_shows", "", "count"] == str(expected["no_shows"][0])


async def test_week_and_month_cover_their_days(harness: Harness) -> None:
    desk = await _seed(harness)
    day = (await harness.client.get("/api/v1/offices/amt/figures?date=2027-01-11", headers=desk.headers)).json()
    week = (
        await harness.client.get("/api/v1/offices/amt/figures?period=week&date=2027-01-14", headers=desk.headers)
    ).json()
    month = (
        await harness.client.get("/api/v1/offices/amt/figures?period=month&date=2027-01-30", headers=desk.headers)
    ).json()
    december = (
        await harness.client.get("/api/v1/offices/amt/figures?period=month&date=2026-12-01", headers=desk.headers)
    ).json()

    assert (week["first_day"], week["last_day"]) == ("2027-01-11", "2027-01-17")
    assert (month["first_day"], month["last_day"]) == ("2027-01-01", "2027-01-31")
    assert week["bookings"] == month["bookings"] == day["bookings"] + 1  # the booking on the 12th
    assert week["visits"] == day["visits"]
    # Bookings made in December (two, 22 days ahead) and in January (five, 7 days ahead; one of them cancelled
    # later still counts as made).
    assert (december["booked_within_14_days"]["count"], december["booked_within_14_days"]["total"]) == (0, 2)
    assert december["median_lead_days"] == 21.9
    assert (month["booked_within_14_days"]["count"], month["booked_within_14_days"]["total"]) == (5, 5)


async def test_figures_and_audit_are_for_the_office_staff_only(harness: Harness) -> None:
    desk = await _seed(harness)
    other = await staff_token(harness, "elsewhere", role="admin", offices=("zwei",))
    for path in ("/api/v1/offices/amt/figures", "/api/v1/offices/amt/figures.csv", "/api/v1/offices/amt/audit"):
        anonymous = await harness.client.get(path)
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthorized"
        foreign = await harness.client.get(path, headers={"Authorization": f"Bearer {other}"})
        assert foreign.status_code == 403 and foreign.json()["code"] == "forbidden"
    bad = await harness.client.get("/api/v1/offices/amt/figures?period=year", headers=desk.headers)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_input"
    bad_day = await harness.client.get("/api/v1/offices/amt/figures?date=2027-13-01", headers=desk.headers)
    assert bad_day.status_code == 400
    unknown = await harness.client.get("/api/v1/offices/nowhere/figures", headers=desk.headers)
    assert unknown.status_code == 404


async def test_the_audit_trail_lists_who_did_what(harness: Harness) -> None:
    desk = await _seed(harness)
    harness.clock.set(at("11:00"))
    chef = {"Authorization": f"Bearer {await staff_token(harness, 'chef', role='admin')}"}
    closure = await harness.client.post(
        "/api/v1/offices/amt/closures",
        json={"start": "2027-01-20T08:00:00+01:00", "end": "2027-01-20T12:00:00+01:00", "reason": "Versammlung"},
        headers=chef,
    )
    assert closure.status_code in (200, 201), closure.text

    answer = await harness.client.get("/api/v1/offices/amt/audit?date=2027-01-11", headers=desk.headers)
    assert answer.status_code == 200, answer.text
    entries = answer.json()["entries"]
    times = [e["at"] for e in entries]
    assert times == sorted(times, reverse=True)
    kinds = Counter(e["kind"] for e in entries)
    assert kinds["closure"] == 1 and kinds["ticket"] > 0 and kinds["booking"] > 0
    closure_entry = next(e for e in entries if e["kind"] == "closure")
    assert closure_entry["actor"] == "chef" and "2027-01-20 08:00" in closure_entry["detail"]
    called = [e for e in entries if e["kind"] == "ticket" and e["to_status"] == "called"]
    assert {e["actor"] for e in called} == {"desk"}
    assert any("Schalter 2" in e["detail"] for e in called)
    # The cancellation by the citizen on the morning of the day is there, the one five days ahead is not.
    cancellations = [e for e in entries if e["kind"] == "booking" and e["to_status"] == "cancelled"]
    assert len(cancellations) == 1
    mine = await harness.client.get("/api/v1/offices/amt/audit?date=2027-01-11&actor=desk", headers=desk.headers)
    assert {e["actor"] for e in mine.json()["entries"]} == {"desk"}


async def _office_id(harness: Harness) -> int:
    async with harness.session() as session:
        office_id = await session.scalar(select(Office.id).where(Office.slug == "amt"))
    assert office_id is not None
    return office_id


async def _service_slugs(harness: Harness) -> dict[int, str]:
    async with harness.session() as session:
        return {row.id: row.slug for row in await session.scalars(select(Service))}


async def _first_free_days(harness: Harness, services: list[str]) -> dict[str, int]:
    """Day by day through the public availability API until a slot is free."""
    today = harness.clock.now().astimezone(BERLIN).date()
    found = {}
    for service in services:
        for offset in range(60):
            day = today + timedelta(days=offset)
            answer = await harness.client.get(
                f"/api/v1/offices/amt/availability?services={service}&date={day.isoformat()}"
            )
            if answer.status_code == 200 and answer.json()["slots"]:
                found[service] = offset
                break
    return found
