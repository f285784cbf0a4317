"""The proof-of-work widget in Chromium: it solves by itself under the strict CSP (no violation reported), the form
then books with the keyboard only, and axe finds nothing on the form in German and English at both widths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rathaus.clock import ManualClock
from tests.browser import app_context, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.factories import make_config
from tests.web.test_booking_browser import PHONE, check, tab_to

pytestmark = pytest.mark.anyio

CONTACT = "/book/contact?office=amt&services=a&start=2027-01-11T08:00:00%2B01:00"
# Collects every CSP violation the page reports (the listener is installed before any script of the page runs).
LISTEN = "window.__violations = []; document.addEventListener('securitypolicyviolation', e => "
LISTEN += "window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"


@pytest.mark.parametrize(
    ("locale", "lang", "verified", "booked"),
    [("de-DE", "de", "Überprüft", "Ihr Termin ist gebucht"), ("en-GB", "en", "Verified", "Your appointment is booked")],
)
async def test_the_widget_solves_under_the_strict_csp_and_the_form_books(
    sqlite_harness: Harness,
    sqlite_url: str,
    clock: ManualClock,
    live_server_factory: Callable[..., LiveServer],
    locale: str,
    lang: str,
    verified: str,
    booked: str,
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(make_config())
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        strict = await app_context(browser, clock, viewport=PHONE, locale=locale)
        await strict.add_init_script(LISTEN)
        page = await strict.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        await page.goto(server.url + CONTACT)
        await expect(page.locator('altcha-widget input[name="altcha"]')).not_to_have_value("", timeout=20_000)
        await expect(page.locator("altcha-widget")).to_contain_text(verified)
        await tab_to(page, "#name")
        await page.keyboard.type("Erika Mustermann")
        await tab_to(page, "#email")
        await page.keyboard.type("erika@example.org")
        await tab_to(page, 'button[type="submit"]')
        await page.keyboard.press("Enter")
        await expect(page.locator(".kern-alert--success")).to_contain_text(booked)
        assert await page.evaluate("window.__violations") == [] and errors == []

        # Sent while the check still runs (its challenge held back here), the form waits for it, then books.
        held: list[Any] = []

        def hold(route: Any) -> None:  # Playwright tags its handler: a bound builtin like list.append cannot be one
            held.append(route)

        await page.route("**/api/v1/altcha/challenge", hold)
        await page.goto(server.url + CONTACT.replace("08:00", "08:15"))
        await page.fill("#name", "Max Mustermann")
        await page.fill("#email", "max@example.org")
        await page.locator('button[type="submit"]').click()
        await expect(page.locator("#name")).to_be_visible()
        await held[0].continue_()
        await expect(page.locator(".kern-alert--success")).to_contain_text(booked)
        await strict.close()

        # axe is injected as a script of its own, which the CSP would refuse: this context lets it in.
        relaxed = await app_context(browser, clock, viewport=PHONE, locale=locale, bypass_csp=True)
        page = await relaxed.new_page()
        await page.goto(server.url + CONTACT)
        await expect(page.locator("altcha-widget")).to_contain_text(verified, timeout=20_000)
        await check(page, f"{lang}-altcha-contact")
        await page.goto(server.url + "/wishes/new?services=a&office=amt")
        await expect(page.locator("altcha-widget")).to_contain_text(verified, timeout=20_000)
        await check(page, f"{lang}-altcha-wish")
        await relaxed.close()
