"""Operations that fail leave nothing, even when the caller catches the error and commits (a form handler does)."""

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from rathaus.booking import service
from rathaus.booking.deps import booking_context
from rathaus.booking.models import Booking, BookingEvent, IdempotentRequest, SlotClaim
from rathaus.errors import RathausError
from rathaus.notify.models import OutboxMessage
from tests.conftest import Harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio
NINE = "2027-01-11T09:00:00+01:00"
TABLES = (Booking, BookingEvent, SlotClaim, IdempotentRequest, OutboxMessage)


async def counts(harness: Harness) -> dict[str, int]:
    async with harness.session() as s:
        return {t.__name__: await s.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def request(**changes: Any) -> service.BookingRequest:
    body = booking_body(NINE, name="Max Mustermann", email="max@example.org")
    body.update(changes)
    return service.BookingRequest(
        office=body["office"],
        services=body["services"],
        start=datetime.fromisoformat(body["start"]),
        name=body["name"],
        email=body["email"],
    )


@pytest.mark.parametrize("idempotency_key", [None, "form-retry-1"])
async def test_a_caught_slot_taken_then_committed_writes_no_booking(
    harness: Harness, idempotency_key: str | None
) -> None:
    await harness.load(make_config())
    taken = await harness.client.post("/api/v1/bookings", json=booking_body(NINE))
    assert taken.status_code == 201
    before = await counts(harness)
    async with harness.session() as session:
        with pytest.raises(RathausError) as refused:
            await service.book(
                session,
                ctx=booking_context(harness.runtime),
                request=request(),
                idempotency_key=idempotency_key,
                now=harness.clock.now(),
            )
        await session.commit()  # what a handler does after showing the message next to the form
    assert refused.value.code == "slot_taken"
    assert await counts(harness) == before
    async with harness.session() as s:
        held_at_nine = (await s.scalars(select(Booking.code).where(Booking.status == "confirmed"))).all()
    assert held_at_nine == [taken.json()["code"]]


async def test_a_caught_error_keeps_only_what_the_operation_asked_to_keep(harness: Harness) -> None:
    await harness.load(make_config(verification="email"))
    held = (await harness.client.post("/api/v1/bookings", json=booking_body(NINE))).json()
    before = await counts(harness)
    async with harness.session() as session:
        with pytest.raises(RathausError) as wrong:
            await service.confirm(
                session,
                ctx=booking_context(harness.runtime),
                code=held["code"],
                token=held["manage_token"],
                verification_code="000000",
                now=harness.clock.now(),
            )
        await session.commit()
    assert wrong.value.code == "wrong_verification_code"
    assert await counts(harness) == before
    async with harness.session() as s:
        booking = await s.scalar(select(Booking))
    assert booking is not None and booking.verification_attempts == 1 and booking.status == "pending"
