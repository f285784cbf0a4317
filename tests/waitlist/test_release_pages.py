"""The release schedule and the waiting list's figures where citizens and staff look: the offices API, the office
page, the hours feed, the staff's figures."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import recurring_ical_events
from icalendar import Calendar

from tests.calendar.clients import icaljs, utc
from tests.conftest import Harness
from tests.factories import make_config
from tests.staff_helpers import staff_token
from tests.waitlist.helpers import book, cancel, register

pytestmark = pytest.mark.anyio

RELEASES = {"at": "08:00", "days_ahead": 14}


async def test_the_offices_api_gives_the_schedule_and_the_next_release(harness: Harness) -> None:
    await harness.load(make_config(releases=RELEASES))
    office = (await harness.client.get("/api/v1/offices/amt")).json()
    assert office["releases"] == {
        "weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "at": "08:00",
        "days_ahead": 14,
        "next_release": "2027-01-11T08:00:00+01:00",
        "next_day": "2027-01-25",
        "released_through": "2027-01-22",
        "closed_days": "An Feiertagen und anderen Tagen, an denen das Amt geschlossen ist, gibt es keine Freigabe; "
        "die Tage, die sie freigegeben hätte, werden mit der nächsten Freigabe freigegeben.",
        "skipped": [],
    }
    await harness.load(make_config())
    assert (await harness.client.get("/api/v1/offices/amt")).json()["releases"] is None


async def test_the_office_page_shows_the_schedule_and_the_waiting_lists_figures(harness: Harness) -> None:
    await harness.load(make_config(releases=RELEASES))
    taken = await book(harness, email="holder@example.org")
    await register(harness, email="wartend@example.org")
    await cancel(harness, taken)  # freed: offered to the wish

    german = (await harness.client.get("/offices/amt")).text
    assert "Montag, Dienstag, Mittwoch, Donnerstag und Freitag um 08:00" in german
    assert "Nächste Freigabe: Montag, 11. Januar 2027, 08:00, für Montag, 25. Januar 2027." in german
    assert "Termine sind bis Freitag, 22. Januar 2027 buchbar." in german
    assert "Wartende Wünsche" in german and '<th class="kern-table__header" scope="row">Dienst A</th>' in german
    english = (await harness.client.get("/offices/amt", headers={"Accept-Language": "en"})).text
    assert "Monday, Tuesday, Wednesday, Thursday, and Friday at 08:00" in english
    assert "each time for the day 14 days later" in english
    assert "0% of the freed appointments (1) went to people on the waiting list." in english


async def test_the_office_page_moves_on_at_the_release_within_the_cache_setting(harness: Harness) -> None:
    await harness.load(make_config(releases=RELEASES))
    before = (await harness.client.get("/offices/amt")).text
    assert "Nächste Freigabe: Montag, 11. Januar 2027, 08:00" in before
    harness.clock.advance(timedelta(hours=1))  # 08:00: the page kept in memory is no longer valid
    after = (await harness.client.get("/offices/amt")).text
    assert "Nächste Freigabe: Dienstag, 12. Januar 2027, 08:00, für Dienstag, 26. Januar 2027." in after


@pytest.mark.calendar_client
async def test_the_hours_feed_has_the_releases_at_eight_local_time(harness: Harness, tmp_path: Path) -> None:
    harness.clock.set(datetime(2027, 3, 20, tzinfo=UTC))
    await harness.load(make_config(releases=RELEASES))
    german = await harness.client.get("/feeds/amt/hours.ics")
    english = await harness.client.get("/feeds/amt/hours.ics?lang=en")
    between = (datetime(2027, 3, 25, tzinfo=UTC), datetime(2027, 3, 31, tzinfo=UTC))
    python_client = [
        e
        for e in recurring_ical_events.of(Calendar.from_ical(german.content)).between(*between)
        if str(e["SUMMARY"]) == "Neue Termine freigegeben"
    ]
    starts = [e["DTSTART"].dt.astimezone(UTC) for e in python_client]
    assert starts == [  # Thursday, Friday (CET), then Monday and Tuesday after the clock change (CEST)
        datetime(2027, 3, 25, 7, tzinfo=UTC),
        datetime(2027, 3, 26, 7, tzinfo=UTC),
        datetime(2027, 3, 29, 6, tzinfo=UTC),
        datetime(2027, 3, 30, 6, tzinfo=UTC),
    ]
    assert "Wer auf der Warteliste steht" in str(python_client[0]["DESCRIPTION"])
    mozilla = [
        e for e in icaljs(german.content, tmp_path, between=between) if e["summary"] == "Neue Termine freigegeben"
    ]
    assert [utc(e["startUTC"]) for e in mozilla] == starts
    assert "SUMMARY:New appointments released" in english.text
    assert "the day 14 days later can be booked from now on" in english.text.replace("\r\n ", "")


async def test_the_staff_figures_show_the_waiting_list(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness, email="holder@example.org")
    await register(harness, email="wartend@example.org")
    await cancel(harness, taken)
    token = await staff_token(harness, "leitung")
    answer = await harness.client.get("/api/v1/offices/amt/figures", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    [service] = answer.json()["waitlist"]["services"]
    assert (service["service"], service["wishes_waiting"], service["offers_made"]) == ("a", 1, 1)
    csv = await harness.client.get("/api/v1/offices/amt/figures.csv", headers={"Authorization": f"Bearer {token}"})
    assert "waitlist,a,offers_made,1" in csv.text.replace("\r", "")
