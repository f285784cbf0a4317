"""Outbox to real servers: e-mail to aiosmtpd (STARTTLS + AUTH), SMS to a Twilio fake through the official client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.jobs import run_unit
from rathaus.notify.dispatcher import Dispatcher
from rathaus.notify.models import NotifyEvent, OutboxMessage
from rathaus.notify.service import enqueue
from tests.conftest import Harness
from tests.factories import booking_body, make_config
from tests.notify.fakes import SmtpServer, TwilioFake

pytestmark = pytest.mark.anyio

PHONE = "+4915112345678"
START = "2027-01-12T09:00:00+01:00"  # Tuesday; the clock stands at Monday 07:00 Berlin


async def book(h: Harness, start: str = START, **extra: Any) -> dict[str, Any]:
    answer = await h.client.post("/api/v1/bookings", json=booking_body(start, **extra))
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _enqueue_called(session: AsyncSession, *, now: datetime, phone: str) -> None:
    enqueue(
        session,
        kind="called",
        channel="sms",
        recipient=phone,
        language="de",
        due_at=now,
        dedupe_key=f"called:test:{phone}",
        now=now,
        payload={"ticket_number": "A017", "counter_name": "Schalter 3", "office_name": "Testamt"},
    )


async def outbox(h: Harness) -> list[OutboxMessage]:
    async with h.session() as s:
        return list((await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def test_confirmation_email_has_text_html_qr_ics_and_a_working_manage_link(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer
) -> None:
    h = notify_harness
    await h.load(make_config())
    booking = await book(h, language="en")
    stats = await dispatcher.dispatch()
    assert stats.outcomes == {"sent": 1}
    [mail] = smtp.parsed()
    assert mail["To"] == "erika@example.org"
    assert mail["Subject"].startswith("Appointment confirmed: Test office")
    assert mail["Message-ID"].endswith("@rathaus.test>")
    assert mail.get_content_type() == "multipart/mixed"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    plain = text.get_content()
    assert booking["code"] in plain and "Tue 12 Jan 2027, 09:00" in plain
    link = next(line for line in plain.splitlines() if "/bookings/" in line).strip()
    assert link == f"http://testserver/bookings/{booking['code']}?token={booking['manage_token']}"
    token = link.split("token=")[1]
    seen = await h.client.get(f"/api/v1/bookings/{booking['code']}", headers={"Authorization": f"Bearer {token}"})
    assert seen.status_code == 200
    # The QR code is an inline PNG referenced from the HTML.
    parts = {p.get_content_type(): p for p in mail.walk()}
    png = parts["image/png"]
    assert png.get_content().startswith(b"\x89PNG") and f"cid:{png['Content-ID'].strip('<>')}" in html.get_content()
    calendars = [p for p in mail.walk() if p.get_content_type() in {"text/calendar", "application/ics"}]
    assert len(calendars) == 2
    assert calendars[0].get_param("method") == "REQUEST"
    assert calendars[1].get_filename() == "termin.ics"
    payload = calendars[1].get_content()
    cal = Calendar.from_ical(payload if isinstance(payload, bytes) else payload.encode())
    [event] = cal.walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(UTC) == utc(START)
    [row] = [r for r in await outbox(h) if r.kind == "confirmation"]
    assert row.status == "sent" and row.provider_id == mail["Message-ID"] and row.attempts == 1


async def test_reminders_planned_cancel_withdraws_reschedule_moves_quiet_hours_move_sms(
    notify_harness: Harness, dispatcher: Dispatcher
) -> None:
    h = notify_harness
    await h.load(make_config())
    booking = await book(h, phone=PHONE)
    reminders = {(r.channel, r.payload["offset_minutes"]): r for r in await outbox(h) if r.kind == "reminder"}
    assert {k: r.due_at for k, r in reminders.items()} == {
        ("email", 1440): utc("2027-01-11T09:00:00+01:00"),
        ("email", 120): utc("2027-01-12T07:00:00+01:00"),
        ("sms", 1440): utc("2027-01-11T09:00:00+01:00"),
        # 07:00 is inside the quiet hours (21:00-08:00): the SMS moves to 08:00 office time, it is not dropped.
        ("sms", 120): utc("2027-01-12T08:00:00+01:00"),
    }
    auth = {"Authorization": f"Bearer {booking['manage_token']}"}
    moved = await h.client.post(
        f"/api/v1/bookings/{booking['code']}/reschedule", json={"start": "2027-01-13T11:00:00+01:00"}, headers=auth
    )
    assert moved.status_code in {200, 201}, moved.text
    rows = await outbox(h)
    assert {r.status for r in rows if r.id in {x.id for x in reminders.values()}} == {"withdrawn"}
    new = sorted((r.channel, r.due_at) for r in rows if r.kind == "reminder" and r.status == "pending")
    assert new == [
        ("email", utc("2027-01-12T11:00:00+01:00")),
        ("email", utc("2027-01-13T09:00:00+01:00")),
        ("sms", utc("2027-01-12T11:00:00+01:00")),
        ("sms", utc("2027-01-13T09:00:00+01:00")),
    ]
    assert {r.kind for r in rows if r.status == "pending"} >= {"change", "reminder"}
    cancelled = await h.client.post(f"/api/v1/bookings/{booking['code']}/cancel", headers=auth)
    assert cancelled.status_code in {200, 201}
    rows = await outbox(h)
    assert [r for r in rows if r.kind == "reminder" and r.status == "pending"] == []
    # Nothing withdrawn goes out even when its time comes.
    h.clock.set(datetime(2027, 1, 13, 9, 0, tzinfo=UTC))
    stats = await dispatcher.dispatch()
    assert "reminder" not in {r.kind for r in await outbox(h) if r.status == "sent"}
    assert stats.outcomes.get("sent", 0) == len([r for r in rows if r.kind != "reminder" and r.status == "pending"])


async def test_due_reminder_goes_out_then_expires_once_the_appointment_began(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer
) -> None:
    h = notify_harness
    await h.load(make_config())
    await book(h)
    await dispatcher.dispatch()  # the confirmation
    h.clock.set(utc("2027-01-11T09:00:00+01:00"))
    assert (await dispatcher.dispatch()).outcomes == {"sent": 1}
    assert smtp.parsed()[-1]["Subject"].startswith("Erinnerung: Termin")
    h.clock.set(utc("2027-01-12T09:30:00+01:00"))  # the dispatcher was down past the appointment
    assert (await dispatcher.dispatch()).outcomes == {"expired": 1}
    assert len(smtp.parsed()) == 2


async def test_smtp_down_then_up_is_retried_with_backoff_and_attempts_recorded(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer
) -> None:
    h = notify_harness
    await h.load(make_config())
    smtp.stop()
    await book(h)
    assert (await dispatcher.dispatch()).outcomes == {"pending": 1}
    [row] = [r for r in await outbox(h) if r.kind == "confirmation"]
    assert row.status == "pending" and row.attempts == 1 and "SMTP unavailable" in (row.last_error or "")
    assert timedelta(seconds=15) <= row.due_at - h.clock.now() <= timedelta(seconds=30)
    assert (await dispatcher.dispatch()).claimed == 0  # not due yet: backoff, no hammering
    h.clock.advance(timedelta(seconds=31))
    assert (await dispatcher.dispatch()).outcomes == {"pending": 1}
    [row] = [r for r in await outbox(h) if r.kind == "confirmation"]
    assert row.attempts == 2 and timedelta(seconds=30) <= row.due_at - h.clock.now() <= timedelta(seconds=60)
    smtp.start()
    h.clock.advance(timedelta(minutes=2))
    assert (await dispatcher.dispatch()).outcomes == {"sent": 1}
    [row] = [r for r in await outbox(h) if r.kind == "confirmation"]
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None
    assert len(smtp.parsed()) == 1
    async with h.session() as s:
        history = (await s.scalars(select(NotifyEvent.status).where(NotifyEvent.outbox_id == row.id))).all()
    assert list(history) == ["retry", "retry", "sent"]


async def test_rejected_address_is_not_retried_and_falls_back_to_sms(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer, twilio: TwilioFake
) -> None:
    h = notify_harness
    await h.load(make_config())
    smtp.refuse.add("nobody@example.org")
    # No e-mail reminder yet, but an SMS contact: the bounced confirmation goes out as SMS.
    await book(h, email="nobody@example.org", phone=PHONE)
    stats = await dispatcher.dispatch()
    assert stats.outcomes == {"dead": 1, "sent": 1}
    rows = await outbox(h)
    [dead] = [r for r in rows if r.status == "dead"]
    assert dead.channel == "email" and dead.attempts == 1 and "550" in (dead.last_error or "")
    assert (await dispatcher.dispatch()).outcomes == {"sent": 1}  # the fallback SMS
    [fallback] = [r for r in await outbox(h) if r.dedupe_key.endswith(":fallback")]
    assert fallback.channel == "sms" and fallback.status == "sent"
    assert [s.to for s in twilio.sent] == [PHONE, PHONE]


async def test_twilio_500_is_retried_and_21211_is_not(
    notify_harness: Harness, dispatcher: Dispatcher, twilio: TwilioFake
) -> None:
    h = notify_harness
    await h.load(make_config(verification="off"))
    await book(h, email=None, phone=PHONE)
    twilio.fail_next.append(500)
    assert (await dispatcher.dispatch()).outcomes == {"pending": 1}
    [row] = [r for r in await outbox(h) if r.kind == "confirmation"]
    assert row.attempts == 1 and "Twilio 500" in (row.last_error or "")
    h.clock.advance(timedelta(minutes=1))
    assert (await dispatcher.dispatch()).outcomes == {"sent": 1}
    [row] = [r for r in await outbox(h) if r.kind == "confirmation"]
    assert row.status == "sent" and row.attempts == 2 and row.provider_id == twilio.sent[0].sid
    assert twilio.sent[0].status_callback == f"http://testserver/twilio/status?n={row.id}"
    assert twilio.sent[0].sender == "+15005550006" and len(twilio.sent[0].body) <= 160

    # Twilio's magic number for an invalid "To": 21211, permanent, tried exactly once. (Bookings refuse such
    # numbers, so the message is one the queue would write: "you are called".)
    now = h.clock.now()
    await run_unit(
        h.runtime,
        lambda s: _enqueue_called(s, now=now, phone="+15005550001"),
    )
    requests_before = twilio.requests
    assert (await dispatcher.dispatch()).outcomes == {"dead": 1}
    h.clock.advance(timedelta(hours=1))
    assert (await dispatcher.dispatch()).claimed == 0
    assert twilio.requests == requests_before + 1
    [dead] = [r for r in await outbox(h) if r.status == "dead"]
    assert dead.attempts == 1 and "21211" in (dead.last_error or "")
