"""Public feeds: what calendar clients expand equals the office's open windows minus its closures; HTTP caching."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from icalendar import Calendar

from rathaus.clock import ManualClock
from rathaus.offices.catalog import Catalog
from rathaus.offices.rules import Interval, merge
from tests.calendar.clients import icaljs, utc, vobject_events
from tests.conftest import Harness
from tests.factories import make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
MARCH = (date(2027, 3, 1), date(2027, 4, 1))


def office_config(zone: str) -> object:
    return make_config(
        timezone=zone,
        hours={
            "mon": ["08:00-12:00", "13:00-16:00"],
            "wed": ["08:00-12:00"],
            "thu": ["11:00-19:00"],
            "sun": ["00:00-05:00"],  # spans the clock change in both zones
        },
        special_hours=[{"date": "2027-03-13", "hours": ["10:00-14:00"], "note": {"de": "Samstag", "en": "Saturday"}}],
        closures=[
            {"date": "2027-03-08", "reason": {"de": "Frauentag", "en": "Women's Day"}},
            {
                "start": "2027-03-17T10:00:00",
                "end": "2027-03-17T11:00:00",
                "reason": {"de": "Versammlung", "en": "Meeting"},
            },
            {"date": "2027-03-24", "until": "2027-03-25", "reason": {"de": "Umzug", "en": "Moving"}},
            {"date": "2027-03-29", "reason": {"de": "Intern", "en": "Internal"}, "public": False},
        ],
    )


async def expected_windows(harness: Harness) -> list[Interval]:
    async with harness.session() as session:
        office = (await harness.runtime.get(Catalog).get(session, now=harness.clock.now())).offices["amt"]
    windows: list[Interval] = []
    day = MARCH[0]
    while day < MARCH[1]:
        for start, end in office.open_intervals(day):
            pieces = [(start, end)]
            for c in office.closures:
                pieces = (
                    [p for s, e in pieces for p in ((s, min(e, c.start)), (max(s, c.end), e)) if p[0] < p[1]]
                    if c.start < end and start < c.end
                    else pieces
                )
            windows += pieces
        day += timedelta(days=1)
    return merge(windows)


def bounds(zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    return datetime(2027, 3, 1, tzinfo=tz), datetime(2027, 4, 1, tzinfo=tz)


@pytest.mark.calendar_client
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
async def test_expanded_hours_are_the_open_windows_minus_closures(
    harness: Harness, clock: ManualClock, tmp_path: Path, zone: str
) -> None:
    clock.set(datetime(2027, 2, 20, tzinfo=UTC))
    await harness.load(office_config(zone))
    answer = await harness.client.get("/feeds/amt/hours.ics")
    assert answer.status_code == 200
    expected = await expected_windows(harness)
    assert len(expected) >= 15

    python_client = recurring_ical_events.of(Calendar.from_ical(answer.content)).between(*bounds(zone))
    seen = merge((e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC)) for e in python_client)
    assert seen == expected

    mozilla = icaljs(answer.content, tmp_path, between=bounds(zone))
    assert merge((utc(e["startUTC"]), utc(e["endUTC"])) for e in mozilla) == expected
    vobject_events(answer.content)  # parses


@pytest.mark.calendar_client
async def test_closures_feed_lists_public_closures_and_extra_openings(
    harness: Harness, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(datetime(2027, 2, 20, tzinfo=UTC))
    await harness.load(office_config("Europe/Berlin"))
    german = await harness.client.get("/feeds/amt/closures.ics")
    english = await harness.client.get("/feeds/amt/closures.ics?lang=en")
    events = {e["summary"]: e for e in icaljs(german.content, tmp_path)}
    assert set(events) == {
        "Geschlossen: Frauentag",
        "Geschlossen: Versammlung",
        "Geschlossen: Umzug",
        "Zusätzlich geöffnet: Samstag",
    }
    assert events["Geschlossen: Frauentag"]["allDay"] is True
    assert utc(events["Geschlossen: Versammlung"]["startUTC"]) == datetime(2027, 3, 17, 9, tzinfo=UTC)
    assert utc(events["Zusätzlich geöffnet: Samstag"]["startUTC"]) == datetime(2027, 3, 13, 9, tzinfo=UTC)
    assert "Closed: Women's Day" in english.text and "NAME:Test office: closures and extra openings" in english.text
    for header in ("REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H", "X-WR-CALNAME:", "BEGIN:VTIMEZONE"):
        assert header in german.text


async def test_conditional_requests_and_a_new_closure(harness: Harness) -> None:
    await harness.load(make_config())
    first = await harness.client.get("/feeds/amt/closures.ics")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert (
        first.headers["content-type"] == "text/calendar; charset=utf-8" and "max-age" in first.headers["cache-control"]
    )

    same = await harness.client.get("/feeds/amt/closures.ics", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    since = await harness.client.get("/feeds/amt/closures.ics", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    head = await harness.client.head("/feeds/amt/closures.ics")
    assert head.status_code == 200 and head.headers["etag"] == etag
    again = await harness.client.get("/feeds/amt/closures.ics")
    assert again.content == first.content  # deterministic: no random UIDs or stamps

    token = await staff_token(harness, "admin")
    closure = {"start": "2027-01-12T08:00:00+01:00", "end": "2027-01-12T12:00:00+01:00", "reason": "Wasserschaden"}
    made = await harness.client.post(
        "/api/v1/offices/amt/closures", json=closure, headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status_code == 201
    changed = await harness.client.get("/feeds/amt/closures.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "Wasserschaden" in changed.text


async def test_unknown_office_feed_is_404(harness: Harness) -> None:
    await harness.load(make_config())
    assert (await harness.client.get("/feeds/nowhere/hours.ics")).status_code == 404


@pytest.mark.parametrize("kind", ["closures.ics", "hours.ics", "hours.jsonld", "embed.html"])
async def test_a_feed_from_memory_answers_as_its_handler_did(harness: Harness, kind: str) -> None:
    """A repeated poll is answered before the handler runs: the same bytes and headers (compressed or not, the
    embed's own frame policy too), and the same 304s."""
    await harness.load(make_config())
    path = f"/feeds/amt/{kind}"
    for query, encoding in (("?lang=de", "gzip"), ("?lang=en", "identity")):
        rendered = await harness.client.get(path + query, headers={"Accept-Encoding": encoding})
        kept = await harness.client.get(path + query, headers={"Accept-Encoding": encoding})
        assert kept.status_code == rendered.status_code == 200
        assert kept.content == rendered.content
        assert sorted(kept.headers.multi_items()) == sorted(rendered.headers.multi_items())
        for condition in (
            {"If-None-Match": kept.headers["etag"]},
            {"If-Modified-Since": kept.headers["last-modified"]},
        ):
            same = await harness.client.get(path + query, headers=condition)
            assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == kept.headers["etag"]
