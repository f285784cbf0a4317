"""A citizen books on a phone with the keyboard only, in German and in English; axe finds nothing on any page of
the path at phone and desktop widths. Screenshots of every page land in test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rathaus.clock import ManualClock
from tests.browser import app_context, axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.factories import make_config

pytestmark = pytest.mark.anyio

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


async def tab_to(page: Any, selector: str, presses: int = 80) -> None:
    """Press Tab until the focus is on an element matching `selector`."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def check(page: Any, name: str) -> None:
    """axe finds nothing at both widths; a screenshot of each; the phone width again for the keyboard."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("390", PHONE), ("1280", DESKTOP)):
        await page.set_viewport_size(size)
        assert await axe_violations(page) == [], f"{name} at {label}px"
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(PHONE)


@pytest.mark.parametrize(
    ("locale", "lang", "texts"),
    [
        ("de-DE", "de", {"booked": "Ihr Termin ist gebucht", "time": "Uhrzeit wählen"}),
        ("en-GB", "en", {"booked": "Your appointment is booked", "time": "Choose a time"}),
    ],
)
async def test_a_citizen_books_with_the_keyboard_only(
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

    await sqlite_harness.load(make_config(address="Rathausplatz 1, 12345 Musterstadt"))
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        context = await app_context(browser, clock, viewport=PHONE, locale=locale, bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{server.url}/book?services=a,b")
        await check(page, f"{lang}-1-offices")

        await tab_to(page, 'a[href^="/book/day"]')
        await page.keyboard.press("Enter")
        await expect(page.locator("table.month caption")).to_be_visible()
        await check(page, f"{lang}-2-day")

        await tab_to(page, "a.free")
        await page.keyboard.press("Enter")
        await expect(page.locator("h1")).to_have_text(texts["time"])
        await check(page, f"{lang}-3-time")

        await tab_to(page, 'input[name="start"]')
        await page.keyboard.press("ArrowRight")  # the second time; arrows move within a radio group
        await page.keyboard.press("Space")
        await tab_to(page, 'button[type="submit"]')
        await page.keyboard.press("Enter")
        await expect(page.locator("#name")).to_be_visible()
        # The screenshot shows the check solved (not expired: the browser runs on the app's clock).
        await expect(page.locator('altcha-widget input[name="altcha"]')).not_to_have_value("", timeout=20_000)
        await check(page, f"{lang}-4-contact")

        await tab_to(page, "#name")
        await page.keyboard.type("Erika Mustermann")
        await tab_to(page, "#email")
        await page.keyboard.type("erika@example.org")
        await tab_to(page, 'button[type="submit"]')
        await page.keyboard.press("Enter")
        await expect(page.locator(".kern-alert--success")).to_contain_text(texts["booked"])
        assert await page.evaluate("document.documentElement.lang") == lang
        await check(page, f"{lang}-5-confirmation")

        # A mistake shows the error summary; the page passes axe with it too.
        await page.goto(f"{server.url}/book?services=nope")
        await check(page, f"{lang}-0-error")
