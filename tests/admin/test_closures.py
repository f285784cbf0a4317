"""Declaring a closure on the admin pages: the preview lists exactly the bookings it cancels, and their messages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.notify.models import OutboxMessage
from tests.admin.helpers import csrf, sign_in_admin
from tests.conftest import Harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio
ADMIN = "/staff/amt/admin"
CLOSURE = {"start_date": "2027-01-11", "start_time": "08:30", "end_time": "10:30", "reason_de": "Stromausfall"}


async def book(harness: Harness, start: str, **extra: Any) -> str:
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(start, **extra))
    assert answer.status_code == 201, answer.text
    code: str = answer.json()["code"]
    return code


async def cancellations(harness: Harness) -> list[tuple[str, str]]:
    async with harness.session() as s:
        rows = (
            await s.execute(
                select(Booking.code, OutboxMessage.channel)
                .join(Booking, Booking.id == OutboxMessage.booking_id)
                .where(OutboxMessage.kind == "cancellation")
                .order_by(Booking.code, OutboxMessage.channel)
            )
        ).all()
    return [(code, channel) for code, channel in rows]


async def test_preview_lists_exactly_the_bookings_declaring_cancels(harness: Harness) -> None:
    await harness.load(make_config())
    nine = await book(harness, "2027-01-11T09:00:00+01:00")
    ten = await book(harness, "2027-01-11T10:00:00+01:00", email="x@example.org", phone="+4915112345678", language="en")
    eleven = await book(harness, "2027-01-11T11:00:00+01:00", email="y@example.org")
    await sign_in_admin(harness)
    page = await harness.client.get(f"{ADMIN}/closures")

    preview = await harness.client.post(
        f"{ADMIN}/closures/preview", data={**CLOSURE, "public": "on", "_csrf_token": csrf(page)}
    )

    assert preview.status_code == 200, preview.text
    assert nine in preview.text and ten in preview.text and eleven not in preview.text
    assert "Stromausfall" in preview.text  # the reason, as the cancellation message says it
    assert "Power cut" not in preview.text
    async with harness.session() as s:
        statuses = dict((await s.execute(select(Booking.code, Booking.status))).all())
    assert statuses == {nine: "confirmed", ten: "confirmed", eleven: "confirmed"}  # nothing happened yet
    assert await cancellations(harness) == []

    declared = await harness.client.post(
        f"{ADMIN}/closures", data={**CLOSURE, "public": "on", "_csrf_token": csrf(preview)}, follow_redirects=False
    )

    assert declared.status_code == 303 and declared.headers["location"].endswith("declared=2")
    async with harness.session() as s:
        statuses = dict((await s.execute(select(Booking.code, Booking.status))).all())
    assert statuses == {nine: "cancelled", ten: "cancelled", eleven: "confirmed"}
    assert await cancellations(harness) == sorted([(nine, "email"), (ten, "email"), (ten, "sms")])


async def test_admin_pages_refuse_strangers_and_other_staff(harness: Harness) -> None:
    config = make_config()
    other = make_config().offices[0]
    other.slug = "other"
    config.offices.append(other)
    await harness.load(config)

    anonymous = await harness.client.get(f"{ADMIN}/closures", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/staff/sign-in")

    await sign_in_admin(harness, "desk-user", role="desk")
    assert (await harness.client.get(f"{ADMIN}/closures")).status_code == 403
    await sign_in_admin(harness, "elsewhere", offices=("other",))
    assert (await harness.client.get(f"{ADMIN}/closures")).status_code == 403
    assert (await harness.client.get("/staff/other/admin/closures")).status_code == 200

    await sign_in_admin(harness, "leitung")
    refused = await harness.client.post(f"{ADMIN}/closures", data=CLOSURE)
    assert refused.status_code == 403  # no CSRF token
