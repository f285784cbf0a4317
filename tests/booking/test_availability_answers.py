"""The availability API answered from memory (rathaus.booking.answers): byte- and header-identical to its
handler's answer, served exactly while `availability` would answer the same bytes (a booking here changes the next
answer at once, the booking window moves by the injected clock to the microsecond, another instance's booking
shows within the cache setting), and refusals, rate limits and metrics as before."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from rathaus.booking import presenters, service
from rathaus.clock import ManualClock
from rathaus.offices.catalog import Catalog
from tests.altcha_client import SolvingHttpClient
from tests.conftest import Harness, LiveServer, open_harness
from tests.factories import booking_body, make_config
from tests.test_metrics import scrape, value

pytestmark = pytest.mark.anyio

DAY = "2027-01-11"  # DEFAULT_NOW's Monday, 07:00 in Berlin
NINE = f"{DAY}T09:00:00+01:00"
URL = f"/api/v1/offices/amt/availability?services=a&date={DAY}"
TTL = 5.0
LEAD = timedelta(minutes=30)
# Every weekday at 08:00 the day two weeks on; loaded on DEFAULT_NOW, released through Friday 22 January.
RELEASES = {"at": "08:00", "days_ahead": 14}


@dataclass
class HandlerRuns:
    """The availability service as the handlers call it, counting each call (an answer from memory makes none)."""

    real: Callable[..., Awaitable[service.DayAvailability]]
    offices: list[str] = field(default_factory=list)

    async def __call__(self, *args: Any, **kwargs: Any) -> service.DayAvailability:
        self.offices.append(kwargs["office_slug"])
        return await self.real(*args, **kwargs)


@pytest.fixture
def handler_runs(monkeypatch: pytest.MonkeyPatch) -> HandlerRuns:
    runs = HandlerRuns(service.availability)
    monkeypatch.setattr(service, "availability", runs)
    return runs


def starts(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [slot["start"] for slot in answer.json()["slots"]]


async def test_the_answer_from_memory_is_the_handlers_in_every_language_and_encoding(
    harness: Harness, handler_runs: HandlerRuns
) -> None:
    await harness.load(make_config())
    answered = await harness.client.get(URL, headers={"Accept-Language": "de", "Accept-Encoding": "gzip"})
    assert answered.status_code == 200 and starts(answered)
    variants: list[dict[str, str]] = [
        {"Accept-Language": "de", "Accept-Encoding": "gzip"},
        {"Accept-Language": "en", "Accept-Encoding": "gzip"},
        {"Accept-Language": "de", "Cookie": "rathaus_lang=en", "Accept-Encoding": "identity"},
        {"Accept-Encoding": "gzip;q=0"},
    ]
    for headers in variants:
        kept = await harness.client.get(URL, headers=headers)
        assert kept.status_code == 200
        assert kept.content == answered.content  # the answer has no text: one for every language
        assert sorted(kept.headers.multi_items()) == sorted(answered.headers.multi_items())
    assert handler_runs.offices == ["amt"]  # the first request only
    assert answered.headers["content-type"] == "application/json" and "content-encoding" not in answered.headers
    assert answered.headers["cache-control"] == "no-cache, public"
    assert answered.headers["vary"] == "Accept-Language, Cookie"
    assert answered.headers["x-content-type-options"] == "nosniff" and "set-cookie" not in answered.headers
    assert "script-src 'self'" in answered.headers["content-security-policy"]
    assert int(answered.headers["content-length"]) == len(answered.content)
    again = await harness.client.get(URL, headers={"If-None-Match": answered.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == answered.headers["etag"]
    assert again.headers["cache-control"] == "no-cache, public" and "content-type" not in again.headers
    assert handler_runs.offices == ["amt"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("services=a&date=2027-13-11", 400),
        (f"date={DAY}", 400),
        (f"services=a&date={DAY}&mode=fax", 400),
        (f"services=zz&date={DAY}", 422),
        (f"services=a&date={DAY}&mode=video", 422),
    ],
)
async def test_a_refused_query_still_goes_to_the_handler(
    harness: Harness, handler_runs: HandlerRuns, query: str, status: int
) -> None:
    await harness.load(make_config())
    assert (await harness.client.get(URL)).status_code == 200
    refused = await harness.client.get(f"/api/v1/offices/amt/availability?{query}")
    assert refused.status_code == status, refused.text
    assert refused.headers["cache-control"] == "no-store" and "etag" not in refused.headers
    again = await harness.client.get(f"/api/v1/offices/amt/availability?{query}")
    assert again.status_code == status  # refusals are never kept
    unknown = await harness.client.get(f"/api/v1/offices/nope/availability?services=a&date={DAY}")
    assert unknown.status_code == 404


async def test_a_booking_changes_the_next_answer_at_once(harness: Harness, handler_runs: HandlerRuns) -> None:
    await harness.load(make_config())
    before = await harness.client.get(URL)
    assert (await harness.client.get(URL)).content == before.content and len(handler_runs.offices) == 1
    assert NINE in starts(before)

    booked = await harness.client.post("/api/v1/bookings", json=booking_body(NINE))
    assert booked.status_code == 201, booked.text
    after = await harness.client.get(URL, headers={"If-None-Match": before.headers["etag"]})
    assert NINE not in starts(after) and after.headers["etag"] != before.headers["etag"]
    assert starts(after) == [s for s in starts(before) if s != NINE]

    manage = {"Authorization": f"Bearer {booked.json()['manage_token']}"}
    cancelled = await harness.client.post(f"/api/v1/bookings/{booked.json()['code']}/cancel", headers=manage)
    assert cancelled.status_code == 200
    assert (await harness.client.get(URL)).content == before.content


def _instants() -> list[datetime]:
    """Instants around every point where the window lets another slot of DAY or of the window's last day through
    (a slot's start minus the lead; the window's end reaching a start), and the night when DAY is past."""
    found = []
    for minutes in range(0, 5 * 60 + 1, 15):  # DAY's starts from 08:00 Berlin, minus the lead
        edge = datetime(2027, 1, 11, 6, 30, tzinfo=UTC) + timedelta(minutes=minutes)
        found += [edge - timedelta(microseconds=1), edge, edge + timedelta(microseconds=1)]
    midnight = datetime(2027, 1, 11, 23, 0, tzinfo=UTC)
    return [*found, midnight - timedelta(microseconds=1), midnight]


@pytest.mark.parametrize("office", [{}, {"releases": RELEASES}], ids=["horizon", "releases"])
async def test_the_answer_follows_the_booking_window_by_the_injected_clock(
    db_url: str, clock: ManualClock, handler_runs: HandlerRuns, office: dict[str, Any]
) -> None:
    """At each instant (forwards, then backwards) the answer from memory is the one `availability` gives then.
    The caches may be a day old here: a clock set back further than their setting voids them (a value from the
    future counts as stale), which would send every request back to the database."""
    async with open_harness(db_url, clock, availability_cache_seconds=86_400.0) as harness:
        await _sweep(harness, handler_runs, office)


async def _sweep(harness: Harness, handler_runs: HandlerRuns, office: dict[str, Any]) -> None:
    await harness.load(make_config(lead_time_minutes=int(LEAD.total_seconds() // 60), **office))
    days = [date(2027, 1, 11), date(2027, 1, 22), date(2027, 3, 12)]  # today, last released, 60 days on
    sessions, catalog = harness.runtime.read_session_maker, harness.runtime.get(Catalog)
    cache = harness.runtime.get(service.AvailabilityCache)
    moments = _instants()
    for at in [*moments, *reversed(moments)]:
        harness.clock.set(at)
        for day in days:
            url = f"/api/v1/offices/amt/availability?services=a&date={day}"
            expected = await handler_runs.real(
                sessions, catalog=catalog, cache=cache, office_slug="amt", service_slugs=["a"], day=day, now=at
            )
            assert (await harness.client.get(url)).content == presenters.availability_json(expected), (at, day)
            runs = len(handler_runs.offices)
            assert (await harness.client.get(url)).content == presenters.availability_json(expected), (at, day)
            # From memory unless the day lies outside the window (nothing to keep: no cached day to check).
            rules = expected.office
            bookable = rules.local_day(at) <= day <= rules.local_day(rules.booking_window(at)[1])
            assert len(handler_runs.offices) == runs + (0 if bookable else 1), (at, day)


async def test_refusals_by_the_rate_limit_and_metrics_as_before(db_url: str, clock: ManualClock) -> None:
    async with open_harness(db_url, clock, availability_rate_limit_per_minute=3) as harness:
        await harness.load(make_config())
        _, before = await scrape(harness)
        answers = [await harness.client.get(URL) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert "retry-after" in answers[-1].headers
        _, after = await scrape(harness)
        labels = {"method": "GET", "path": "/api/v1/offices/{office}/availability", "app_name": "rathaus"}
        ok = value(after, "rathaus_http_requests_total", **labels, status_code="200")
        assert ok - value(before, "rathaus_http_requests_total", **labels, status_code="200") == 3


async def test_a_booking_on_another_instance_reaches_the_answer_within_the_cache_setting(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    one = live_server_factory(db_url, clock, availability_cache_seconds=TTL)
    two = live_server_factory(db_url, clock, availability_cache_seconds=TTL)
    async with SolvingHttpClient(timeout=10) as client:
        kept = await client.get(two.url + URL)
        assert NINE in starts(kept) and (await client.get(two.url + URL)).content == kept.content
        booked = await client.post(one.url + "/api/v1/bookings", json=booking_body(NINE))
        assert booked.status_code == 201, booked.text
        assert NINE not in starts(await client.get(one.url + URL))  # at once where it was made
        # Within the setting instance two still answers from its young day (the database judges a booking) …
        assert (await client.get(two.url + URL)).content == kept.content
        clock.advance(timedelta(seconds=TTL, milliseconds=1))
        # … and its first answer past it no longer offers 09:00: no stale answer, not even once.
        assert NINE not in starts(await client.get(two.url + URL))
