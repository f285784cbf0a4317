"""Personal data is purged after the retention period, and a citizen can delete theirs at once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from rathaus.booking import service
from rathaus.booking.models import Booking
from rathaus.jobs import run_unit
from rathaus.notify.models import OutboxMessage, SmsOptOut
from tests.conftest import Harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio


async def test_purge_erases_names_and_contacts_after_retention(harness: Harness) -> None:
    await harness.load(make_config())
    past = await harness.client.post(
        "/api/v1/bookings", json=booking_body("2027-01-11T09:00:00+01:00", phone="0151 12345678")
    )
    later = await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-20T09:00:00+01:00"))
    assert past.status_code == later.status_code == 201

    harness.clock.advance(timedelta(days=30))
    purged = await run_unit(
        harness.runtime,
        lambda s: service.purge_personal_data(s, retention=timedelta(days=21), now=harness.clock.now()),
    )

    assert purged == 1
    async with harness.session() as s:
        rows = {b.code: b for b in (await s.scalars(select(Booking))).all()}
        gone = rows[past.json()["code"]]
        assert (gone.name, gone.email, gone.phone) == (None, None, None) and gone.purged_at is not None
        kept = rows[later.json()["code"]]
        assert kept.email == "erika@example.org" and kept.purged_at is None
        messages = (await s.scalars(select(OutboxMessage).where(OutboxMessage.booking_id == gone.id))).all()
        assert messages and all(m.recipient is None and m.payload == {} for m in messages)
    token = {"Authorization": f"Bearer {past.json()['manage_token']}"}
    assert (await harness.client.get(f"/api/v1/bookings/{past.json()['code']}", headers=token)).json()["name"] is None


async def test_citizen_deletes_their_data_and_the_slot_is_freed(harness: Harness) -> None:
    await harness.load(make_config())
    created = (await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-11T09:00:00+01:00"))).json()
    token = {"Authorization": f"Bearer {created['manage_token']}"}

    answer = await harness.client.delete(f"/api/v1/bookings/{created['code']}", headers=token)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert (answer.json()["name"], answer.json()["email"]) == (None, None)
    slots = (await harness.client.get("/api/v1/offices/amt/availability?services=a&date=2027-01-11")).json()["slots"]
    assert "2027-01-11T09:00:00+01:00" in [s["start"] for s in slots]
    wrong = await harness.client.delete(f"/api/v1/bookings/{created['code']}", headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 404


def test_every_personal_column_can_be_found() -> None:
    columns = {f"{t.name}.{c.name}" for t, cols in service.personal_columns().items() for c in cols}
    assert {"booking.name", "booking.email", "booking.phone", "outbox.recipient", "outbox.payload"} <= columns
    assert "sms_opt_out.phone" not in columns  # kept: an opt-out outlives the retention period


async def test_purge_keeps_sms_opt_outs(harness: Harness) -> None:
    await harness.load(make_config())
    async with harness.session() as s:
        s.add(SmsOptOut(phone="+4915112345678", created_at=harness.clock.now()))
        await s.commit()
    harness.clock.advance(timedelta(days=400))
    await run_unit(
        harness.runtime,
        lambda s: service.purge_personal_data(s, retention=timedelta(days=30), now=harness.clock.now()),
    )
    async with harness.session() as s:
        assert (await s.scalars(select(SmsOptOut.phone))).all() == ["+4915112345678"]
