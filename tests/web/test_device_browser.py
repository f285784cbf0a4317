"""Remember me and my appointments on this device (device.js) under the real CSP, and axe on the accessibility
statement and the device list. Screenshots land in test-artifacts/screenshots/."""

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

# DEFAULT_NOW is Monday 11 January 2027, 07:00 in Berlin; the office opens 08:00-12:00 on weekdays.
SLOTS = ("2027-01-11T08:00:00+01:00", "2027-01-11T08:15:00+01:00")


def contact_url(server: LiveServer, start: str) -> str:
    return f"{server.url}/book/contact?office=amt&services=a&start={start.replace('+', '%2B')}"


async def test_remember_me_fills_the_next_booking_and_forget_me_clears_it(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(make_config())
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        # The CSP is enforced here: a blocked inline script or style would show in the console.
        context = await app_context(browser, clock, viewport=PHONE, locale="en-GB", bypass_csp=False)
        page = await context.new_page()
        console: list[str] = []
        # The browser's own /favicon.ico request (a 404) logs "Failed to load resource" without a page
        # response; the page's resources are checked by their responses instead.
        page.on(
            "console",
            lambda m: None if "Failed to load resource" in m.text else console.append(f"{m.type}: {m.text}"),
        )
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        page.on("response", lambda r: console.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        await page.goto(contact_url(server, SLOTS[0]))
        await expect(page.locator("#device-filled")).to_be_hidden()  # nothing remembered yet
        await tab_to(page, "#name")
        await page.keyboard.type("Erika Mustermann")
        await tab_to(page, "#email")
        await page.keyboard.type("erika@example.org")
        await tab_to(page, 'button[type="submit"]')
        await page.keyboard.press("Enter")
        await expect(page.locator(".kern-alert--success")).to_contain_text("Your appointment is booked")
        own = page.url.removeprefix(server.url).removesuffix("&new=1")

        remember = page.locator("#device-remember")
        await expect(remember).to_be_visible()
        await tab_to(page, "#remember-me")
        await page.keyboard.press("Space")
        await expect(remember.locator("[aria-live]")).to_have_text(
            "Your name and contact are remembered on this device."
        )
        await expect(page.locator("#forget-me")).to_be_visible()
        stored = await page.evaluate("JSON.parse(localStorage.getItem('rathaus.contact'))")
        assert stored == {"name": "Erika Mustermann", "email": "erika@example.org", "phone": ""}

        await page.goto(f"{server.url}/my-appointments")
        link = page.locator("#device-appointments ul a")
        await expect(link).to_have_count(1)
        assert await link.get_attribute("href") == own
        await expect(link).to_contain_text("Monday, 11 January 2027")

        # The next booking's form is filled in from this device; forget me empties it again.
        await page.goto(contact_url(server, SLOTS[1]))
        await expect(page.locator("#name")).to_have_value("Erika Mustermann")
        await expect(page.locator("#email")).to_have_value("erika@example.org")
        filled = page.locator("#device-filled")
        await expect(filled.locator("[aria-live]")).to_have_text("We have filled in your details from this device.")
        await tab_to(page, "#device-filled button")
        await page.keyboard.press("Enter")
        await expect(page.locator("#name")).to_have_value("")
        await expect(page.locator("#email")).to_have_value("")
        await expect(filled.locator("[aria-live]")).to_have_text("Your details are forgotten on this device.")
        assert await page.evaluate("localStorage.getItem('rathaus.contact')") is None
        await page.reload()
        await expect(page.locator("#name")).to_have_value("")

        # The list can be removed from the device with the keyboard too.
        await page.goto(f"{server.url}/my-appointments")
        await tab_to(page, "#device-clear")
        await page.keyboard.press("Enter")
        await expect(page.locator("#device-appointments [aria-live]")).to_have_text(
            "The list has been removed from this device."
        )
        await expect(page.locator("#device-empty")).to_be_focused()
        assert console == [], console


async def test_without_javascript_no_control_appears(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(make_config())
    # Booking without JavaScript needs the proof of work off (tests/web/test_no_javascript_browser.py).
    server = live_server_factory(sqlite_url, clock, altcha=False)
    async with chromium_browser(chromium) as browser:
        context = await browser.new_context(viewport=PHONE, locale="en-GB", java_script_enabled=False)
        page = await context.new_page()
        await page.goto(contact_url(server, SLOTS[0]))
        await expect(page.locator("#device-filled")).to_be_hidden()
        await page.fill("#name", "Erika Mustermann")
        await page.fill("#email", "erika@example.org")
        await page.click('button[type="submit"]')
        await expect(page.locator(".kern-alert--success")).to_be_visible()
        await expect(page.locator("#device-remember")).to_be_hidden()
        await page.goto(f"{server.url}/my-appointments")
        # Playwright turns script execution off but not the parser's scripting flag, so Chromium does not
        # render <noscript> here as it would with JavaScript switched off; the explanation is in the page.
        assert "<noscript><p>This list needs JavaScript" in await page.content()
        await expect(page.locator("#device-appointments")).to_be_hidden()


@pytest.mark.parametrize(("locale", "lang"), [("de-DE", "de"), ("en-GB", "en")])
async def test_the_statement_and_the_device_list_pass_axe(
    sqlite_harness: Harness,
    sqlite_url: str,
    clock: ManualClock,
    live_server_factory: Callable[..., LiveServer],
    locale: str,
    lang: str,
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(make_config(email="amt@example.org"))
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        # axe is injected as a script of its own, which only a context that bypasses the CSP allows.
        context = await app_context(browser, clock, viewport=PHONE, locale=locale, bypass_csp=True)
        page: Any = await context.new_page()
        await page.goto(f"{server.url}/accessibility")
        await check(page, f"{lang}-a11y-statement")

        await tab_to(page, 'form[action="/accessibility"] button[type="submit"]')
        await page.keyboard.press("Enter")  # nothing described: the form comes back with the reason
        await expect(page.locator("#text-error")).to_be_visible()
        await check(page, f"{lang}-a11y-error")

        await page.fill("#text", "The month table is hard to read with a screen magnifier.")
        await page.click('form[action="/accessibility"] button[type="submit"]')
        await expect(page.locator(".kern-alert--success")).to_be_visible()
        await check(page, f"{lang}-a11y-thanks")

        await page.goto(f"{server.url}/my-appointments")
        await expect(page.locator("#device-empty")).to_be_visible()
        await check(page, f"{lang}-device-empty")
        entry = {"url": "/bookings/ABC123?token=t", "when": "Montag, 11. Januar 2027, 08:00", "office": "Testamt"}
        await page.evaluate("(e) => localStorage.setItem('rathaus.appointments', JSON.stringify([e]))", entry)
        await page.reload()
        await expect(page.locator("#device-appointments ul a")).to_have_count(1)
        await check(page, f"{lang}-device-list")
