"""Answering an offer by SMS: the offer SMS names the reply words, a signed reply accepts or declines it."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rathaus.notify.dispatcher import Dispatcher
from tests.conftest import Harness
from tests.factories import make_config
from tests.notify.fakes import TwilioFake
from tests.notify.test_dispatch import PHONE
from tests.notify.test_webhooks_and_api import post_signed
from tests.waitlist.helpers import NINE, auth, book, booking_status, cancel, free_starts, offers, register

pytestmark = pytest.mark.anyio
BERLIN = ZoneInfo("Europe/Berlin")


async def test_a_reply_ja_books_the_offered_slot_and_a_second_reply_finds_nothing_open(
    notify_harness: Harness, dispatcher: Dispatcher, twilio: TwilioFake
) -> None:
    h = notify_harness
    await h.load(make_config())
    taken = await book(h, email="holder@example.org")
    await register(h, channel="sms", email=None, phone=PHONE)
    await cancel(h, taken)
    [offer] = await offers(h)
    assert offer.channel == "sms"

    # 07:00 is in the SMS quiet hours (until 08:00): the offer goes out at 08:00 and holds the slot from then,
    # half the time left to the 09:00 appointment (not the hour it would have held from 07:00).
    await dispatcher.dispatch()
    assert not [s for s in twilio.sent if s.to == PHONE and "reserviert" in s.body]
    [offer] = await offers(h)
    assert offer.expires_at.astimezone(BERLIN).time() == time(8, 30)
    h.clock.set(h.clock.now().replace(hour=7, minute=0))  # 08:00 Berlin
    await dispatcher.dispatch()
    [sms] = [s for s in twilio.sent if s.to == PHONE and "reserviert" in s.body]
    assert "bis " in sms.body and "08:30" in sms.body
    assert "Antworten Sie JA zum Annehmen oder NEIN zum Weitergeben" in sms.body

    accepted = await post_signed(h, "/twilio/inbound", {"From": PHONE, "Body": " ja "})
    assert accepted.status_code == 201, accepted.text
    assert "ist gebucht" in accepted.text
    [offer] = await offers(h)
    assert offer.status == "accepted"
    assert await booking_status(h, offer.booking_id) == "confirmed"
    assert NINE not in await free_starts(h)

    again = await post_signed(h, "/twilio/inbound", {"From": PHONE, "Body": "JA"})
    assert "kein offenes Angebot" in again.text
    assert [o.status for o in await offers(h)] == ["accepted"]


async def test_nein_passes_the_slot_on_and_late_or_unrelated_replies_change_nothing(
    notify_harness: Harness, twilio: TwilioFake
) -> None:
    h = notify_harness
    await h.load(make_config())
    taken = await book(h, email="holder@example.org")
    await register(h, channel="sms", email=None, phone=PHONE, language="en")
    await register(h, email="next@example.org")
    forged = await h.client.post("/twilio/inbound", data={"From": PHONE, "Body": "NO"})
    assert forged.status_code == 403
    await cancel(h, taken)

    declined = await post_signed(h, "/twilio/inbound", {"From": PHONE, "Body": "No thanks"})
    assert "goes to the next person waiting" in declined.text
    first, second = await offers(h)
    assert (first.status, second.status) == ("declined", "open")
    assert await booking_status(h, first.booking_id) == "expired"
    assert NINE not in await free_starts(h)  # held for the next wish, never open in between

    # A stranger's number answers nothing; YES without an offer is Twilio's opt-in word and stays that.
    stranger = await post_signed(h, "/twilio/inbound", {"From": "+4915199999999", "Body": "JA"})
    assert "kein offenes Angebot" in stranger.text
    opt_in = await post_signed(h, "/twilio/inbound", {"From": PHONE, "Body": "YES", "OptOutType": "START"})
    assert opt_in.status_code == 201 and "<Message>" not in opt_in.text
    assert [o.status for o in await offers(h)] == ["declined", "open"]


async def test_a_reply_after_the_offer_ran_out_says_so_and_books_nothing(notify_harness: Harness) -> None:
    h = notify_harness
    await h.load(make_config())
    taken = await book(h, email="holder@example.org")
    await register(h, channel="sms", email=None, phone=PHONE)
    await cancel(h, taken)
    [offer] = await offers(h)
    h.clock.advance(offer.expires_at - h.clock.now() + timedelta(seconds=1))

    late = await post_signed(h, "/twilio/inbound", {"From": PHONE, "Body": "JA"})
    assert "abgelaufen" in late.text
    [offer] = await offers(h)
    assert offer.status == "open"  # the expiry job passes it on; the reply took nothing
    assert await booking_status(h, offer.booking_id) == "pending"  # still only held


async def test_an_sms_offer_that_could_only_arrive_after_the_quiet_hours_too_late_goes_to_the_next_wish(
    notify_harness: Harness,
) -> None:
    h = notify_harness
    await h.load(make_config())
    tuesday_eight = "2027-01-12T08:00:00+01:00"
    taken = await book(h, tuesday_eight, email="holder@example.org")
    wish = {
        "first_day": "2027-01-12",
        "last_day": "2027-01-12",
        "windows": [{"weekdays": ["tue"], "start": "08:00:00", "end": "09:00:00"}],
    }
    by_sms = await register(h, channel="sms", email=None, phone=PHONE, **wish)
    await register(h, email="next@example.org", **wish)
    h.clock.set(h.clock.now().replace(hour=22))  # Monday 23:00 Berlin: quiet until the appointment itself

    await cancel(h, taken)

    [offer] = await offers(h)
    assert offer.channel == "email" and offer.status == "open"
    seen = await h.client.get(f"/api/v1/wishes/{by_sms['code']}", headers=auth(by_sms))
    assert seen.json()["status"] == "active" and seen.json()["offer"] is None
