"""Exclusive offers: freed capacity goes to one waiting wish at a time and never through open booking."""

from datetime import timedelta

import pytest

from rathaus.waitlist.jobs import expire_offers
from tests.conftest import Harness
from tests.factories import make_config
from tests.waitlist.helpers import NINE, book, booking_status, cancel, free_starts, offer_token, offers, register

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
