"""Waiting-list messages through the outbox: the wish's code, the offer with its one-click link, the booking."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from rathaus.notify.dispatcher import Dispatcher
from tests.conftest import Harness
from tests.factories import make_config
from tests.notify.fakes import SmtpServer, TwilioFake
from tests.waitlist.helpers import auth, book, cancel, wish_body

pytestmark = pytest.mark.anyio


def _plain(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


async def test_an_offer_by_email_links_to_a_one_click_acceptance(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer
) -> None:
    h = notify_harness
    await h.load(make_config())
    taken = await book(h, email="holder@example.org")
    created = (await h.client.post("/api/v1/wishes", json=wish_body(language="en"))).json()
    await dispatcher.dispatch()
    [verification] = [m for m in smtp.parsed() if m["To"] == "max@example.org"]
    assert verification["Subject"].startswith("Your code for the waiting list: ")
    code = re.search(r"(\d{6})$", verification["Subject"])
    assert code is not None and code.group(1) in _plain(verification)
    confirmed = await h.client.post(
        f"/api/v1/wishes/{created['code']}/confirm", json={"verification_code": code.group(1)}, headers=auth(created)
    )
    assert confirmed.status_code == 200

    await cancel(h, taken)
    await dispatcher.dispatch()
    [offer] = [m for m in smtp.parsed() if m["To"] == "max@example.org" and "for you" in m["Subject"]]
    assert offer["Subject"] == "An appointment for you: Test office, Mon 11 Jan 2027, 09:00"
    text = _plain(offer)
    assert "held for you until Mon 11 Jan 2027, 08:00" in text
    link = next(line.strip() for line in text.splitlines() if "/offers/" in line)
    assert link.startswith("http://testserver/offers/")
    token = link.rsplit("/", 1)[1]

    accepted = await h.client.post(f"/api/v1/offers/{token}/accept")
    assert accepted.status_code == 200 and accepted.json()["booking"]["status"] == "confirmed"
    await dispatcher.dispatch()
    [confirmation] = [m for m in smtp.parsed() if m["To"] == "max@example.org" and "confirmed" in m["Subject"]]
    assert f"/bookings/{accepted.json()['booking']['code']}?token=" in _plain(confirmation)


async def test_an_offer_by_sms_carries_its_link(
    notify_harness: Harness, dispatcher: Dispatcher, twilio: TwilioFake
) -> None:
    h = notify_harness
    await h.load(make_config())
    taken = await book(h, email="holder@example.org")
    body = wish_body(channel="sms", phone="0151 23456789", email=None)
    created = (await h.client.post("/api/v1/wishes", json=body)).json()
    await dispatcher.dispatch()
    [verification] = twilio.sent
    assert verification.to == "+4915123456789" and "Warteliste" in verification.body
    code = re.match(r"(\d{6})", verification.body)
    assert code is not None
    await h.client.post(
        f"/api/v1/wishes/{created['code']}/confirm", json={"verification_code": code.group(1)}, headers=auth(created)
    )
    await cancel(h, taken)
    await dispatcher.dispatch()
    assert len(twilio.sent) == 1  # 07:00 is in the quiet hours: the offer goes out at 08:00
    h.clock.set(h.clock.now().replace(hour=7, minute=0))
    await dispatcher.dispatch()
    offer = twilio.sent[-1]
    assert "http://testserver/offers/" in offer.body and "reserviert" in offer.body
