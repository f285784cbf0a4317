"""Registering and confirming wishes, booking and cancelling, and reading offers, through the API."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.notify.models import OutboxMessage
from rathaus.offices.config import Config
from rathaus.tokens import unseal
from rathaus.waitlist.models import Offer
from tests.conftest import TEST_SECRET, Harness
from tests.factories import booking_body, make_config

DAY = "2027-01-11"  # the Monday of DEFAULT_NOW
NINE = "2027-01-11T09:00:00+01:00"


def two_offices(**office: Any) -> Config:
    """The factory's office "amt" and a second one, "amt2", offering the same services."""
    config = make_config(**office)
    first = config.offices[0]
    second = msgspec.structs.replace(first, slug="amt2", name={"de": "Zweites Amt", "en": "Second office"})
    return msgspec.structs.replace(config, offices=[first, second])


def wish_body(**extra: Any) -> dict[str, Any]:
    """A wish for service a at "amt" on the Monday, 09:00-10:00, by e-mail."""
    body: dict[str, Any] = {
        "services": ["a"],
        "offices": ["amt"],
        "first_day": DAY,
        "last_day": DAY,
        "name": "Max Wartend",
        "email": "max@example.org",
        "windows": [{"weekdays": ["mon"], "start": "09:00:00", "end": "10:00:00"}],
    }
    body.update(extra)
    return body


def auth(answer: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer['manage_token']}"}


async def code_sent(harness: Harness, kind: str, recipient: str) -> str:
    """The latest verification code in the outbox for this recipient."""
    async with harness.session() as s:
        row = await s.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kind, OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id.desc())
        )
    assert row is not None
    return str(row.payload["code"])


async def register(harness: Harness, **extra: Any) -> dict[str, Any]:
    """Register and confirm a wish; the answer carries its manage token."""
    created = await harness.client.post("/api/v1/wishes", json=wish_body(**extra))
    assert created.status_code == 201, created.text
    wish: dict[str, Any] = created.json()
    recipient = wish["email"] if wish["channel"] == "email" else wish["phone"]
    code = await code_sent(harness, "wish_verification", recipient)
    confirmed = await harness.client.post(
        f"/api/v1/wishes/{wish['code']}/confirm", json={"verification_code": code}, headers=auth(wish)
    )
    assert confirmed.status_code == 200, confirmed.text
    return {**confirmed.json(), "manage_token": wish["manage_token"]}


async def book(harness: Harness, start: str = NINE, **extra: Any) -> dict[str, Any]:
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(start, **extra))
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def cancel(harness: Harness, booking: dict[str, Any]) -> None:
    answer = await harness.client.post(f"/api/v1/bookings/{booking['code']}/cancel", headers=auth(booking))
    assert answer.status_code == 200, answer.text


async def free_starts(harness: Harness, day: str = DAY, office: str = "amt") -> list[str]:
    answer = await harness.client.get(f"/api/v1/offices/{office}/availability?services=a&date={day}")
    assert answer.status_code == 200, answer.text
    return [s["start"] for s in answer.json()["slots"]]


async def offers(harness: Harness) -> list[Offer]:
    async with harness.session() as s:
        return list((await s.scalars(select(Offer).order_by(Offer.id))).all())


async def offer_token(harness: Harness, offer_id: int) -> str:
    """The offer's link token, from the message the outbox holds for it."""
    async with harness.session() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"offer:{offer_id}"))
    assert row is not None
    token = unseal(str(row.payload["sealed_offer_token"]), TEST_SECRET)
    assert token is not None
    return token


async def booking_status(harness: Harness, booking_id: int) -> str:
    async with harness.session() as s:
        return str(await s.scalar(select(Booking.status).where(Booking.id == booking_id)))
