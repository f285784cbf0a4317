"""A citizen books "moving to Berlin" across two offices on a phone with the keyboard only, in German and in
English; axe finds nothing on any page of the path. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking, SlotClaim
from rathaus.clock import ManualClock
from rathaus.offices.config import read_config
from tests.browser import app_context, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.web.test_booking_browser import PHONE, check, tab_to

pytestmark = pytest.mark.anyio
DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"


@pytest.mark.parametrize(
    ("locale", "lang", "texts"),
    [
        ("de-DE", "de", {"event": "Nach Berlin ziehen (mit Auto)", "booked": "Ihre Termine sind gebucht"}),
        ("en-GB", "en", {"event": "Moving to Berlin (with a car)", "booked": "Your appointments are booked"}),
    ],
)
async def test_a_citizen_books_a_life_event_across_offices_with_the_keyboard_only(
    sqlite_harness: Harness,
    sqlite_url: str,
    clock: ManualClock,
    live_server_factory: Callable[..., LiveServer],
    locale: str,
    lang: str,
    texts: dict[str, str],
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(read_config(DEMO))
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        context = await app_context(browser, clock, viewport=PHONE, locale=locale, bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{server.url}/book")
        await tab_to(page, 'a[href="/life-events/nach-berlin-ziehen/plan"]')
        await page.keyboard.press("Enter")
        await expect(page.locator("h1")).to_have_text(texts["event"])
        await check(page, f"{lang}-itinerary-1-choose")

        await tab_to(page, 'input[name="choice"]')
        await page.keyboard.press("ArrowDown")  # the second day; arrows move within a radio group
        await page.keyboard.press("Space")
        await tab_to(page, 'button[type="submit"]')
        await page.keyboard.press("Enter")
        await expect(page.locator("#name")).to_be_visible()
        # The screenshot shows the check solved (not expired: the browser runs on the app's clock).
        await expect(page.locator('altcha-widget input[name="altcha"]')).not_to_have_value("", timeout=20_000)
        await check(page, f"{lang}-itinerary-2-contact")

        await tab_to(page, "#name")
        await page.keyboard.type("Erika Mustermann")
        await tab_to(page, "#email")
        await page.keyboard.type("erika@example.org")
        await tab_to(page, 'button[type="submit"]')
        await page.keyboard.press("Enter")
        await expect(page.locator(".kern-alert--success")).to_contain_text(texts["booked"])
        assert await page.evaluate("document.documentElement.lang") == lang
        await check(page, f"{lang}-itinerary-3-booked")

        # Both parts are booked at their two offices, each with its claims.
        async with sqlite_harness.session() as s:
            bookings = (await s.scalars(select(Booking))).all()
            claims = (await s.scalars(select(SlotClaim))).all()
        assert len(bookings) == 2 and {b.status for b in bookings} == {"confirmed"}
        assert len({b.office_id for b in bookings}) == 2 and len(claims) == 3

        # Cancelling all from the itinerary's page frees every claim.
        await tab_to(page, 'form[action$="/cancel"] button')
        await page.keyboard.press("Enter")
        await expect(page.locator('form[action$="/cancel"]')).to_have_count(0)
        await check(page, f"{lang}-itinerary-4-cancelled")
        async with sqlite_harness.session() as s:
            assert (await s.scalars(select(SlotClaim))).all() == []
