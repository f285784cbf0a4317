"""Exclusive offers: freed capacity goes to one waiting wish at a time and never through open booking."""

from datetime import timedelta

import pytest

from rathaus.waitlist.jobs import expire_offers, offer_free_slots
from tests.conftest import Harness
from tests.factories import make_config
from tests.staff_helpers import staff_token
from tests.waitlist.helpers import (
    NINE,
    book,
    booking_status,
    cancel,
    free_starts,
    offer_token,
    offers,
    register,
    two_offices,
)

pytestmark = pytest.mark.anyio


async def test_a_cancellation_goes_to_the_first_wish_then_the_next_and_never_to_open_booking(
    harness: Harness,
) -> None:
    await harness.load(make_config())
    taken = await book(harness, email="holder@example.org")
    wishes = [await register(harness, email=f"wish{i}@example.org") for i in range(3)]
    assert [w["place"] for w in wishes] == [1, 2, 3]

    await cancel(harness, taken)

    made = await offers(harness)
    assert [(o.status, o.start_at.isoformat()) for o in made] == [("open", "2027-01-11T08:00:00+00:00")]
    first = made[0]
    assert NINE not in await free_starts(harness)
    seen = (await harness.client.get(f"/api/v1/wishes/{wishes[0]['code']}", headers=_auth(wishes[0]))).json()
    assert seen["offer"]["start"] == NINE
    # Held until half the time left (two hours to the slot, so one hour), not the 24 hours of an e-mail offer.
    assert first.expires_at - harness.clock.now() == timedelta(hours=1)

    harness.clock.advance(timedelta(hours=1))
    assert await expire_offers(harness.runtime) == 1

    made = await offers(harness)
    assert [o.status for o in made] == ["expired", "open"]
    second = made[1]
    assert second.wish_id != first.wish_id and second.start_at == first.start_at
    assert await booking_status(harness, first.booking_id) == "expired"
    assert NINE not in await free_starts(harness)

    token = await offer_token(harness, second.id)
    accepted = await harness.client.post(f"/api/v1/offers/{token}/accept")
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    assert body["booking"]["status"] == "confirmed" and body["booking"]["start"] == NINE
    assert body["booking"]["manage_token"]
    assert NINE not in await free_starts(harness)
    assert [o.status for o in await offers(harness)] == ["expired", "accepted"]
    again = await harness.client.post(f"/api/v1/offers/{token}/accept")
    assert again.status_code == 409
    wish = (await harness.client.get(f"/api/v1/wishes/{wishes[1]['code']}", headers=_auth(wishes[1]))).json()
    assert wish["status"] == "fulfilled"


def _auth(wish: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {wish['manage_token']}"}


async def test_a_declined_offer_goes_to_the_next_wish_at_once_and_the_decliner_keeps_waiting(
    harness: Harness,
) -> None:
    await harness.load(make_config())
    taken = await book(harness, email="holder@example.org")
    first = await register(harness, email="first@example.org")
    await register(harness, email="second@example.org")
    await cancel(harness, taken)
    [offer] = await offers(harness)

    declined = await harness.client.post(f"/api/v1/offers/{await offer_token(harness, offer.id)}/decline")

    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    made = await offers(harness)
    assert [o.status for o in made] == ["declined", "open"] and made[1].wish_id != offer.wish_id
    seen = (await harness.client.get(f"/api/v1/wishes/{first['code']}", headers=_auth(first))).json()
    assert seen["status"] == "active" and seen["offer"] is None
    # Declined, the slot is never offered to that wish again, even when it comes free once more.
    await harness.client.post(f"/api/v1/offers/{await offer_token(harness, made[1].id)}/decline")
    assert [o.status for o in await offers(harness)] == ["declined", "declined"]
    assert NINE in await free_starts(harness)  # nobody else waits: open booking gets it


async def test_no_wish_no_offer_and_the_slot_is_free_at_once(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness)
    await cancel(harness, taken)
    assert await offers(harness) == []
    assert NINE in await free_starts(harness)


async def test_a_wish_only_gets_slots_in_its_days_and_times(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness, "2027-01-11T11:00:00+01:00", email="holder@example.org")
    await register(harness)  # 09:00-10:00 only
    await cancel(harness, taken)
    assert await offers(harness) == []


async def test_offers_are_capped_per_wish_per_day(harness: Harness) -> None:
    await harness.load(make_config())
    wish = await register(harness, windows=[], first_day="2027-01-12", last_day="2027-01-13")
    starts = [f"2027-01-12T{h}:00:00+01:00" for h in ("08", "09", "10")]
    bookings = [await book(harness, start, email=f"b{i}@example.org") for i, start in enumerate(starts)]
    for booking in bookings:
        await cancel(harness, booking)
        made = await offers(harness)
        if made and made[-1].status == "open":
            await harness.client.post(f"/api/v1/offers/{await offer_token(harness, made[-1].id)}/decline")
    made = await offers(harness)
    assert len(made) == 2 and {o.wish_id for o in made} == {made[0].wish_id}  # the third slot found no taker
    assert "2027-01-12T10:00:00+01:00" in await free_starts(harness, "2027-01-12")
    seen = (await harness.client.get(f"/api/v1/wishes/{wish['code']}", headers=_auth(wish))).json()
    assert seen["status"] == "active"


async def test_one_person_never_holds_two_offers_for_the_same_service(harness: Harness) -> None:
    await harness.load(two_offices())
    await register(harness, offices=["amt"])
    await register(harness, offices=["amt2"])
    here = await book(harness, email="a@example.org")
    there = await book(harness, office="amt2", email="b@example.org")
    await cancel(harness, here)
    await cancel(harness, there)
    assert [o.status for o in await offers(harness)] == ["open"]
    assert NINE in await free_starts(harness, office="amt2")


async def test_the_sweep_offers_free_slots_to_waiting_wishes(harness: Harness) -> None:
    await harness.load(make_config())
    await register(harness, first_day="2027-01-12", last_day="2027-01-12", windows=[])
    assert await offer_free_slots(harness.runtime) == 1
    [offer] = await offers(harness)
    assert offer.start_at.isoformat() == "2027-01-12T07:00:00+00:00"  # the first free time of the wish's day
    assert await offer_free_slots(harness.runtime) == 0  # one open offer per wish


async def test_a_closure_over_a_held_slot_cancels_the_offer(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness, email="holder@example.org")
    await register(harness, email="first@example.org")
    await register(harness, email="second@example.org")
    await cancel(harness, taken)
    [offer] = await offers(harness)
    token = await staff_token(harness, "leitung")
    closure = {"start": "2027-01-11T08:30:00+01:00", "end": "2027-01-11T10:30:00+01:00", "reason": "Stromausfall"}
    answer = await harness.client.post(
        "/api/v1/offices/amt/closures", json={**closure, "public": True}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.text
    made = await offers(harness)
    assert [o.status for o in made] == ["cancelled"]  # the slot lies in the closure: nobody gets it
    assert await booking_status(harness, offer.booking_id) == "cancelled"


async def test_the_figures_count_offers_answers_waits_and_the_share_of_freed_slots_that_went_to_wishes(
    harness: Harness,
) -> None:
    await harness.load(make_config())
    taken = await book(harness, email="holder@example.org")
    unmatched = await book(harness, "2027-01-11T11:00:00+01:00", email="other@example.org")
    for i in range(3):
        await register(harness, email=f"wish{i}@example.org")
    await cancel(harness, taken)
    await cancel(harness, unmatched)  # no wish wants 11:00: it goes to open booking
    harness.clock.advance(timedelta(hours=1))
    await expire_offers(harness.runtime)
    [_, second] = await offers(harness)
    await harness.client.post(f"/api/v1/offers/{await offer_token(harness, second.id)}/accept")

    answer = await harness.client.get("/api/v1/offices/amt/waitlist")

    assert answer.status_code == 200
    assert answer.json() == {
        "office": "amt",
        "services": [
            {
                "service": "a",
                "name_de": "Dienst A",
                "name_en": "Service A",
                "wishes_waiting": 2,  # the first (its offer ran out) and the third
                "offers_made": 2,
                "accepted": 1,
                "declined": 0,
                "expired": 1,
                "median_days_to_appointment": 0.1,  # registered at 07:00, the appointment at 09:00
            }
        ],
        "freed_slots": 2,
        "freed_slots_to_wishes": 1,
        "share_to_wishes": 0.5,
    }
