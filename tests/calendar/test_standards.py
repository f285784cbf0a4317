"""Calendars by the letter: what RFC 5545/5546 and RFC 7986 ask of our feeds and invitations, read back by real
clients (ical.js, vobject, recurring-ical-events, icalendar)."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.notify.calendar.feeds import known_until
from rathaus.notify.calendar.invite import booking_invitation
from rathaus.offices.catalog import Catalog
from rathaus.offices.jobs import load_public_holidays
from tests.calendar.clients import icaljs, utc, vobject_events
from tests.conftest import Harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
WEEKDAYS = {d: ["08:00-12:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
GOOD_FRIDAY_2028 = date(2028, 4, 14)


def unfolded(data: bytes) -> str:
    return data.decode().replace("\r\n ", "")


def opening_days(data: bytes, tmp_path: Path, first: date, last: date) -> set[date]:
    between = (datetime.combine(first, datetime.min.time(), UTC), datetime.combine(last, datetime.min.time(), UTC))
    seen = {utc(e["startUTC"]).date() for e in icaljs(data, tmp_path, between=between)}
    python = recurring_ical_events.of(Calendar.from_ical(data)).between(*between)
    assert {e["DTSTART"].dt.date() for e in python} == seen  # two clients agree
    return seen


@pytest.mark.calendar_client
async def test_subscription_feeds_carry_no_method_and_escape_their_descriptions(
    harness: Harness, tmp_path: Path
) -> None:
    await harness.load(make_config(name={"de": "Amt; Nord, Süd", "en": "Office; North, South"}))
    for kind in ("hours", "closures"):
        data = (await harness.client.get(f"/feeds/amt/{kind}.ics")).content
        text = unfolded(data)
        # A subscription is no iTIP message: without METHOD no event needs an ORGANIZER (RFC 5546 1.4, 3.2.1).
        assert "\nMETHOD:" not in text
        assert all(event["method"] is None for event in icaljs(data, tmp_path))
        # X-WR-CALNAME/-CALDESC are escaped like the TEXT they are.
        [caldesc] = [line for line in text.splitlines() if line.startswith("X-WR-CALDESC:")]
        assert "Amt\\; Nord\\, Süd" in caldesc
        assert "Amt\\; Nord\\, Süd" in next(line for line in text.splitlines() if line.startswith("X-WR-CALNAME:"))
        # TEXT by default (RFC 5545 3.8.8.2): written exactly as the standard DESCRIPTION beside it.
        header = text.split("BEGIN:VTIMEZONE")[0].splitlines()
        [description] = [line for line in header if line.startswith("DESCRIPTION:")]
        assert caldesc.removeprefix("X-WR-CALDESC:") == description.removeprefix("DESCRIPTION:")
        vobject_events(data)  # parses


@pytest.mark.calendar_client
async def test_weekly_hours_end_where_the_system_knows_the_holidays(
    harness: Harness, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(datetime(2026, 12, 2, 9, tzinfo=UTC))
    await harness.load(make_config(hours=WEEKDAYS, holidays={"country": "DE", "subdivision": "BE"}, horizon_days=90))
    data = (await harness.client.get("/feeds/amt/hours.ics")).content
    events = icaljs(data, tmp_path)
    rules = [e["rrule"] for e in events if e["rrule"]]
    assert rules and all("UNTIL=" in rule for rule in rules)
    assert known_until(date(2026, 12, 2)) == date(2027, 12, 31)
    assert opening_days(data, tmp_path, date(2028, 1, 1), date(2028, 12, 31)) == set()  # nothing claimed unknown
    days_2027 = opening_days(data, tmp_path, date(2027, 1, 1), date(2028, 1, 1))
    assert date(2027, 3, 26) not in days_2027 and date(2027, 3, 25) in days_2027  # Good Friday 2027 is known
    assert max(days_2027) == date(2027, 12, 31)

    # Half a year on, the feed speaks for mid-2028: Good Friday 2028 must be closed, so a job loads 2028's holidays.
    clock.set(datetime(2027, 6, 1, 9, tzinfo=UTC))
    before = (await harness.client.get("/feeds/amt/hours.ics")).content
    assert GOOD_FRIDAY_2028 in opening_days(before, tmp_path, date(2028, 4, 10), date(2028, 4, 20))  # the bug
    added = await load_public_holidays(harness.runtime)
    assert isinstance(added, list) and len(added) >= 9  # Berlin's holidays of 2028
    assert await load_public_holidays(harness.runtime) == []  # once only
    after = (await harness.client.get("/feeds/amt/hours.ics")).content
    around = opening_days(after, tmp_path, date(2028, 4, 10), date(2028, 4, 20))
    assert GOOD_FRIDAY_2028 not in around and date(2028, 4, 13) in around
    closures = (await harness.client.get("/feeds/amt/closures.ics")).text
    assert "Karfreitag" in closures


async def test_feeds_vary_on_language_and_head_tells_the_real_length(harness: Harness) -> None:
    await harness.load(make_config())
    for path in ("/feeds/amt/hours.ics", "/feeds/amt/closures.ics", "/feeds/amt/hours.jsonld", "/feeds/amt/embed.html"):
        plain = {"Accept-Encoding": "identity"}
        got = await harness.client.get(path, headers=plain)
        head = await harness.client.head(path, headers=plain)
        assert "Accept-Language" in got.headers["vary"] and "Accept-Language" in head.headers["vary"]
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(got.content) > 0
        assert head.headers["etag"] == got.headers["etag"]
        english = await harness.client.get(path, headers={**plain, "Accept-Language": "en"})
        assert english.content != got.content and "Accept-Language" in english.headers["vary"]
        unchanged = await harness.client.get(path, headers={"If-None-Match": got.headers["etag"]})
        assert unchanged.status_code == 304 and "Accept-Language" in unchanged.headers["vary"]


async def _booking(harness: Harness, code: str) -> Booking:
    async with harness.session() as session:
        found = await session.scalar(select(Booking).where(Booking.code == code))
        assert found is not None
        await session.refresh(found, ["items"])
        return found


@pytest.mark.calendar_client
async def test_cancel_names_the_attendees_of_the_request_and_the_organizer_is_the_mail_sender(
    harness: Harness, tmp_path: Path
) -> None:
    await harness.load(make_config())
    made = await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-11T09:00:00+01:00"))
    booking = await _booking(harness, made.json()["code"])
    async with harness.session() as session:
        snapshot = await harness.runtime.get(Catalog).get(session, now=harness.clock.now())
    office = snapshot.offices["amt"]
    services = [snapshot.services_by_id[item.service_id] for item in booking.items]
    seen: dict[str, Any] = {}
    for method in ("REQUEST", "CANCEL"):
        data = booking_invitation(
            booking=booking,
            office=office,
            services=services,
            method=method,
            manage_url=None,
            language="de",
            public_base_url="https://termine.example.org",
            organizer="Bürgeramt <termine@stadt.example>",
        )
        [seen[method]] = icaljs(data, tmp_path)
        [event] = vobject_events(data)
        assert event.organizer.value == "mailto:termine@stadt.example"
    assert seen["REQUEST"]["method"] == "REQUEST" and seen["CANCEL"]["method"] == "CANCEL"
    assert seen["REQUEST"]["attendees"] == seen["CANCEL"]["attendees"] == [f"mailto:{booking.email}"]
    assert seen["REQUEST"]["organizer"] == seen["CANCEL"]["organizer"] == "mailto:termine@stadt.example"
    assert seen["REQUEST"]["uid"] == seen["CANCEL"]["uid"]

    # The downloadable copy (PUBLISH) names the same organizer, from RATHAUS_MAIL_FROM.
    download = await harness.client.get(
        f"/api/v1/bookings/{booking.code}/calendar.ics?token={made.json()['manage_token']}"
    )
    [published] = icaljs(download.content, tmp_path)
    assert published["method"] == "PUBLISH" and published["organizer"] == "mailto:noreply@localhost"


@pytest.mark.calendar_client
async def test_agenda_shows_pending_bookings_tentative_as_far_ahead_as_citizens_book(
    harness: Harness, tmp_path: Path
) -> None:
    await harness.load(make_config(verification="email", horizon_days=90))
    pending = await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-11T09:00:00+01:00"))
    far = await harness.client.post(
        "/api/v1/bookings", json=booking_body("2027-04-09T09:00:00+02:00", email="far@example.org")
    )
    assert pending.status_code == far.status_code == 201 and pending.json()["status"] == "pending"
    token = await staff_token(harness, "desk1", role="desk")
    made = await harness.client.post("/api/v1/offices/amt/agenda-feeds", headers={"Authorization": f"Bearer {token}"})
    data = (await harness.client.get(made.json()["url"].removeprefix("http://testserver"))).content
    assert "\nMETHOD:" not in unfolded(data)
    events = {e["summary"].split(":")[0]: e for e in icaljs(data, tmp_path)}
    assert events[pending.json()["code"]]["status"] == "TENTATIVE"
    assert far.json()["code"] in events  # 88 days ahead: inside the booking horizon
