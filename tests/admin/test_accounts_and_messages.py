"""Staff accounts, the reminder policy and failed messages on the admin pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rathaus.notify.models import NotifyEvent, OutboxMessage
from rathaus.offices.models import Office
from rathaus.staff.models import StaffSession, StaffUser
from tests.admin.helpers import csrf, sign_in_admin
from tests.conftest import Harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import PASSWORD

pytestmark = pytest.mark.anyio
ADMIN = "/staff/amt/admin"


async def test_an_admin_creates_disables_and_resets_accounts(harness: Harness) -> None:
    await harness.load(make_config())
    await sign_in_admin(harness, "clerk", role="desk")  # a clerk with a live session
    await sign_in_admin(harness, "leitung")
    page = await harness.client.get(f"{ADMIN}/staff")
    token = csrf(page)

    short = await harness.client.post(
        f"{ADMIN}/staff", data={"username": "neu", "password": "kurz", "_csrf_token": token}
    )
    assert short.status_code == 400 and "12" in short.text
    taken = await harness.client.post(
        f"{ADMIN}/staff", data={"username": "clerk", "password": PASSWORD, "role": "admin", "_csrf_token": token}
    )
    assert taken.status_code == 409
    created = await harness.client.post(
        f"{ADMIN}/staff",
        data={"username": "neu", "password": PASSWORD, "role": "desk", "_csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303
    async with harness.session() as s:
        users = {u.username: u for u in (await s.scalars(select(StaffUser))).all()}
        office_id = await s.scalar(select(Office.id).where(Office.slug == "amt"))
        clerk_sessions = await s.scalar(select(StaffSession.id).where(StaffSession.user_id == users["clerk"].id))
    assert users["clerk"].role == "desk" and "neu" in users and clerk_sessions is not None

    disabled = await harness.client.post(
        f"{ADMIN}/staff/{users['clerk'].id}/disable", data={"_csrf_token": token}, follow_redirects=False
    )
    assert disabled.status_code == 303
    async with harness.session() as s:
        assert (await s.get(StaffUser, users["clerk"].id)).active is False  # type: ignore[union-attr]
        assert await s.scalar(select(StaffSession.id).where(StaffSession.user_id == users["clerk"].id)) is None
    myself = await harness.client.post(f"{ADMIN}/staff/{users['leitung'].id}/disable", data={"_csrf_token": token})
    assert myself.status_code == 409

    promoted = await harness.client.post(
        f"{ADMIN}/staff/{users['neu'].id}/role",
        data={"role": "admin", "offices": [str(office_id)], "_csrf_token": token},
        follow_redirects=False,
    )
    assert promoted.status_code == 303
    async with harness.session() as s:
        assert (await s.get(StaffUser, users["neu"].id)).role == "admin"  # type: ignore[union-attr]


async def test_a_failed_message_is_sent_again_and_the_policy_is_set(harness: Harness) -> None:
    await harness.load(make_config())
    answer = await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-12T09:00:00+01:00"))
    assert answer.status_code == 201
    async with harness.session() as s:
        message = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirmation"))
        assert message is not None
        message.status, message.attempts, message.last_error = "dead", 8, "550 mailbox unavailable"
        message_id = message.id
        await s.commit()
    await sign_in_admin(harness)

    page = await harness.client.get(f"{ADMIN}/outbox")
    assert "550 mailbox unavailable" in page.text
    retried = await harness.client.post(
        f"{ADMIN}/outbox/{message_id}/retry", data={"_csrf_token": csrf(page)}, follow_redirects=False
    )
    assert retried.status_code == 303
    async with harness.session() as s:
        again = await s.get(OutboxMessage, message_id)
        assert again is not None and (again.status, again.attempts) == ("pending", 0)
        assert again.due_at == harness.clock.now()
        assert await s.scalar(select(NotifyEvent.detail).where(NotifyEvent.outbox_id == message_id)) == "by leitung"
    twice = await harness.client.post(f"{ADMIN}/outbox/{message_id}/retry", data={"_csrf_token": csrf(page)})
    assert twice.status_code == 409

    page = await harness.client.get(f"{ADMIN}/policy")
    form = {"offsets": "2880, 60", "quiet_start": "22:00", "quiet_end": "07:30", "turn_near_ahead": "2"}
    bad = await harness.client.post(f"{ADMIN}/policy", data={**form, "offsets": "0", "_csrf_token": csrf(page)})
    assert bad.status_code == 422
    saved = await harness.client.post(
        f"{ADMIN}/policy", data={**form, "_csrf_token": csrf(page)}, follow_redirects=False
    )
    assert saved.status_code == 303
    page = await harness.client.get(f"{ADMIN}/policy")
    assert 'value="2880, 60"' in page.text and 'value="22:00"' in page.text
