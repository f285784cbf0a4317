"""Rate limits per client that hold across instances: two app instances on one database refuse together past the
limit (SQLite file and PostgreSQL), each refusal a 429 with Retry-After, as JSON for the API and as a page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rathaus.clock import ManualClock
from rathaus.fairness import RateLimiter, kind_of
from rathaus.fairness.models import RequestCount
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio

AVAILABILITY = "/api/v1/offices/amt/availability?services=a&date=2027-01-11"


async def share(*instances: Harness) -> None:
    """One round of what each instance's background task does every second."""
    for instance in instances:
        await instance.runtime.get(RateLimiter).sync(instance.runtime.session_maker, instance.clock.now())


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/api/v1/offices/amt/availability", "availability"),
        ("GET", "/book/time", "availability"),
        ("POST", "/api/v1/bookings/", "booking"),
        ("POST", "/book/contact", "booking"),
        ("POST", "/api/v1/bookings/ABC123/reschedule", "booking"),
        ("POST", "/wishes", "wish"),
        ("GET", "/api/v1/bookings/ABC123", "lookup"),
        ("GET", "/offers/some-token", "lookup"),
        ("POST", "/bookings/ABC123/cancel", "lookup"),
        ("GET", "/wishes/new", None),
        ("GET", "/api/v1/offices/amt", None),
        ("GET", "/static/kern.0123.css", None),
    ],
)
def test_which_limit_counts_a_request(method: str, path: str, kind: str | None) -> None:
    assert kind_of(method, path) == kind


async def test_two_instances_refuse_together_past_the_limit(db_url: str, clock: ManualClock) -> None:
    limits = {"availability_rate_limit_per_minute": 3, "rate_limit_sync_seconds": 0}
    async with open_harness(db_url, clock, **limits) as first:
        await first.load(make_config())
        async with open_harness(db_url, clock, **limits) as second:
            await refuse_together(first, second, clock)


async def refuse_together(first: Harness, second: Harness, clock: ManualClock) -> None:
    """Requests to either instance count against one limit of 3 a minute (the second started after the load, so
    that its catalogue knows the office)."""
    assert [(await first.client.get(AVAILABILITY)).status_code for _ in range(2)] == [200, 200]
    await share(first, second)
    assert (await second.client.get(AVAILABILITY)).status_code == 200
    refused = await second.client.get(AVAILABILITY)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert refused.headers["retry-after"] == "60"  # the clock stands at the start of a minute
    assert "60" in refused.json()["detail"]
    await share(second, first)
    assert (await first.client.get(AVAILABILITY)).status_code == 429
    # The next window starts afresh, and the past one's counts are gone from the table.
    clock.advance(timedelta(minutes=1))
    assert (await first.client.get(AVAILABILITY)).status_code == 200
    await share(first, second)
    async with first.session() as s:
        windows = set((await s.scalars(select(RequestCount.window))).all())
        stored = set((await s.scalars(select(RequestCount.client))).all())
    assert windows == {int(clock.now().timestamp()) // 60}
    assert all(len(client) == 32 and "testclient" not in client for client in stored)


async def test_each_kind_counts_on_its_own(sqlite_url: str, clock: ManualClock) -> None:
    limits = {"availability_rate_limit_per_minute": 1, "booking_rate_limit_per_minute": 1}
    async with open_harness(sqlite_url, clock, **limits) as h:
        await h.load(make_config())
        assert (await h.client.get(AVAILABILITY)).status_code == 200
        assert (await h.client.get(AVAILABILITY)).status_code == 429
        booked = await h.client.post("/api/v1/bookings", json=booking_body("2027-01-11T09:00:00+01:00"))
        assert booked.status_code == 201
        again = await h.client.post("/api/v1/bookings", json=booking_body("2027-01-11T10:00:00+01:00"))
        assert again.status_code == 429 and again.json()["code"] == "too_many_requests"
        clock.advance(timedelta(seconds=45))
        assert (await h.client.get(AVAILABILITY)).headers["retry-after"] == "15"


@pytest.mark.parametrize(("language", "words"), [("de", "Bitte warten Sie kurz"), ("en", "Please wait a moment")])
async def test_a_page_past_the_limit_says_how_long_to_wait(
    sqlite_url: str, clock: ManualClock, language: str, words: str
) -> None:
    async with open_harness(sqlite_url, clock, availability_rate_limit_per_minute=1) as h:
        await h.load(make_config())
        url = "/book/time?office=amt&services=a&date=2027-01-11"
        headers = {"Accept-Language": language}
        assert (await h.client.get(url, headers=headers)).status_code == 200
        refused = await h.client.get(url, headers=headers)
        assert refused.status_code == 429 and refused.headers["content-type"].startswith("text/html")
        assert words in refused.text and f'lang="{language}"' in refused.text
        assert refused.headers["retry-after"] == "60"
        assert "script-src 'self'" in refused.headers["content-security-policy"]


async def test_lookups_of_codes_are_limited(sqlite_url: str, clock: ManualClock) -> None:
    async with open_harness(sqlite_url, clock, lookup_rate_limit_per_minute=2) as h:
        codes = [(await h.client.get(f"/api/v1/bookings/GUESS{i}?token=x")).status_code for i in range(3)]
        assert codes == [404, 404, 429]


async def test_the_limits_are_documented(sqlite_url: str, clock: ManualClock) -> None:
    async with open_harness(sqlite_url, clock, availability_rate_limit_per_minute=5) as h:
        schema = (await h.client.get("/schema/openapi.json")).json()
        availability = schema["paths"]["/api/v1/offices/{office}/availability"]["get"]["responses"]
        assert "Retry-After" in availability["429"]["headers"]
        assert "429" not in schema["paths"]["/api/v1/bookings"]["post"]["responses"]
