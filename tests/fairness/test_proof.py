"""The proof of work (ALTCHA) before a booking or a wish: refused without a valid, unexpired, unused solution, from
the API and the forms alike, with nothing created; a solution spent on one instance is spent on all. A form sent
with no solution at all (no JavaScript) is held until the citizen confirms their contact with a code."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.fairness.jobs import prune_spent_proofs
from rathaus.fairness.models import SpentProof
from rathaus.notify.models import OutboxMessage
from rathaus.waitlist.models import Wish
from tests.altcha_client import solved
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config
from tests.waitlist.helpers import wish_body
from tests.waitlist.test_pages import _form
from tests.web.test_booking_pages import contact_form, contact_page, csrf

pytestmark = pytest.mark.anyio

NINE = "2027-01-11T09:00:00+01:00"
TEN = "2027-01-11T10:00:00+01:00"


async def count(harness: Harness, model: Any) -> int:
    async with harness.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def forged(payload: str) -> str:
    """The payload with another derived key: what a client sends that did not do the work."""
    data = json.loads(base64.b64decode(payload))
    data["solution"]["derivedKey"] = "00" * 32
    return base64.b64encode(json.dumps(data).encode()).decode()


async def test_the_challenge_endpoint_is_documented_and_signed(harness: Harness) -> None:
    answer = await harness.client.get("/api/v1/altcha/challenge")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    challenge = answer.json()
    assert challenge["parameters"]["algorithm"] == "SHA-256" and challenge["signature"]
    assert challenge["parameters"]["expiresAt"] == int((harness.clock.now() + timedelta(minutes=30)).timestamp())
    schema = (await harness.client.get("/schema/openapi.json")).json()
    assert "/api/v1/altcha/challenge" in schema["paths"]
    assert "altcha" in schema["components"]["schemas"]["BookingCreate"]["properties"]


@pytest.mark.parametrize(
    ("altcha", "code"),
    [("", "altcha_missing"), ("not base64 at all", "altcha_invalid"), ("forged", "altcha_invalid")],
)
async def test_a_booking_without_a_valid_solution_is_refused(harness: Harness, altcha: str, code: str) -> None:
    await harness.load(make_config())
    if altcha == "forged":
        altcha = forged(await solved(harness.client))
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(NINE, altcha=altcha))
    assert answer.status_code == 422 and answer.json()["code"] == code, answer.text
    assert "robot" in answer.json()["detail"].lower() or "robot" in answer.json()["detail"]
    assert await count(harness, Booking) == 0 and await count(harness, SpentProof) == 0


async def test_a_solution_is_accepted_once_on_any_instance(db_url: str, clock: ManualClock) -> None:
    async with open_harness(db_url, clock) as first, open_harness(db_url, clock) as second:
        await first.load(make_config())
        payload = await solved(first.client)
        booked = await first.client.post("/api/v1/bookings", json=booking_body(NINE, altcha=payload))
        assert booked.status_code == 201, booked.text
        for instance in (first, second):
            again = await instance.client.post(
                "/api/v1/bookings", json=booking_body(TEN, email="bot@example.org", altcha=payload)
            )
            assert again.status_code == 422 and again.json()["code"] == "altcha_used"
        assert await count(first, Booking) == 1


async def test_a_replay_under_the_first_idempotency_key_gets_the_first_answer(harness: Harness) -> None:
    await harness.load(make_config())
    body = booking_body(NINE, altcha=await solved(harness.client))
    first = await harness.client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k1"})
    replay = await harness.client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and replay.status_code in {200, 201}
    assert replay.json()["code"] == first.json()["code"]
    other_key = await harness.client.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "k2"})
    assert other_key.status_code == 422 and other_key.json()["code"] == "altcha_used"
    assert await count(harness, Booking) == 1


async def test_an_expired_solution_is_refused_and_pruned(harness: Harness) -> None:
    await harness.load(make_config())
    stale = await solved(harness.client)
    spent = await solved(harness.client)
    assert (await harness.client.post("/api/v1/bookings", json=booking_body(NINE, altcha=spent))).status_code == 201
    harness.clock.advance(timedelta(minutes=31))
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(TEN, altcha=stale))
    assert answer.status_code == 422 and answer.json()["code"] == "altcha_expired"
    assert await count(harness, SpentProof) == 1
    await prune_spent_proofs(harness.runtime)
    assert await count(harness, SpentProof) == 0


async def test_a_wish_without_a_solution_is_refused(harness: Harness) -> None:
    await harness.load(make_config())
    answer = await harness.client.post("/api/v1/wishes", json=wish_body(altcha=""))
    assert answer.status_code == 422 and answer.json()["code"] == "altcha_missing"
    assert await count(harness, Wish) == 0


@pytest.mark.parametrize(("language", "words"), [("de", "Prüfung gegen Roboter"), ("en", "check against robots")])
async def test_the_booking_form_with_a_wrong_solution_shows_why(harness: Harness, language: str, words: str) -> None:
    await harness.load(make_config())
    page = await contact_page(harness, **{"Accept-Language": language})
    assert "<altcha-widget" in page.text and 'name="altcha"' in page.text
    payload = await solved(harness.client)
    form = contact_form(page, altcha=forged(payload))
    answer = await harness.client.post("/book/contact", data=form, headers={"Accept-Language": language})
    assert answer.status_code == 422 and 'id="altcha-error"' in answer.text
    assert words in answer.text and 'href="#altcha"' in answer.text
    assert await count(harness, Booking) == 0
    # The widget solves again on the form shown anew; with a solution the same form books.
    booked = await harness.client.post("/book/contact", data={**form, "altcha": payload}, follow_redirects=False)
    assert booked.status_code == 303
    # A solution sent twice (replayed) is refused too: a form that carries one is no form without JavaScript.
    again = await harness.client.post("/book/contact", data={**form, "altcha": payload, "idempotency_key": ""})
    assert again.status_code == 422 and 'id="altcha-error"' in again.text
    assert await count(harness, Booking) == 1


@pytest.mark.parametrize("verification", ["off", "sms"])
async def test_the_booking_form_without_a_solution_is_held_and_a_code_is_sent(
    harness: Harness, verification: str
) -> None:
    """No solution at all: the browser ran no JavaScript. The booking is held and a code goes to the e-mail
    address even where the office verifies none (or by SMS, where it verifies by SMS)."""
    await harness.load(make_config(verification=verification))
    page = await contact_page(harness)
    form = {**contact_form(page, altcha=""), "phone": "0151 23456789"}
    answer = await harness.client.post("/book/contact", data=form, follow_redirects=False)
    assert answer.status_code == 303
    async with harness.session() as s:
        [booking] = (await s.scalars(select(Booking))).all()
    assert booking.status == "pending" and booking.hold_expires_at is not None
    assert booking.verification_code_hash is not None
    channel = "email" if verification == "off" else "sms"
    async with harness.session() as s:
        [message] = (await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "verification"))).all()
    assert message.channel == channel
    assert await count(harness, SpentProof) == 0


async def test_the_api_without_a_solution_is_refused_as_before(harness: Harness) -> None:
    await harness.load(make_config())
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(NINE, altcha=""))
    assert answer.status_code == 422 and answer.json()["code"] == "altcha_missing"
    assert await count(harness, Booking) == 0


async def test_the_wish_form_without_a_solution_waits_for_the_code(harness: Harness) -> None:
    await harness.load(make_config())
    page = await harness.client.get("/wishes/new?services=a&office=amt")
    assert "<altcha-widget" in page.text
    answer = await harness.client.post("/wishes", data=_form(csrf(page), altcha=""), follow_redirects=False)
    assert answer.status_code == 303
    async with harness.session() as s:
        [wish] = (await s.scalars(select(Wish))).all()
    assert wish.status == "unverified"
    wrong = await harness.client.post("/wishes", data=_form(csrf(page), altcha="forged"))
    assert wrong.status_code == 422 and 'id="altcha-error"' in wrong.text


async def test_switched_off_nothing_is_asked(sqlite_url: str, clock: ManualClock) -> None:
    async with open_harness(sqlite_url, clock, altcha=False) as h:
        await h.load(make_config())
        answer = await h.client.post("/api/v1/bookings", json=booking_body(NINE, altcha=""))
        assert answer.status_code == 201
        assert "<altcha-widget" not in (await contact_page(h)).text
