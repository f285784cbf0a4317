"""The life event pages without a browser: a refusal is shown next to the form and writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rathaus.booking.models import Booking
from rathaus.offices.config import read_config
from tests.conftest import Harness
from tests.web.test_booking_pages import csrf

pytestmark = pytest.mark.anyio
DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"


async def test_a_refused_itinerary_shows_why_and_writes_nothing(harness: Harness) -> None:
    await harness.load(read_config(DEMO))
    client = harness.client
    plan = await client.get("/life-events/nach-berlin-ziehen/plan", headers={"Accept-Language": "en"})
    assert plan.status_code == 200 and "Have your mail forwarded" in plan.text
    choice = re.search(r'name="choice" value="([^"]+)"', plan.text)
    assert choice is not None
    form = await client.get("/book/itinerary", params={"event": "nach-berlin-ziehen", "choice": choice.group(1)})
    assert form.status_code == 200
    empty_name = await client.post(
        "/book/itinerary",
        data={"event": "nach-berlin-ziehen", "choice": choice.group(1), "name": " ", "_csrf_token": csrf(form)},
        headers={"Accept-Language": "en"},
    )
    assert empty_name.status_code == 422 and "Please enter your name" in empty_name.text
    async with harness.session() as s:
        assert await s.scalar(select(func.count()).select_from(Booking)) == 0
    assert (await client.get("/life-events/mondflug/plan")).status_code == 404
    assert (await client.get("/itineraries/ZZZZZZ?token=nope")).status_code == 404
