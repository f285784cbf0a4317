"""Wishes through the API: registered, confirmed, seen with their place, changed, withdrawn; limits per person."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.settings import WaitlistSettings
from rathaus.waitlist.jobs import expire_wishes
from rathaus.waitlist.models import Wish
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config
from tests.waitlist.helpers import (
    DAY,
    auth,
    book,
    cancel,
    code_sent,
    free_starts,
    offers,
    register,
    two_offices,
    wish_body,
)

pytestmark = pytest.mark.anyio


async def test_a_wish_waits_for_its_code_then_shows_its_place(harness: Harness) -> None:
    await harness.load(make_config())
    created = await harness.client.post("/api/v1/wishes", json=wish_body(language="en"))
    assert created.status_code == 201, created.text
    wish = created.json()
    assert wish["status"] == "unverified" and wish["place"] is None and len(wish["manage_token"]) >= 32
    assert wish["windows"] == [{"weekdays": ["mon"], "start": "09:00:00", "end": "10:00:00"}]
    path = f"/api/v1/wishes/{wish['code']}"
    wrong = await harness.client.post(f"{path}/confirm", json={"verification_code": "000000x"}, headers=auth(wish))
    assert wrong.status_code == 422 and "4 Versuche übrig" in wrong.json()["detail"]
    code = await code_sent(harness, "wish_verification", "max@example.org")
    confirmed = await harness.client.post(f"{path}/confirm", json={"verification_code": code}, headers=auth(wish))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "active"
    assert confirmed.json()["place"] == 1
    later = await register(harness, email="later@example.org")
    assert later["place"] == 2
    seen = await harness.client.get(path, headers=auth(wish))
    assert seen.json()["manage_token"] is None and seen.json()["place"] == 1


async def test_wrong_token_answers_like_an_unknown_wish(harness: Harness) -> None:
    await harness.load(make_config())
    wish = await register(harness)
    wrong = await harness.client.get(f"/api/v1/wishes/{wish['code']}", headers={"Authorization": "Bearer nope"})
    unknown = await harness.client.get("/api/v1/wishes/ZZZZZZZZ", headers=auth(wish))
    missing = await harness.client.get(f"/api/v1/wishes/{wish['code']}")
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.json() == unknown.json() == missing.json()


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"last_day": "2027-01-10"}, 422, "The last day must not be before the first day"),
        ({"last_day": "2027-06-01"}, 422, "The last day must lie between today and 2027-04-09"),  # window + 28 days
        ({"offices": []}, 400, None),
        ({"offices": ["amt", "amt"]}, 422, "An office is chosen twice"),
        ({"offices": ["nowhere"]}, 404, "There is no office called nowhere"),
        ({"channel": "sms"}, 422, "Give the e-mail address or mobile number of the way you want to hear from us"),
        ({"windows": [{"weekdays": ["mon"], "start": "10:00:00", "end": "09:00:00"}]}, 422, "A time window"),
        ({"windows": [{"weekdays": ["someday"], "start": "09:00:00", "end": "10:00:00"}]}, 400, None),
        ({"services": ["a", "a"]}, 422, "The service a is chosen twice"),
    ],
)
async def test_bad_wishes_are_refused_with_the_reason_and_write_nothing(
    harness: Harness, change: dict[str, object], status: int, message: str | None
) -> None:
    await harness.load(make_config())
    answer = await harness.client.post("/api/v1/wishes", json=wish_body(**change), headers={"Accept-Language": "en"})
    assert answer.status_code == status, answer.text
    if message is not None:
        assert answer.json()["detail"].startswith(message)
    async with harness.session() as s:
        assert (await s.scalars(select(Wish))).all() == []


async def test_refusals_are_german_by_default(harness: Harness) -> None:
    await harness.load(make_config())
    answer = await harness.client.post("/api/v1/wishes", json=wish_body(last_day="2027-01-10"))
    assert answer.json()["detail"] == "Der letzte Tag darf nicht vor dem ersten Tag liegen"


async def test_one_person_holds_at_most_the_limit_of_wishes_and_bookings_per_service_across_offices(
    harness: Harness,
) -> None:
    await harness.load(two_offices())
    await register(harness, offices=["amt"])
    await book(harness, "2027-01-12T09:00:00+01:00", email="max@example.org")  # the same person, at any office
    third = await harness.client.post(
        "/api/v1/wishes", json=wish_body(offices=["amt2"], phone="0151 23456789"), headers={"Accept-Language": "en"}
    )
    assert third.status_code == 409
    assert third.json()["detail"].startswith("You already have 2 wishes or appointments for Service A")
    by_phone = await harness.client.post(
        "/api/v1/wishes", json=wish_body(email="other@example.org", phone="0151 23456789")
    )
    assert by_phone.status_code == 201  # another person: another e-mail address and another number
    other_service = await harness.client.post("/api/v1/wishes", json=wish_body(services=["b"], offices=["amt2"]))
    assert other_service.status_code == 201  # the limit is per service


async def test_the_limit_counts_only_confirmed_contacts_and_is_checked_again_on_confirmation(
    db_url: str, clock: ManualClock
) -> None:
    """Wishes and bookings whose contact is not yet confirmed with a code may carry anyone's address (a form
    without JavaScript needs no proof of work): they block nobody, and count once confirmed."""
    async with open_harness(
        db_url, clock, availability_cache_seconds=86400.0, waitlist=WaitlistSettings(per_person=1, cooldown_minutes=0)
    ) as h:
        await h.load(make_config(verification="email"))
        unconfirmed = await h.client.post("/api/v1/wishes", json=wish_body())
        held = await h.client.post("/api/v1/bookings", json=booking_body("2027-01-12T09:00:00+01:00"))
        assert unconfirmed.status_code == 201 and held.json()["status"] == "pending"
        code = await code_sent(h, "wish_verification", "max@example.org")
        mine = await register(h, first_day="2027-01-12", last_day="2027-01-12")  # not blocked by either
        wish = unconfirmed.json()
        late = await h.client.post(
            f"/api/v1/wishes/{wish['code']}/confirm", json={"verification_code": code}, headers=auth(wish)
        )
        assert mine["status"] == "active" and late.status_code == 409  # the limit, now that both are the person's


async def test_the_limit_is_a_setting(db_url: str, clock: ManualClock) -> None:
    async with open_harness(
        db_url, clock, availability_cache_seconds=86400.0, waitlist=WaitlistSettings(per_person=1, cooldown_minutes=0)
    ) as h:
        await h.load(make_config())
        await register(h)
        again = await h.client.post("/api/v1/wishes", json=wish_body(first_day="2027-01-12", last_day="2027-01-12"))
        assert again.status_code == 409


async def test_change_and_withdraw(harness: Harness) -> None:
    await harness.load(make_config())
    wish = await register(harness)
    path = f"/api/v1/wishes/{wish['code']}"
    changed = await harness.client.patch(
        path,
        json={
            "last_day": "2027-01-15",
            "windows": [{"weekdays": ["tue", "wed"], "start": "08:00:00", "end": "12:00:00"}],
        },
        headers=auth(wish),
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["last_day"] == "2027-01-15" and body["first_day"] == DAY
    assert body["windows"] == [{"weekdays": ["tue", "wed"], "start": "08:00:00", "end": "12:00:00"}]
    withdrawn = await harness.client.post(f"{path}/withdraw", headers=auth(wish))
    assert withdrawn.json()["status"] == "withdrawn"
    again = await harness.client.post(f"{path}/withdraw", headers=auth(wish))
    assert again.status_code == 200 and again.json()["status"] == "withdrawn"
    refused = await harness.client.patch(path, json={"last_day": "2027-01-16"}, headers=auth(wish))
    assert refused.status_code == 409


async def test_withdrawing_a_wish_with_an_offer_passes_the_slot_on(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness, email="holder@example.org")
    first = await register(harness, email="first@example.org")
    await register(harness, email="second@example.org")
    await cancel(harness, taken)
    [offer] = await offers(harness)
    await harness.client.post(f"/api/v1/wishes/{first['code']}/withdraw", headers=auth(first))
    made = await offers(harness)
    assert [o.status for o in made] == ["cancelled", "open"] and made[1].start_at == offer.start_at
    assert "2027-01-11T09:00:00+01:00" not in await free_starts(harness)


async def test_a_booking_of_someone_waiting_counts_toward_the_limit(harness: Harness) -> None:
    await harness.load(two_offices())
    await register(harness, offices=["amt2"])
    await book(harness, "2027-01-12T09:00:00+01:00", email="max@example.org")
    third = await harness.client.post(
        "/api/v1/bookings", json=booking_body("2027-01-13T09:00:00+01:00", email="max@example.org")
    )
    assert third.status_code == 409
    assert third.json()["detail"].startswith("Sie haben schon 2 Terminwünsche oder Termine für Dienst A")
    async with harness.session() as s:
        assert await s.scalar(select(func.count()).select_from(Booking)) == 1  # the refused one left nothing
    others = await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-13T09:00:00+01:00"))
    assert others.status_code == 201  # someone not waiting books as before


async def test_wishes_end_after_their_last_day_and_their_contacts_are_erased_later(harness: Harness) -> None:
    await harness.load(make_config())
    wish = await register(harness)
    unconfirmed = await harness.client.post("/api/v1/wishes", json=wish_body(email="slow@example.org"))
    harness.clock.advance(timedelta(days=2))
    await expire_wishes(harness.runtime)
    seen = await harness.client.get(f"/api/v1/wishes/{wish['code']}", headers=auth(wish))
    assert seen.json()["status"] == "expired" and seen.json()["email"] == "max@example.org"
    later = await harness.client.get(f"/api/v1/wishes/{unconfirmed.json()['code']}", headers=auth(unconfirmed.json()))
    assert later.json()["status"] == "expired"
    harness.clock.advance(timedelta(days=31))  # past RATHAUS_PERSONAL_DATA_RETENTION_DAYS
    await expire_wishes(harness.runtime)
    async with harness.session() as s:
        rows = (await s.scalars(select(Wish))).all()
    assert {(w.status, w.name, w.email, w.phone) for w in rows} == {("expired", None, None, None)}


async def test_registering_wishes_is_rate_limited_per_client(sqlite_url: str, clock: ManualClock) -> None:
    async with open_harness(sqlite_url, clock, wish_rate_limit_per_minute=2) as limited:
        await limited.load(make_config())
        answers = [
            await limited.client.post("/api/v1/wishes", json=wish_body(email=f"w{i}@example.org")) for i in range(3)
        ]
        assert [a.status_code for a in answers] == [201, 201, 429]
        assert int(answers[2].headers["Retry-After"]) > 0
