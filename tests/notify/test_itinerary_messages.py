"""An itinerary's parts are confirmed in one message and reminded of in one message per day."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking, SlotClaim
from rathaus.notify.dispatcher import Dispatcher
from rathaus.notify.models import OutboxMessage
from rathaus.offices.config import read_config
from tests.calendar.clients import icaljs, utc
from tests.conftest import Harness
from tests.notify.fakes import SmtpServer, TwilioFake
from tests.web.test_booking_pages import csrf

pytestmark = pytest.mark.anyio
DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"
PHONE = "+4915112345678"


def itinerary(address: str, vehicle: str) -> dict[str, object]:
    return {
        "life_event": "nach-berlin-ziehen",
        "parts": [
            {"step": "adresse", "office": "mitte", "start": address},
            {"step": "fahrzeug", "office": "kfz", "start": vehicle},
        ],
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "phone": PHONE,
        "language": "en",
    }


async def test_one_confirmation_with_every_part_and_one_reminder_per_day(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path
) -> None:
    h = notify_harness
    await h.load(read_config(DEMO))
    same_day = itinerary("2027-01-13T09:00:00+01:00", "2027-01-13T10:00:00+01:00")
    created = (await h.client.post("/api/v1/itineraries", json=same_day)).json()
    codes = [p["code"] for p in created["parts"]]

    assert (await dispatcher.dispatch()).outcomes == {"sent": 2, "withdrawn": 2}  # one e-mail, one SMS
    [mail] = smtp.parsed()
    assert mail["Subject"].startswith("Appointment confirmed: Citizens' Office Mitte")
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    plain = body.get_content()
    assert "your appointments are booked." in plain
    assert all(code in plain for code in codes) and "Wed 13 Jan 2027, 10:00" in plain
    assert "Vehicle Registration Office Berlin, Jüterboger Straße 3" in plain
    assert plain.count(f"token={created['manage_token']}") == 2  # each part's manage link
    [attachment] = [p for p in mail.walk() if p.get_filename() == "termin.ics"]
    data = attachment.get_content()
    events = icaljs(data if isinstance(data, bytes) else data.encode(), tmp_path)
    assert {e["uid"] for e in events} == {f"booking-{code}@testserver" for code in codes}
    assert sorted(utc(e["startUTC"]) for e in events) == [
        datetime(2027, 1, 13, 8, 0, tzinfo=UTC),
        datetime(2027, 1, 13, 9, 0, tzinfo=UTC),
    ]
    [sms] = twilio.sent
    assert sms.to == PHONE and all(code in sms.body for code in codes)

    # The day before: one reminder per channel covers both appointments.
    h.clock.set(datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
    assert (await dispatcher.dispatch()).outcomes == {"sent": 2, "withdrawn": 2}
    reminder = smtp.parsed()[-1]
    text = reminder.get_body(preferencelist=("plain",))
    assert isinstance(text, EmailMessage)
    assert "reminder of your appointments" in text.get_content()
    assert all(code in text.get_content() for code in codes)
    async with h.session() as s:
        rows = (await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))).all()
    merged = [r for r in rows if r.status == "withdrawn"]
    assert {r.booking_id for r in merged} == {r.booking_id for r in rows} - {min(r.booking_id for r in rows)}


async def test_a_part_cancelled_alone_leaves_the_next_part_to_remind_of_the_day(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer
) -> None:
    h = notify_harness
    await h.load(read_config(DEMO))
    created = (
        await h.client.post(
            "/api/v1/itineraries", json=itinerary("2027-01-13T09:00:00+01:00", "2027-01-13T10:00:00+01:00")
        )
    ).json()
    await dispatcher.dispatch()
    first, second = created["parts"]
    auth = {"Authorization": f"Bearer {created['manage_token']}"}
    assert (await h.client.post(f"/api/v1/bookings/{first['code']}/cancel", headers=auth)).status_code == 200
    await dispatcher.dispatch()  # the cancellation of the first part
    h.clock.set(datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
    assert (await dispatcher.dispatch()).outcomes == {"sent": 2}
    reminder = smtp.parsed()[-1].get_body(preferencelist=("plain",))
    assert isinstance(reminder, EmailMessage)
    assert second["code"] in reminder.get_content() and first["code"] not in reminder.get_content()


async def test_an_itinerary_form_without_javascript_is_held_until_one_emailed_code_confirms_every_part(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer
) -> None:
    """No proof of work from the form (no JavaScript): the parts are held together, one e-mail carries the code
    for all, and the itinerary's page confirms them all; a wrong code is refused with what is left."""
    h = notify_harness
    await h.load(read_config(DEMO))
    plan = await h.client.get("/life-events/nach-berlin-ziehen/plan")
    choice = re.search(r'name="choice" value="([^"]+)"', plan.text)
    assert choice is not None
    form = await h.client.get("/book/itinerary", params={"event": "nach-berlin-ziehen", "choice": choice.group(1)})
    fields = {"event": "nach-berlin-ziehen", "choice": choice.group(1), "name": "Erika Mustermann"}
    fields |= {"email": "erika@example.org", "language": "en", "_csrf_token": csrf(form), "altcha": ""}
    held = await h.client.post("/book/itinerary", data=fields, follow_redirects=False)
    assert held.status_code == 303
    page = await h.client.get(held.headers["location"], headers={"Accept-Language": "en"})
    assert "Your appointments are reserved" in page.text and 'action="/itineraries/' in page.text
    async with h.session() as s:
        parts = (await s.scalars(select(Booking))).all()
    assert len(parts) == 2 and {b.status for b in parts} == {"pending"}
    assert len({b.hold_expires_at for b in parts}) == 1

    assert (await dispatcher.dispatch()).outcomes == {"sent": 1, "withdrawn": 1}  # one code for both parts
    [mail] = smtp.parsed()
    code = re.search(r"(\d{6})", str(mail["Subject"]))
    assert code is not None
    action = held.headers["location"].split("?")[0] + "/confirm"
    token = held.headers["location"].split("token=")[1].split("&")[0]
    confirm = {"token": token, "_csrf_token": csrf(page)}
    wrong = await h.client.post(action, data={**confirm, "verification_code": "000000"})
    assert wrong.status_code == 422 and 'id="verification_code-error"' in wrong.text
    done = await h.client.post(action, data={**confirm, "verification_code": code.group(1)}, follow_redirects=False)
    assert done.status_code == 303
    async with h.session() as s:
        parts = (await s.scalars(select(Booking).execution_options(populate_existing=True))).all()
        claims = (await s.scalars(select(SlotClaim))).all()
    assert {b.status for b in parts} == {"confirmed"} and {c.expires_at for c in claims} == {None}
