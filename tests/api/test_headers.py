"""Security headers on every response, no-store on everything personal, public caching only where said."""

from __future__ import annotations

import re

import pytest

from rathaus.assets import asset_url
from rathaus.clock import ManualClock
from rathaus.settings import Settings, SettingsError
from tests.conftest import DEFAULT_NOW, TEST_SECRET, Harness, open_harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
OK = "2027-01-11T11:00:00+01:00"


async def _everything(harness: Harness) -> dict[str, tuple[int, dict[str, str], str]]:
    """One response of each kind: API, errors, pages, feeds, static files, the API documentation."""
    harness.clock.set(DEFAULT_NOW.replace(hour=9))  # 10:00 in Berlin: open, walk-ins welcome
    await harness.load(make_config())
    staff = {"Authorization": f"Bearer {await staff_token(harness, 'chef')}"}
    booked = (await harness.client.post("/api/v1/bookings", json=booking_body(OK))).json()
    manage = {"Authorization": f"Bearer {booked['manage_token']}"}
    code = booked["code"]
    walk_in = await harness.client.post("/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=staff)
    ticket = walk_in.json()["public_id"]
    requests = {
        "booking POST": ("POST", "/api/v1/bookings", booking_body("2027-01-11T11:15:00+01:00"), {}),
        "booking GET": ("GET", f"/api/v1/bookings/{code}", None, manage),
        "messages": ("GET", f"/api/v1/bookings/{code}/messages", None, manage),
        "booking ics": ("GET", f"/api/v1/bookings/{code}/calendar.ics", None, manage),
        "token": ("POST", "/api/v1/auth/token", {"username": "chef", "password": "wrong"}, {}),
        "queue": ("GET", "/api/v1/offices/amt/queue", None, staff),
        "outbox": ("GET", "/api/v1/offices/amt/outbox", None, staff),
        "closures": ("GET", "/api/v1/offices/amt/closures", None, staff),
        "ticket": ("GET", f"/api/v1/tickets/{ticket}", None, {}),
        "404": ("GET", "/api/v1/nothing", None, {}),
        "405": ("DELETE", "/api/v1/services", None, {}),
        "home page": ("GET", "/", None, {}),
        "ticket page": ("GET", f"/tickets/{ticket}", None, {}),
        "board page": ("GET", "/offices/amt/board", None, {}),
        "availability": ("GET", "/api/v1/offices/amt/availability?services=a&date=2027-01-12", None, {}),
        "services": ("GET", "/api/v1/services", None, {}),
        "feed": ("GET", "/feeds/amt/hours.ics", None, {}),
        "embed": ("GET", "/feeds/amt/embed.html", None, {}),
        "static": ("GET", asset_url("rathaus.css") or "/static/missing", None, {}),
        "schema": ("GET", "/schema/openapi.json", None, {}),
    }
    answers = {}
    for name, (method, url, body, headers) in requests.items():
        answer = await harness.client.request(method, url, json=body, headers=headers)
        answers[name] = (answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.text)
    return answers


async def test_every_response_carries_the_security_headers(harness: Harness) -> None:
    for name, (status, headers, _) in (await _everything(harness)).items():
        assert status < 500, name
        assert "frame-ancestors" in headers.get("content-security-policy", ""), name
        assert headers.get("x-content-type-options") == "nosniff", name
        assert headers.get("referrer-policy") == "no-referrer", name
        assert "strict-transport-security" not in headers, f"{name}: HSTS only in production"


async def test_personal_data_is_never_stored_and_public_data_says_so(harness: Harness) -> None:
    answers = await _everything(harness)
    personal = ["booking POST", "booking GET", "messages", "booking ics", "token", "queue", "outbox", "closures"]
    for name in [*personal, "ticket", "404", "ticket page"]:
        assert answers[name][1]["cache-control"] == "no-store", name
    for name in ["availability", "services", "feed", "embed", "static"]:
        assert "public" in answers[name][1]["cache-control"], name
    assert "Accept-Language" in answers["availability"][1]["vary"]


async def test_pages_have_a_strict_policy_and_run_no_inline_script(harness: Harness) -> None:
    answers = await _everything(harness)
    for name in ("home page", "ticket page", "board page"):
        _, headers, html = answers[name]
        policy = headers["content-security-policy"]
        assert "unsafe-inline" not in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        inline = [s for s in re.findall(r"<script([^>]*)>", html) if "src=" not in s and "application/" not in s]
        assert inline == [], name
        assert "<style>" not in html and " style=" not in html, name


async def test_the_embed_snippet_may_be_framed_by_the_configured_city_sites(
    sqlite_url: str, clock: ManualClock
) -> None:
    origins = "https://www.stadt.example, https://intranet.stadt.example"
    async with open_harness(sqlite_url, clock, embed_origins=origins) as harness:
        await harness.load(make_config())
        embed = await harness.client.get("/feeds/amt/embed.html")
        page = await harness.client.get("/")
    policy = embed.headers["content-security-policy"]
    assert "frame-ancestors https://www.stadt.example https://intranet.stadt.example" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_production_sends_hsts(sqlite_url: str, clock: ManualClock) -> None:
    production = {
        "environment": "production",
        "secret_key": TEST_SECRET,
        "email_channel": "file",
        "sms_channel": "file",
        "public_base_url": "https://termine.stadt.example",
    }
    async with open_harness(sqlite_url, clock, **production) as harness:
        for url in ("/api/v1/services", "/", "/nothing"):
            answer = await harness.client.get(url)
            assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains", url


@pytest.mark.parametrize("origins", ["https://a.example; script-src *", "www.stadt.example", "https://a.example/path"])
def test_embed_origins_must_be_origins(origins: str) -> None:
    with pytest.raises(SettingsError, match="RATHAUS_EMBED_ORIGINS"):
        Settings(embed_origins=origins, secret_key=TEST_SECRET).validated()
