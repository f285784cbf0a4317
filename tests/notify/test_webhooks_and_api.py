"""Twilio webhooks (signed with the real RequestValidator), the citizen's message history and the admin outbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from rathaus.notify.dispatcher import Dispatcher
from rathaus.notify.models import OutboxMessage, SmsOptOut
from tests.conftest import Harness
from tests.factories import make_config
from tests.notify.fakes import TWILIO_TOKEN, TwilioFake
from tests.notify.test_dispatch import PHONE, book, outbox
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio


async def post_signed(h: Harness, path: str, params: dict[str, str], *, token: str = TWILIO_TOKEN) -> Any:
    """POST as Twilio does: form-encoded, signed over the public URL and every parameter."""
    signature = RequestValidator(token).compute_signature(f"http://testserver{path}", params)
    return await h.client.post(path, data=params, headers={"X-Twilio-Signature": signature})


async def test_status_callbacks_move_forward_only_and_forged_ones_change_nothing(
    notify_harness: Harness, dispatcher: Dispatcher, twilio: TwilioFake
) -> None:
    h = notify_harness
    await h.load(make_config())
    await book(h, email=None, phone=PHONE)
    await dispatcher.dispatch()
    [row] = [r for r in await outbox(h) if r.kind == "confirmation"]
    path = f"/twilio/status?n={row.id}"
    receipt = {"MessageSid": row.provider_id or "", "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}

    forged = await post_signed(h, path, receipt, token="not-the-auth-token")
    unsigned = await h.client.post(path, data=receipt)
    assert forged.status_code == unsigned.status_code == 403
    [after] = [r for r in await outbox(h) if r.id == row.id]
    assert (after.status, after.provider_status) == ("sent", "queued")

    assert (await post_signed(h, path, {**receipt, "MessageStatus": "sent"})).status_code == 204
    assert (await post_signed(h, path, receipt)).status_code == 204
    # Late or repeated callbacks never move the status back nor add history.
    assert (await post_signed(h, path, {**receipt, "MessageStatus": "sent"})).status_code == 204
    assert (await post_signed(h, path, receipt)).status_code == 204
    [after] = [r for r in await outbox(h) if r.id == row.id]
    assert (after.status, after.provider_status) == ("delivered", "delivered")


async def test_message_history_for_the_citizen_and_outbox_for_admins(
    notify_harness: Harness, dispatcher: Dispatcher
) -> None:
    h = notify_harness
    await h.load(make_config())
    booking = await book(h, phone=PHONE)
    await dispatcher.dispatch()
    [sms] = [r for r in await outbox(h) if r.kind == "confirmation" and r.channel == "sms"]
    await post_signed(
        h, f"/twilio/status?n={sms.id}", {"MessageSid": sms.provider_id or "", "MessageStatus": "delivered"}
    )

    auth = {"Authorization": f"Bearer {booking['manage_token']}"}
    answer = await h.client.get(f"/api/v1/bookings/{booking['code']}/messages", headers=auth)
    assert answer.status_code == 200, answer.text
    messages = answer.json()
    by_kind = {(m["kind"], m["channel"]): m for m in messages}
    assert by_kind[("confirmation", "sms")]["status"] == "delivered"
    assert [e["status"] for e in by_kind[("confirmation", "sms")]["history"]] == ["sent", "delivered"]
    assert by_kind[("confirmation", "email")]["status"] == "sent"
    assert by_kind[("reminder", "email")]["status"] == "pending"
    assert "recipient" not in messages[0] and "payload" not in messages[0]
    wrong = await h.client.get(f"/api/v1/bookings/{booking['code']}/messages", headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 404

    admin = await staff_token(h, "admin1")
    desk = await staff_token(h, "desk1", role="desk")
    rows = await h.client.get("/api/v1/offices/amt/outbox", headers={"Authorization": f"Bearer {admin}"})
    assert rows.status_code == 200
    assert {r["status"] for r in rows.json()} == {"sent", "delivered", "pending"}
    assert all(set(r) >= {"attempts", "last_error"} and "recipient" not in r for r in rows.json())
    refused = await h.client.get("/api/v1/offices/amt/outbox", headers={"Authorization": f"Bearer {desk}"})
    assert refused.status_code == 403

    policy = {"reminder_offsets_minutes": [2880, 60], "quiet_start": "22:00", "quiet_end": "07:00"}
    put = await h.client.put(
        "/api/v1/offices/amt/notify-policy", json=policy, headers={"Authorization": f"Bearer {admin}"}
    )
    assert put.status_code == 200 and put.json()["reminder_offsets_minutes"] == [2880, 60]


async def test_stop_opts_out_start_opts_in_and_absagen_cancels_the_next_booking(
    notify_harness: Harness, dispatcher: Dispatcher, twilio: TwilioFake
) -> None:
    h = notify_harness
    await h.load(make_config())
    first = await book(h, phone=PHONE)
    later = await book(h, "2027-01-13T10:00:00+01:00", phone=PHONE)
    await dispatcher.dispatch()
    sent_before = len(twilio.sent)

    stop = await post_signed(h, "/twilio/inbound", {"From": PHONE, "Body": "Stop", "OptOutType": "STOP"})
    assert stop.status_code == 201 and "<Message>" not in stop.text
    async with h.session() as s:
        assert (await s.scalars(select(SmsOptOut.phone))).all() == [PHONE]
    h.clock.set(h.clock.now().replace(hour=8, minute=1))  # the SMS reminder for Tuesday is due
    stats = await dispatcher.dispatch()
    assert len(twilio.sent) == sent_before and stats.outcomes.get("dead", 0) >= 1
    dead = [r for r in await outbox(h) if r.status == "dead"]
    assert dead and all("opted out" in (r.last_error or "") for r in dead)

    start = await post_signed(h, "/twilio/inbound", {"From": PHONE, "Body": "START"})
    assert start.status_code == 201
    forged = await h.client.post("/twilio/inbound", data={"From": PHONE, "Body": "ABSAGEN"})
    assert forged.status_code == 403

    cancel = await post_signed(h, "/twilio/inbound", {"From": PHONE, "Body": "ABSAGEN"})
    assert cancel.status_code == 201 and cancel.headers["content-type"].startswith("application/xml")
    assert "ist abgesagt" in cancel.text
    seen = await h.client.get(
        f"/api/v1/bookings/{first['code']}", headers={"Authorization": f"Bearer {first['manage_token']}"}
    )
    assert seen.json()["status"] == "cancelled"
    kept = await h.client.get(
        f"/api/v1/bookings/{later['code']}", headers={"Authorization": f"Bearer {later['manage_token']}"}
    )
    assert kept.json()["status"] == "confirmed"
    async with h.session() as s:
        rows = (await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "cancellation"))).all()
    assert [r.channel for r in rows] == ["email"]  # the SMS reply is the confirmation on that channel
