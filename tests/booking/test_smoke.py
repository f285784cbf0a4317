import pytest

from tests.conftest import Harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio


async def test_book_view_cancel(harness: Harness) -> None:
    await harness.load(make_config())
    slots = (await harness.client.get("/api/v1/offices/amt/availability?services=a&date=2027-01-11")).json()["slots"]
    assert slots[0]["start"] == "2027-01-11T08:00:00+01:00"
    created = await harness.client.post("/api/v1/bookings", json=booking_body(slots[0]["start"]))
    assert created.status_code == 201, created.text
    body = created.json()
    auth = {"Authorization": f"Bearer {body['manage_token']}"}
    seen = await harness.client.get(f"/api/v1/bookings/{body['code']}", headers=auth)
    assert seen.status_code == 200 and seen.json()["status"] == "confirmed"
    slots_after = (await harness.client.get("/api/v1/offices/amt/availability?services=a&date=2027-01-11")).json()
    assert slots[0] not in slots_after["slots"]
    cancelled = await harness.client.post(f"/api/v1/bookings/{body['code']}/cancel", headers=auth)
    assert cancelled.json()["status"] == "cancelled"
