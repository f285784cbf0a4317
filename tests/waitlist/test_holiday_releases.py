"""No release on a public holiday or a day the office is closed: the days it would have opened come with the next
release made (the booking window never shrinks, nothing is left out), and the published schedule says so."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from rathaus.waitlist.jobs import publish_releases
from tests.admin.helpers import sign_in_admin
from tests.admin.test_configuration import ADMIN
from tests.conftest import Harness
from tests.factories import booking_body, make_config
from tests.waitlist.helpers import free_starts, offers, register
from tests.waitlist.test_releases import releases_made

pytestmark = pytest.mark.anyio

# Berlin's Frauentag, Monday 8 March 2027, is a public holiday: Monday's release (for Monday 22 March) is not made.
BERLIN = {"country": "DE", "subdivision": "BE"}
RELEASES = {"at": "08:00", "days_ahead": 14}
FRIDAY_SEVEN = datetime(2027, 3, 5, 6, 0, tzinfo=UTC)  # 07:00 in Berlin, before Friday's release
MONDAY_AFTER_EIGHT = datetime(2027, 3, 8, 7, 0, 30, tzinfo=UTC)
TUESDAY_AFTER_EIGHT = datetime(2027, 3, 9, 7, 0, 30, tzinfo=UTC)
HOLIDAYS_DAY = "2027-03-22"  # the day Monday's release would have opened


def config(**office: Any) -> Any:
    return make_config(releases=RELEASES, holidays=BERLIN, **office)


async def test_the_holidays_release_comes_with_the_next_one_and_its_wishes_get_their_offers(harness: Harness) -> None:
    harness.clock.set(FRIDAY_SEVEN)
    await harness.load(config())
    await register(harness, first_day=HOLIDAYS_DAY, last_day=HOLIDAYS_DAY, email="wartend@example.org")
    harness.clock.set(FRIDAY_SEVEN + timedelta(hours=1, seconds=30))
    assert await publish_releases(harness.runtime) == 0  # Friday's release: Friday 19 March, no wish for it
    assert await free_starts(harness, "2027-03-19") != []

    harness.clock.set(MONDAY_AFTER_EIGHT)
    assert await publish_releases(harness.runtime) == 0  # the holiday: no release
    assert [day for _, day in await releases_made(harness)] == [date(2027, 3, 18), date(2027, 3, 19)]
    assert await free_starts(harness, "2027-03-19") != []  # the window keeps what was released
    assert await free_starts(harness, "2027-03-20") == await free_starts(harness, HOLIDAYS_DAY) == []
    refused = await harness.client.post("/api/v1/bookings", json=booking_body(f"{HOLIDAYS_DAY}T10:00:00+01:00"))
    assert refused.status_code == 422 and refused.json()["code"] == "not_released"

    harness.clock.set(TUESDAY_AFTER_EIGHT)
    assert await publish_releases(harness.runtime) == 1  # Tuesday's release opens Monday's day too
    [offer] = await offers(harness)
    assert offer.status == "open" and offer.start_at == datetime(2027, 3, 22, 8, 0, tzinfo=UTC)
    made = await releases_made(harness)
    assert made[-1] == (datetime(2027, 3, 9, 7, 0, tzinfo=UTC), date(2027, 3, 23))
    visible = await free_starts(harness, HOLIDAYS_DAY)
    assert visible and f"{HOLIDAYS_DAY}T09:00:00+01:00" not in visible  # the rest is open, the offer held
    assert await free_starts(harness, "2027-03-23") != []
    assert await free_starts(harness, "2027-03-24") == []
    booked = await harness.client.post("/api/v1/bookings", json=booking_body(f"{HOLIDAYS_DAY}T10:00:00+01:00"))
    assert booked.status_code == 201, booked.text


async def test_a_closure_of_the_office_skips_its_release_as_a_holiday_does(harness: Harness) -> None:
    harness.clock.set(FRIDAY_SEVEN)
    # A staff outing on Tuesday: with the holiday, Wednesday's release opens 20 to 24 March.
    outing = {"date": "2027-03-09", "reason": {"de": "Betriebsausflug", "en": "Staff outing"}}
    await harness.load(config(closures=[outing]))
    harness.clock.set(datetime(2027, 3, 10, 7, 0, 30, tzinfo=UTC))
    await publish_releases(harness.runtime)
    assert [day for _, day in await releases_made(harness)] == [date(2027, 3, d) for d in (18, 19, 24)]
    assert all([await free_starts(harness, f"2027-03-{d}") for d in (22, 23, 24)])


async def test_the_schedule_names_the_releases_left_out_in_both_languages(harness: Harness) -> None:
    harness.clock.set(FRIDAY_SEVEN + timedelta(hours=2))  # Friday's release is the latest: the next is Tuesday's
    await harness.load(config())
    german = (await harness.client.get("/api/v1/offices/amt")).json()["releases"]
    assert german["next_release"] == "2027-03-09T08:00:00+01:00" and german["next_day"] == "2027-03-23"
    assert german["skipped"] == ["2027-03-08", "2027-03-26", "2027-03-29"]  # and Good Friday, Easter Monday
    assert german["closed_days"].startswith("An Feiertagen und anderen Tagen, an denen das Amt geschlossen ist")
    english = (await harness.client.get("/api/v1/offices/amt", headers={"Accept-Language": "en"})).json()["releases"]
    assert english["closed_days"].startswith("No release on public holidays")

    page = (await harness.client.get("/offices/amt")).text
    assert "mit der nächsten Freigabe freigegeben" in page
    assert "Keine Freigabe am Montag, 8. März 2027, Freitag, 26. März 2027 und Montag, 29. März 2027" in page
    assert "Nächste Freigabe: Dienstag, 9. März 2027, 08:00, für Dienstag, 23. März 2027." in page
    english_page = (await harness.client.get("/offices/amt", headers={"Accept-Language": "en"})).text
    assert "No release on Monday, March 8, 2027, Friday, March 26, 2027, and Monday, March 29, 2027" in english_page

    feed = Calendar.from_ical((await harness.client.get("/feeds/amt/hours.ics")).content)
    [series] = [e for e in feed.walk("VEVENT") if str(e["SUMMARY"]) == "Neue Termine freigegeben"]
    left_out = [d.dt.astimezone(UTC) for exdate in _list(series.get("EXDATE")) for d in exdate.dts]
    assert datetime(2027, 3, 8, 7, 0, tzinfo=UTC) in left_out
    assert datetime(2027, 3, 9, 7, 0, tzinfo=UTC) not in left_out
    assert "mit der nächsten Freigabe freigegeben" in str(series["DESCRIPTION"])

    await sign_in_admin(harness)
    admin = (await harness.client.get(f"{ADMIN}/hours")).text
    assert "An Feiertagen und anderen Tagen, an denen das Amt geschlossen ist, gibt es keine Freigabe" in admin


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
