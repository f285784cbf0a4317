"""The accessibility statement and its form to report a barrier: plain HTTP, no JavaScript."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rathaus.booking import service as booking_service
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.offices.models import BarrierReport
from tests.conftest import Harness, open_harness
from tests.factories import make_config
from tests.staff_helpers import staff_token
from tests.web.test_booking_pages import csrf

pytestmark = pytest.mark.anyio


async def reports(harness: Harness) -> list[BarrierReport]:
    async with harness.session() as session:
        return list((await session.scalars(select(BarrierReport).order_by(BarrierReport.id))).all())


async def test_the_statement_in_both_languages_is_linked_from_every_page(harness: Harness) -> None:
    await harness.load(make_config(email="amt@example.org"))
    home = await harness.client.get("/")
    assert 'href="/accessibility"' in home.text
    german = await harness.client.get("/accessibility")
    assert german.status_code == 200
    assert "Erklärung zur Barrierefreiheit" in german.text and "WCAG" in german.text and "EN 301 549" in german.text
    assert "Schlichtungsstelle nach § 16" in german.text and "amt@example.org" in german.text
    assert "Content-Security-Policy" in german.headers
    english = await harness.client.get("/accessibility", headers={"accept-language": "en"})
    assert "Accessibility statement" in english.text and "Enforcement procedure" in english.text


async def test_a_report_is_stored_and_thanked_for_after_a_redirect(harness: Harness) -> None:
    await harness.load(make_config())
    page = await harness.client.get("/accessibility", headers={"accept-language": "en"})
    form = {
        "_csrf_token": csrf(page),
        "page": "/book",
        "text": "The calendar is hard to read.",
        "email": "E@Example.org",
    }
    sent = await harness.client.post("/accessibility", data=form, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/accessibility?sent=1"
    thanks = await harness.client.get(sent.headers["location"], headers={"accept-language": "en"})
    assert "Thank you" in thanks.text
    [report] = await reports(harness)
    assert (report.page, report.text, report.email, report.status) == (
        "/book",
        "The calendar is hard to read.",
        "E@example.org",
        "new",
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"text": "  "}, "text", "Please describe the problem."),
        ({"text": "x" * 2001}, "text", "at most 2000 characters"),
        ({"text": "Buttons too small", "email": "not-an-address"}, "email", "The e-mail address is invalid"),
    ],
)
async def test_a_mistake_shows_the_form_again_with_the_reason_next_to_its_field(
    harness: Harness, fields: dict[str, str], field: str, message: str
) -> None:
    await harness.load(make_config())
    page = await harness.client.get("/accessibility", headers={"accept-language": "en"})
    answer = await harness.client.post(
        "/accessibility", data={"_csrf_token": csrf(page), **fields}, headers={"accept-language": "en"}
    )
    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text and message in answer.text
    assert 'aria-invalid="true"' in answer.text and 'href="#' + field + '"' in answer.text
    assert await reports(harness) == []


async def test_the_form_needs_its_csrf_token(harness: Harness) -> None:
    await harness.load(make_config())
    answer = await harness.client.post("/accessibility", data={"text": "x"})
    assert answer.status_code == 403 and await reports(harness) == []


async def test_admins_read_the_reports_desk_staff_and_strangers_do_not(harness: Harness) -> None:
    await harness.load(make_config())
    page = await harness.client.get("/accessibility")
    await harness.client.post("/accessibility", data={"_csrf_token": csrf(page), "text": "Contrast of the links"})
    admin = await staff_token(harness, "chefin", role="admin")
    desk = await staff_token(harness, "schalter", role="desk")
    url = "/api/v1/barrier-reports"
    assert (await harness.client.get(url)).status_code == 401
    assert (await harness.client.get(url, headers={"authorization": f"Bearer {desk}"})).status_code == 403
    answer = await harness.client.get(url, headers={"authorization": f"Bearer {admin}"})
    assert answer.status_code == 200
    [report] = answer.json()
    assert report["text"] == "Contrast of the links" and report["email"] is None and report["status"] == "new"
    schema = (await harness.client.get("/schema/openapi.json")).json()
    assert "get" in schema["paths"]["/api/v1/barrier-reports"]


async def test_the_purge_erases_a_reporters_address_after_the_retention_period(harness: Harness) -> None:
    await harness.load(make_config())
    page = await harness.client.get("/accessibility")
    form = {"_csrf_token": csrf(page), "text": "Focus invisible", "email": "e@example.org"}
    await harness.client.post("/accessibility", data=form)
    harness.clock.advance(timedelta(days=31))
    await run_unit(
        harness.runtime,
        lambda s: booking_service.purge_personal_data(s, retention=timedelta(days=30), now=harness.clock.now()),
    )
    [report] = await reports(harness)
    assert report.email is None and report.text == "Focus invisible"


async def test_the_form_is_rate_limited_like_bookings(sqlite_url: str, clock: ManualClock) -> None:
    async with open_harness(sqlite_url, clock, booking_rate_limit_per_minute=2) as limited:
        await limited.load(make_config())
        page = await limited.client.get("/accessibility")
        form = {"_csrf_token": csrf(page), "text": "Flood"}
        codes = [(await limited.client.post("/accessibility", data=form)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
