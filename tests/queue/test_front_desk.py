"""The front desk through the HTTP API: check-in, walk-ins, the call order and what counters do with tickets."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from rathaus.booking.models import BookingEvent
from rathaus.notify.models import OutboxMessage
from rathaus.queue.models import TicketEvent
from tests.conftest import Harness
from tests.factories import booking_body
from tests.queue.helpers import Desk, queue_config, two_offices
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio


async def test_walk_ins_get_consecutive_numbers_positions_and_estimates(harness: Harness) -> None:
    desk = await Desk.open(harness, queue_config(counters=[{"name": "Schalter 1", "services": ["a", "b"]}]))

    first = await desk.walk_in("a")
    second = await desk.walk_in("b", phone="0151 23456789", language="en")
    third = await desk.walk_in("a")

    assert first.status_code == 201, first.text
    tickets = [first.json(), second.json(), third.json()]
    assert [t["number"] for t in tickets] == ["W-001", "W-002", "W-003"]
    assert [t["position"] for t in tickets] == [1, 2, 3]
    # One counter: 15 minutes for A, then 30 for B before the third can be called.
    assert [t["estimated_wait_minutes"] for t in tickets] == [0, 15, 45]
    assert tickets[0]["status"] == "waiting" and tickets[0]["ticket_url"].endswith(tickets[0]["public_id"])
    listing = await desk.queue()
    assert [t["number"] for t in listing["waiting"]] == ["W-001", "W-002", "W-003"]
    assert listing["walk_in_wait_minutes"] == 60


async def test_a_caseworker_who_only_phones_or_meets_by_video_shortens_no_wait_in_the_office(
    harness: Harness,
) -> None:
    remote = {"name": "Videoberatung", "services": ["a", "b"], "modes": ["phone", "video"]}
    desk = await Desk.open(harness, queue_config(counters=[{"name": "Schalter 1", "services": ["a", "b"]}, remote]))

    tickets = [(await desk.walk_in("a")).json(), (await desk.walk_in("a")).json()]

    # One counter sees people: the second waits for the first, and a newcomer for both.
    assert [t["estimated_wait_minutes"] for t in tickets] == [0, 15]
    assert (await desk.queue())["walk_in_wait_minutes"] == 30


async def test_a_counter_that_only_phones_or_meets_by_video_calls_nobody_in(harness: Harness) -> None:
    remote = {"name": "Videoberatung", "services": ["a", "b"], "modes": ["phone", "video"]}
    desk = await Desk.open(harness, queue_config(counters=[{"name": "Schalter 1", "services": ["a", "b"]}, remote]))
    waiting = (await desk.walk_in("a")).json()

    refused = await desk.call_next("Videoberatung")

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "counter_not_on_site"
    assert "Videoberatung" in refused.json()["detail"]
    [still] = (await desk.queue())["waiting"]
    assert (still["id"], still["status"]) == (waiting["id"], "waiting")  # nothing changed
    assert (await desk.call_next("Schalter 1")).json()["id"] == waiting["id"]


async def test_check_in_on_time_late_repeated_and_refused(harness: Harness) -> None:
    desk = await Desk.open(harness)
    on_time = await desk.book("2027-01-11T08:15:00+01:00")
    late = await desk.book("2027-01-11T08:00:00+01:00", email="late@example.org")
    tomorrow = await desk.book("2027-01-12T09:00:00+01:00", email="t@example.org")
    harness.clock.advance(timedelta(minutes=12))  # 08:12: 08:00 is 12 minutes late, grace is 10

    checked = await desk.check_in(on_time.lower())
    assert checked.status_code == 201, checked.text
    assert checked.json()["number"] == "A-001" and checked.json()["late"] is False
    scanned = await desk.check_in(f"https://rathaus.example/b/{late}")  # what a QR scanner types
    assert scanned.json()["number"] == "A-002" and scanned.json()["late"] is True
    again = await desk.check_in(on_time)
    assert again.status_code == 201 and again.json()["id"] == checked.json()["id"]

    other_day = await desk.check_in(tomorrow)
    assert other_day.status_code == 409 and "12.01.2027" in other_day.json()["detail"]
    unknown = await desk.check_in("ZZZZZZZZ")
    assert unknown.status_code == 404

    async with harness.session() as session:
        actions = (await session.scalars(select(BookingEvent.to_status).order_by(BookingEvent.id))).all()
    assert actions.count("checked_in") == 2


async def test_check_in_for_another_office_names_it(harness: Harness) -> None:
    desk = await Desk.open(harness, two_offices())
    code = await desk.book("2027-01-11T09:00:00+01:00")
    both = Desk(harness, await staff_token(harness, "both", role="desk", offices=("amt", "zwei")))

    answer = await both.post("/api/v1/offices/zwei/queue/check-in", {"code": code})

    assert answer.status_code == 409 and "Testamt" in answer.json()["detail"]


async def test_an_appointment_due_now_is_called_before_walk_ins_who_came_earlier(harness: Harness) -> None:
    desk = await Desk.open(harness)
    code = await desk.book("2027-01-11T10:00:00+01:00")
    harness.clock.advance(timedelta(hours=1, minutes=30))  # 09:30
    early_walk_ins = [(await desk.walk_in("a")).json()["number"] for _ in range(2)]
    harness.clock.advance(timedelta(minutes=25))  # 09:55: checks in five minutes early
    appointment = (await desk.check_in(code)).json()

    before_due = await desk.call_next("Schalter 1")
    assert before_due.json()["number"] == early_walk_ins[0]  # not due yet: the walk-in goes first
    await desk.ticket_action(before_due.json()["id"], "complete")
    harness.clock.advance(timedelta(minutes=5))  # 10:00: the appointment is due
    due = await desk.call_next("Schalter 1")

    assert due.status_code == 200, due.text
    assert due.json()["number"] == appointment["number"] == "A-001"
    assert due.json()["status"] == "called" and due.json()["counter"] == "Schalter 1"
    later = await desk.call_next("Schalter 2")
    assert later.json()["number"] == early_walk_ins[1]


async def test_a_late_appointment_past_the_grace_period_waits_in_arrival_order(harness: Harness) -> None:
    desk = await Desk.open(harness)
    code = await desk.book("2027-01-11T09:00:00+01:00")
    harness.clock.advance(timedelta(hours=1, minutes=5))  # 09:05
    walk_in = (await desk.walk_in("a")).json()
    harness.clock.advance(timedelta(minutes=10))  # 09:15: fifteen minutes late, grace is ten
    late = (await desk.check_in(code)).json()
    assert late["late"] is True

    first = await desk.call_next()
    second = await desk.call_next("Schalter 2")

    assert [first.json()["number"], second.json()["number"]] == [walk_in["number"], late["number"]]


async def test_a_counter_never_calls_a_ticket_for_a_service_it_does_not_serve(harness: Harness) -> None:
    desk = await Desk.open(harness)
    b_ticket = (await desk.walk_in("b")).json()

    refused = await desk.call_next("Schalter 2")  # serves only A
    assert refused.status_code == 404 and "Schalter 2" in refused.json()["detail"]
    a_ticket = (await desk.walk_in("a")).json()
    assert (await desk.call_next("Schalter 2")).json()["number"] == a_ticket["number"]
    assert (await desk.call_next("Schalter 1")).json()["number"] == b_ticket["number"]


async def test_counter_actions_are_recorded_and_move_the_booking(harness: Harness) -> None:
    desk = await Desk.open(harness)
    code = await desk.book("2027-01-11T08:15:00+01:00")
    harness.clock.advance(timedelta(minutes=15))
    ticket = (await desk.check_in(code)).json()
    walk_in = (await desk.walk_in("a")).json()

    called = (await desk.call_next("Schalter 1")).json()
    assert called["id"] == ticket["id"]
    busy = await desk.call_next("Schalter 1")
    assert busy.status_code == 409 and "A-001" in busy.json()["detail"]
    recalled = await desk.ticket_action(ticket["id"], "recall")
    assert recalled.status_code == 200 and recalled.json()["status"] == "called"
    harness.clock.advance(timedelta(minutes=12))
    done = await desk.ticket_action(ticket["id"], "complete")
    assert done.json()["status"] == "completed"
    again = await desk.ticket_action(ticket["id"], "complete")
    assert again.status_code == 409 and "A-001" in again.json()["detail"]

    absent = (await desk.call_next("Schalter 1")).json()
    assert absent["id"] == walk_in["id"]
    assert (await desk.ticket_action(absent["id"], "no-show")).json()["status"] == "no_show"

    async with harness.session() as session:
        ticket_actions = (
            await session.execute(
                select(TicketEvent.action, TicketEvent.actor, TicketEvent.at).order_by(TicketEvent.id)
            )
        ).all()
        booking_steps = (await session.scalars(select(BookingEvent.to_status).order_by(BookingEvent.id))).all()
    assert [a for a, _, _ in ticket_actions] == ["issue", "issue", "call", "recall", "completed", "call", "no_show"]
    assert {actor for _, actor, _ in ticket_actions} == {"desk"}
    assert list(booking_steps)[-3:] == ["checked_in", "serving", "completed"]


async def test_transfer_to_another_counter_or_service_goes_ahead_of_new_arrivals(harness: Harness) -> None:
    desk = await Desk.open(harness)
    first = (await desk.walk_in("a")).json()
    second = (await desk.walk_in("a")).json()
    called = (await desk.call_next("Schalter 2")).json()
    assert called["id"] == first["id"]

    moved = await desk.ticket_action(first["id"], "transfer", {"services": ["b"], "counter": "Schalter 1"})

    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "waiting" and moved.json()["services"] == ["b"]
    assert (await desk.call_next("Schalter 1")).json()["id"] == first["id"]
    assert (await desk.call_next("Schalter 2")).json()["id"] == second["id"]
    nowhere = await desk.ticket_action(second["id"], "transfer", {"counter": "Schalter 9"})
    assert nowhere.status_code == 404
    unable = await desk.ticket_action(second["id"], "transfer", {"services": ["b"], "counter": "Schalter 2"})
    assert unable.status_code == 422
    empty = await desk.ticket_action(second["id"], "transfer", {})
    assert empty.status_code == 422


async def test_public_ticket_shows_position_and_no_personal_data(harness: Harness) -> None:
    desk = await Desk.open(harness)
    code = await desk.book("2027-01-11T08:15:00+01:00", phone="+4915123456789")
    await desk.walk_in("a")
    ticket = (await desk.check_in(code)).json()

    answer = await harness.client.get(f"/api/v1/tickets/{ticket['public_id']}?lang=en")

    assert answer.status_code == 200
    body = answer.json()
    assert body["number"] == "A-001" and body["position"] == 2 and body["services"] == ["Service A"]
    assert set(body) == {
        "number",
        "status",
        "position",
        "estimated_wait_minutes",
        "counter",
        "office",
        "office_name",
        "services",
        "called_at",
    }
    assert "Erika" not in answer.text and "4915123456789" not in answer.text and code not in answer.text
    assert (await harness.client.get("/api/v1/tickets/not-a-ticket")).status_code == 404


async def test_citizens_who_left_a_number_get_an_sms_when_their_turn_nears_and_when_called(harness: Harness) -> None:
    desk = await Desk.open(harness, queue_config(counters=[{"name": "Schalter 1", "services": ["a", "b"]}]))
    for _ in range(4):
        await desk.walk_in("a")
    mine = (await desk.walk_in("a", phone="0151 23456789", language="en")).json()  # four ahead; policy says three

    first = (await desk.call_next()).json()
    await desk.ticket_action(first["id"], "complete")
    async with harness.session() as session:
        kinds = (await session.scalars(select(OutboxMessage.kind))).all()
    assert kinds == ["turn_near"]
    for _ in range(3):
        called = (await desk.call_next()).json()
        await desk.ticket_action(called["id"], "complete")
    assert (await desk.call_next()).json()["id"] == mine["id"]

    async with harness.session() as session:
        messages = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(m.kind, m.recipient, m.language) for m in messages] == [
        ("turn_near", "+4915123456789", "en"),
        ("called", "+4915123456789", "en"),
    ]
    assert messages[0].payload["ahead"] == 3 and messages[1].payload["counter_name"] == "Schalter 1"


async def test_a_cancelled_booking_is_not_checked_in(harness: Harness) -> None:
    desk = await Desk.open(harness)
    now = harness.clock.now()
    harness.clock.set(datetime(2027, 1, 4, 12, 0, tzinfo=UTC))
    booked = (await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-11T09:00:00+01:00"))).json()
    auth = {"Authorization": f"Bearer {booked['manage_token']}"}
    assert (await harness.client.post(f"/api/v1/bookings/{booked['code']}/cancel", headers=auth)).status_code == 200
    harness.clock.set(now)

    refused = await desk.check_in(booked["code"])

    assert refused.status_code == 409 and refused.json()["code"] == "booking_not_active"
    assert "cancelled" in refused.json()["detail"]
    assert (await desk.queue())["waiting"] == []


async def test_a_finished_tickets_page_says_how_it_ended(harness: Harness) -> None:
    desk = await Desk.open(harness)
    ticket = (await desk.walk_in("a")).json()
    called = (await desk.call_next()).json()
    await desk.ticket_action(called["id"], "complete")

    answer = await harness.client.get(f"/api/v1/tickets/{ticket['public_id']}?lang=en")
    page = await harness.client.get(f"/tickets/{ticket['public_id']}?lang=en")

    assert answer.json()["status"] == "completed" and answer.json()["position"] is None
    assert "Done. Thank you for your visit!" in page.text
