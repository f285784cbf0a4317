"""An itinerary's parts are confirmed in one message and reminded of in one message per day."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from rathaus.notify.dispatcher import Dispatcher
from rathaus.notify.models import OutboxMessage
from rathaus.offices.config import read_config
from tests.calendar.clients import icaljs, utc
from tests.conftest import Harness
from tests.notify.fakes import SmtpServer, TwilioFake

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
