"""Video and phone appointments in the real messages: e-mail through aiosmtpd, SMS through the Twilio fake,
the calendar entry read back by ical.js and vobject; reminders carry the same link."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from rathaus.clock import ManualClock
from rathaus.notify.dispatcher import Dispatcher
from tests.calendar.clients import icaljs, vobject_events
from tests.conftest import Harness, open_harness
from tests.factories import booking_body
from tests.modes.helpers import START, VIDEO_TEMPLATE, modes_config
from tests.notify.fakes import SmtpServer, TwilioFake

pytestmark = pytest.mark.anyio

CITIZENS = [("erika@example.org", "+4915112345678"), ("max@example.org", "+4915112345679")]


@pytest.fixture
async def h(db_url: str, clock: ManualClock, smtp: SmtpServer, twilio: TwilioFake) -> AsyncIterator[Harness]:
    settings = {"smtp": smtp.settings(), "twilio": twilio.settings(), "video_url_template": VIDEO_TEMPLATE}
    async with open_harness(db_url, clock, **settings) as harness:
        await harness.load(modes_config())
        yield harness


@pytest.fixture
async def dispatcher(h: Harness) -> AsyncIterator[Dispatcher]:
    d = Dispatcher(h.runtime, worker_id="test-worker")
    yield d
    await d.channels.close()


async def book(h: Harness, email: str, phone: str, **extra: Any) -> dict[str, Any]:
    body = booking_body(START, services=["b"], email=email, phone=phone, language="en", **extra)
    answer = await h.client.post("/api/v1/bookings", json=body)
    assert answer.status_code == 201, answer.text
    booked: dict[str, Any] = answer.json()
    return booked


def mails_to(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [m for m in smtp.parsed() if m["To"] == address]


def plain(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    text: str = part.get_content()
    return text


def attached_calendar(mail: EmailMessage) -> bytes:
    [attachment] = [p for p in mail.walk() if p.get_filename() == "termin.ics"]
    payload = attachment.get_content()
    return payload if isinstance(payload, bytes) else payload.encode()


async def test_each_video_booking_has_its_own_link_in_email_sms_calendar_and_reminders(
    h: Harness, dispatcher: Dispatcher, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path
) -> None:
    booked = [await book(h, email, phone, mode="video") for email, phone in CITIZENS]
    links = [b["meeting_url"] for b in booked]
    assert len(set(links)) == 2 and all(link.startswith("https://meet.stadt.example/rathaus-") for link in links)
    assert (await dispatcher.dispatch()).outcomes == {"sent": 4}

    for (email, phone), booking, link in zip(CITIZENS, booked, links, strict=True):
        [mail] = mails_to(smtp, email)
        text = plain(mail)
        assert f"Join the video meeting: {link}" in text
        assert all(other not in text for other in links if other != link)
        html = mail.get_body(preferencelist=("html",))
        assert isinstance(html, EmailMessage) and f'href="{link}"' in html.get_content()
        [sms] = [s for s in twilio.sent if s.to == phone]
        assert f"Video meeting: {link}" in sms.body and booking["code"] in sms.body

        ics = attached_calendar(mail)
        [event] = icaljs(ics, tmp_path)
        assert event["conference"] == link and event["url"] == link
        assert link in event["location"] and link in event["description"]
        [vevent] = vobject_events(ics)
        assert vevent.conference.value == link
        assert vevent.conference.params["FEATURE"] == ["AUDIO", "VIDEO"]
        assert vevent.url.value == link and link in vevent.description.value

        download = await h.client.get(
            f"/api/v1/bookings/{booking['code']}/calendar.ics", params={"token": booking["manage_token"]}
        )
        assert download.status_code == 200
        [downloaded] = icaljs(download.content, tmp_path)
        assert downloaded["conference"] == link

    # The reminder a day ahead (Monday 09:00) carries the same link on both channels.
    h.clock.advance(timedelta(hours=2, minutes=1))
    assert (await dispatcher.dispatch()).outcomes == {"sent": 4}
    for (email, phone), link in zip(CITIZENS, links, strict=True):
        reminder = mails_to(smtp, email)[-1]
        assert reminder["Subject"].startswith("Reminder") and link in plain(reminder)
        assert link in [s for s in twilio.sent if s.to == phone][-1].body


async def test_a_phone_appointment_tells_the_number_we_call_and_sends_no_link(
    h: Harness, dispatcher: Dispatcher, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path
) -> None:
    email, phone = CITIZENS[0]
    booked = await book(h, email, phone, mode="phone", call_number="030 1234567")
    assert booked["meeting_url"] is None
    await dispatcher.dispatch()
    [mail] = mails_to(smtp, email)
    assert "Test office calls you on +49301234567" in plain(mail)
    assert "https://meet" not in plain(mail)
    [sms] = twilio.sent
    assert "We call you on +49301234567." in sms.body
    [event] = icaljs(attached_calendar(mail), tmp_path)
    assert event["conference"] is None and event["location"] == "Test office calls you on +49301234567"
