"""At most a configurable number of moves per booking, refused with a clear message on the API and the page."""

from __future__ import annotations

import pytest

from rathaus.clock import ManualClock
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config
from tests.web.test_booking_pages import book_on_the_page, csrf

pytestmark = pytest.mark.anyio

TIMES = ["2027-01-11T09:00:00+01:00", "2027-01-11T10:00:00+01:00", "2027-01-11T11:00:00+01:00"]


async def test_the_third_move_is_refused_and_the_booking_keeps_its_time(harness: Harness) -> None:
    await harness.load(make_config())
    booked = (await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-11T08:00:00+01:00"))).json()
    auth = {"Authorization": f"Bearer {booked['manage_token']}"}
    url = f"/api/v1/bookings/{booked['code']}/reschedule"
    answers = [await harness.client.post(url, json={"start": start}, headers=auth) for start in TIMES]
    assert [a.status_code for a in answers] == [200, 200, 409]
    assert answers[2].json()["code"] == "too_many_changes" and "2" in answers[2].json()["detail"]
    kept = (await harness.client.get(f"/api/v1/bookings/{booked['code']}", headers=auth)).json()
    assert kept["start"] == TIMES[1] and kept["status"] == "confirmed"


@pytest.mark.parametrize(
    ("language", "words"), [("de", "nicht noch einmal verschoben"), ("en", "cannot be moved again")]
)
async def test_the_page_says_why_a_move_is_refused(
    sqlite_url: str, clock: ManualClock, language: str, words: str
) -> None:
    async with open_harness(sqlite_url, clock, booking_max_changes=0) as h:
        await h.load(make_config())
        url, code, token = await book_on_the_page(h)
        check = await h.client.get(f"/bookings/{code}/move", params={"token": token, "start": TIMES[0]})
        moved = await h.client.post(
            f"/bookings/{code}/reschedule",
            data={"token": token, "start": TIMES[0], "_csrf_token": csrf(check)},
            headers={"Accept-Language": language},
        )
        assert moved.status_code == 409 and words in moved.text and 'id="error-summary"' in moved.text
        assert "08:00" in (await h.client.get(url)).text
