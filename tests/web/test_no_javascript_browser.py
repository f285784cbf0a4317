"""With JavaScript switched off in Chromium a citizen gets from the home page to a booked appointment, in German:
links, plain forms and redirects carry the whole path (with the proof of work off); with it on, the form says that
its check needs JavaScript and how else to get an appointment."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from tests.browser import chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.factories import make_config
from tests.web.test_booking_browser import PHONE

pytestmark = pytest.mark.anyio


async def test_booking_from_the_home_page_without_javascript(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(make_config(address="Rathausplatz 1, 12345 Musterstadt"))
    # The proof of work needs JavaScript (README, "No reward for bots"): a city that switches it off keeps the
    # whole path free of it; with it on, the form says so (tested below).
    server = live_server_factory(sqlite_url, clock, altcha=False)
    async with chromium_browser(chromium) as browser:
        context = await browser.new_context(viewport=PHONE, locale="de-DE", java_script_enabled=False, bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{server.url}/")
        await page.locator('a[href="/services/a"]').first.click()
        await expect(page.locator("h1")).to_have_text("Dienst A")
        await page.locator('a[href^="/book?"]').first.click()
        await expect(page.locator("table.month caption")).to_contain_text("Januar 2027")
        await page.locator("a.free").first.click()
        await expect(page.locator("h1")).to_have_text("Uhrzeit wählen")
        await page.locator('label[for="slot-2"]').click()  # 08:15
        await page.locator('button[type="submit"]').click()
        await expect(page.locator("#name")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("Montag, 11. Januar 2027, 08:15 bis 08:30 Uhr")
        await page.locator("#name").fill("Erika Mustermann")
        await page.locator("#email").fill("erika@example.org")
        await page.locator('button[type="submit"]').click()
        await expect(page.locator(".kern-alert--success")).to_contain_text("Ihr Termin ist gebucht")
        await expect(page.locator(".kern-description-list")).to_contain_text("Bestätigt")
        assert "/bookings/" in page.url and "token=" in page.url
    async with sqlite_harness.session() as session:
        [booking] = (await session.scalars(select(Booking))).all()
    assert booking.status == "confirmed" and booking.language == "de"


async def test_without_javascript_the_form_says_that_the_check_needs_it(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(make_config())
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        context = await browser.new_context(viewport=PHONE, locale="de-DE", java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{server.url}/book/contact?office=amt&services=a&start=2027-01-11T08:00:00%2B01:00")
        # Playwright's text selectors skip <noscript>, which the browser shows with JavaScript off.
        await expect(page.locator("#altcha-label")).to_have_text("Prüfung gegen Roboter")
        assert "<noscript><p" in (html := await page.content()) and "Diese Prüfung braucht JavaScript" in html
