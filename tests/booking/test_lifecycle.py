"""The booking lifecycle through the API: idempotency, verification holds, reschedule, cancel, history, closures."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from rathaus.booking.models import Booking, SlotClaim
from rathaus.clock import ManualClock
from rathaus.notify.models import OutboxMessage
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
NINE = "2027-01-11T09:00:00+01:00"
TEN = "2027-01-11T10:00:00+01:00"


async def book(harness: Harness, start: str = NINE, **extra: Any) -> dict[str, Any]:
    answer = await harness.client.post("/api/v1/bookings", json=booking_body(start, **extra))
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def auth(booking: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {booking['manage_token']}"}


async def free_starts(harness: Harness, day: str = "2027-01-11") -> list[str]:
    answer = await harness.client.get(f"/api/v1/offices/amt/availability?services=a&date={day}")
    return [s["start"] for s in answer.json()["slots"]]


async def test_created_booking_has_code_token_and_history(harness: Harness) -> None:
    await harness.load(make_config())
    created = await book(harness)
    assert created["status"] == "confirmed"
    assert created["start"] == NINE and created["end"] == "2027-01-11T09:15:00+01:00"
    assert len(created["code"]) == 8 and len(created["manage_token"]) >= 32
    seen = (await harness.client.get(f"/api/v1/bookings/{created['code'].lower()}", headers=auth(created))).json()
    assert seen["manage_token"] is None  # shown once, at creation
    assert [(h["action"], h["to_status"]) for h in seen["history"]] == [("booking.created", "confirmed")]
    async with harness.session() as s:
        stored = await s.scalar(select(Booking))
        assert stored is not None and created["manage_token"] not in stored.token_hash
        kinds = (await s.scalars(select(OutboxMessage.kind))).all()
    assert kinds == ["confirmation"]


async def test_wrong_token_answers_exactly_like_an_unknown_booking(harness: Harness) -> None:
    await harness.load(make_config())
    created = await book(harness)
    wrong = await harness.client.get(f"/api/v1/bookings/{created['code']}", headers={"Authorization": "Bearer nope"})
    unknown = await harness.client.get("/api/v1/bookings/ZZZZZZZZ", headers=auth(created))
    missing = await harness.client.get(f"/api/v1/bookings/{created['code']}")
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.json() == unknown.json() == missing.json()
    by_query = await harness.client.get(f"/api/v1/bookings/{created['code']}?token={created['manage_token']}")
    assert by_query.status_code == 200


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(harness: Harness) -> None:
    await harness.load(make_config())
    key = {"Idempotency-Key": "4f9c1f7e-1111-4a2b-9c3d-000000000001"}
    first = await harness.client.post("/api/v1/bookings", json=booking_body(NINE), headers=key)
    again = await harness.client.post("/api/v1/bookings", json=booking_body(NINE), headers=key)
    other = await harness.client.post("/api/v1/bookings", json=booking_body(TEN), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"]
    assert again.json()["manage_token"] == first.json()["manage_token"]
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    async with harness.session() as s:
        assert await s.scalar(select(func.count()).select_from(Booking)) == 1


async def test_a_replay_after_the_slot_passed_still_returns_the_first_answer(harness: Harness) -> None:
    await harness.load(make_config())
    key = {"Idempotency-Key": "late-replay"}
    first = await harness.client.post("/api/v1/bookings", json=booking_body(NINE), headers=key)
    harness.clock.advance(timedelta(hours=5))  # 11:00 local: the 09:00 slot lies in the past
    again = await harness.client.post("/api/v1/bookings", json=booking_body(NINE), headers=key)
    assert again.status_code == 201 and again.json()["code"] == first.json()["code"]


async def test_taken_slot_is_a_409_and_disappears_from_availability(harness: Harness) -> None:
    await harness.load(make_config())
    await book(harness)
    assert NINE not in await free_starts(harness)
    second = await harness.client.post("/api/v1/bookings", json=booking_body(NINE, email="b@example.org"))
    assert second.status_code == 409 and second.json()["code"] == "slot_taken"


async def test_a_long_appointment_blocks_every_slot_it_overlaps(harness: Harness) -> None:
    await harness.load(make_config(buffer_minutes=5))
    await book(harness, services=["b"])  # 30 minutes + 5 buffer: 09:00-09:35 claims three 15-minute cells
    free = await free_starts(harness)
    for blocked in ("09:00", "09:15", "09:30"):
        assert f"2027-01-11T{blocked}:00+01:00" not in free
    assert "2027-01-11T09:45:00+01:00" in free
    # 08:45 + 15 minutes + the 5-minute buffer would reach into the 09:00 appointment.
    assert "2027-01-11T08:45:00+01:00" not in free and "2027-01-11T08:30:00+01:00" in free


async def test_cancel_frees_the_slot_and_is_idempotent(harness: Harness) -> None:
    await harness.load(make_config())
    created = await book(harness)
    first = await harness.client.post(f"/api/v1/bookings/{created['code']}/cancel", headers=auth(created))
    second = await harness.client.post(f"/api/v1/bookings/{created['code']}/cancel", headers=auth(created))
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "cancelled" and first.json()["ical_sequence"] == 1
    assert NINE in await free_starts(harness)
    move = await harness.client.post(
        f"/api/v1/bookings/{created['code']}/reschedule", json={"start": TEN}, headers=auth(created)
    )
    assert move.status_code == 409 and "cancelled" in move.json()["detail"]


async def test_reschedule_moves_atomically_and_keeps_the_old_slot_on_conflict(harness: Harness) -> None:
    await harness.load(make_config())
    mine = await book(harness)
    await book(harness, TEN, email="other@example.org")

    refused = await harness.client.post(
        f"/api/v1/bookings/{mine['code']}/reschedule", json={"start": TEN}, headers=auth(mine)
    )
    assert refused.status_code == 409
    kept = (await harness.client.get(f"/api/v1/bookings/{mine['code']}", headers=auth(mine))).json()
    assert kept["start"] == NINE and kept["ical_sequence"] == 0
    assert NINE not in await free_starts(harness)

    later = "2027-01-11T11:00:00+01:00"
    moved = await harness.client.post(
        f"/api/v1/bookings/{mine['code']}/reschedule", json={"start": later}, headers=auth(mine)
    )
    assert moved.status_code == 200 and moved.json()["start"] == later and moved.json()["ical_sequence"] == 1
    free = await free_starts(harness)
    assert NINE in free and later not in free


async def test_reschedule_by_one_slot_onto_its_own_cells(harness: Harness) -> None:
    await harness.load(make_config())
    mine = await book(harness, services=["b"])  # 09:00-09:30
    moved = await harness.client.post(
        f"/api/v1/bookings/{mine['code']}/reschedule", json={"start": "2027-01-11T09:15:00+01:00"}, headers=auth(mine)
    )
    assert moved.status_code == 200, moved.text
    async with harness.session() as s:
        assert await s.scalar(select(func.count()).select_from(SlotClaim)) == 2


async def verification_config() -> Any:
    return make_config(verification="email", hold_minutes=15)


async def pending_code(harness: Harness) -> str:
    async with harness.session() as s:
        message = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "verification"))
        assert message is not None and message.channel == "email"
        code: str = message.payload["code"]
        return code


async def test_verification_hold_confirms_with_the_code(harness: Harness) -> None:
    await harness.load(await verification_config())
    created = await book(harness)
    assert created["status"] == "pending" and created["hold_expires_at"] == "2027-01-11T07:15:00+01:00"
    assert NINE not in await free_starts(harness)  # held
    confirmed = await harness.client.post(
        f"/api/v1/bookings/{created['code']}/confirm",
        json={"verification_code": await pending_code(harness)},
        headers=auth(created),
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    harness.clock.advance(timedelta(hours=1))
    assert NINE not in await free_starts(harness)  # confirmed claims never expire


async def test_an_expired_hold_frees_the_slot_and_cannot_be_confirmed(harness: Harness) -> None:
    await harness.load(await verification_config())
    created = await book(harness)
    code = await pending_code(harness)
    harness.clock.advance(timedelta(minutes=16))
    assert NINE in await free_starts(harness)
    late = await harness.client.post(
        f"/api/v1/bookings/{created['code']}/confirm", json={"verification_code": code}, headers=auth(created)
    )
    assert late.status_code == 409 and late.json()["code"] == "hold_expired"
    taken_over = await harness.client.post("/api/v1/bookings", json=booking_body(NINE, email="next@example.org"))
    assert taken_over.status_code == 201, taken_over.text


async def test_wrong_codes_are_counted_and_the_fifth_releases_the_hold(harness: Harness) -> None:
    await harness.load(await verification_config())
    created = await book(harness)
    url = f"/api/v1/bookings/{created['code']}/confirm"
    for left in (4, 3, 2, 1):
        answer = await harness.client.post(
            url, json={"verification_code": "000000x"}, headers={**auth(created), "Accept-Language": "en"}
        )
        assert answer.status_code == 422 and f"{left} attempts left" in answer.json()["detail"]
    last = await harness.client.post(url, json={"verification_code": "000000x"}, headers=auth(created))
    assert last.status_code == 429 and last.json()["code"] == "too_many_attempts"
    assert int(last.headers["retry-after"]) > 0
    seen = (await harness.client.get(f"/api/v1/bookings/{created['code']}", headers=auth(created))).json()
    assert seen["status"] == "expired"
    assert NINE in await free_starts(harness)


async def test_staff_closure_cancels_the_bookings_inside_it(harness: Harness) -> None:
    await harness.load(make_config())
    inside = await book(harness)
    outside = await book(harness, "2027-01-11T11:00:00+01:00", email="x@example.org")
    token = await staff_token(harness, "leitung")
    closure = {
        "start": "2027-01-11T08:30:00+01:00",
        "end": "2027-01-11T10:30:00+01:00",
        "reason": "Stromausfall",
        "reason_en": "Power cut",
        "public": True,
    }

    answer = await harness.client.post(
        "/api/v1/offices/amt/closures", json=closure, headers={"Authorization": f"Bearer {token}"}
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["cancelled_bookings"] == [inside["code"]]
    cancelled = (await harness.client.get(f"/api/v1/bookings/{inside['code']}", headers=auth(inside))).json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "closure"
    assert cancelled["history"][-1]["action"] == "booking.cancelled.by_closure"
    assert cancelled["history"][-1]["actor"] == "leitung"
    still = (await harness.client.get(f"/api/v1/bookings/{outside['code']}", headers=auth(outside))).json()
    assert still["status"] == "confirmed"
    free = await free_starts(harness)
    assert [s[11:16] for s in free if "T08:" in s or "T09:" in s or "T10:" in s] == ["08:00", "08:15", "10:30", "10:45"]
    office = (await harness.client.get("/api/v1/offices/amt?lang=en")).json()
    assert [c["reason"] for c in office["upcoming_closures"]] == ["Power cut"]
    async with harness.session() as s:
        message = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "cancellation"))
        assert message is not None and message.payload["closure_reason_de"] == "Stromausfall"


@pytest.mark.parametrize(
    ("role", "offices", "status"),
    [("desk", ("amt",), 403), ("admin", ("other",), 403)],
)
async def test_closures_need_an_admin_of_that_office(
    harness: Harness, role: str, offices: tuple[str, ...], status: int
) -> None:
    config = make_config()
    config.offices.append(make_config().offices[0].__class__(**{**_fields(config.offices[0]), "slug": "other"}))
    await harness.load(config)
    token = await staff_token(harness, f"{role}-user", role=role, offices=offices)
    closure = {"start": "2027-01-12T08:00:00+01:00", "end": "2027-01-12T12:00:00+01:00", "reason": "x"}
    answer = await harness.client.post(
        "/api/v1/offices/amt/closures", json=closure, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == status
    anonymous = await harness.client.post("/api/v1/offices/amt/closures", json=closure)
    assert anonymous.status_code == 401


def _fields(struct: Any) -> dict[str, Any]:
    return {f: getattr(struct, f) for f in struct.__struct_fields__}


async def test_staff_login_refuses_wrong_passwords(harness: Harness) -> None:
    await harness.load(make_config())
    await staff_token(harness, "desk1", role="desk")
    wrong = await harness.client.post("/api/v1/auth/token", json={"username": "desk1", "password": "wrong"})
    nobody = await harness.client.post("/api/v1/auth/token", json={"username": "ghost", "password": "wrong"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json()


async def test_each_answer_names_its_own_office_and_services(harness: Harness) -> None:
    config = make_config()
    config.offices.append(config.offices[0].__class__(**{**_fields(config.offices[0]), "slug": "zweites"}))
    await harness.load(config)
    for office in ("amt", "zweites"):
        for day in ("2026-12-01", "2027-01-11"):  # a day outside the window and one inside it
            for services in ("a", "b", "a,b"):
                body = (
                    await harness.client.get(f"/api/v1/offices/{office}/availability?services={services}&date={day}")
                ).json()
                assert (body["office"], body["date"], ",".join(body["services"])) == (office, day, services)


async def test_one_client_cannot_hoard_slots(sqlite_url: str, clock: ManualClock) -> None:
    async with open_harness(sqlite_url, clock, booking_rate_limit_per_minute=3) as limited:
        await limited.load(make_config())
        answers = [
            await limited.client.post("/api/v1/bookings", json=booking_body(f"2027-01-11T{h}:00:00+01:00"))
            for h in ("08", "09", "10", "11")
        ]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        assert answers[3].json()["detail"].startswith("Zu viele Buchungen")
        assert answers[3].json()["code"] == "too_many_requests" and int(answers[3].headers["retry-after"]) > 0
        # Reading is never limited.
        assert (
            await limited.client.get("/api/v1/offices/amt/availability?services=a&date=2027-01-11")
        ).status_code == 200
