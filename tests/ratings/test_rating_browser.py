"""The rating page in Chromium, keyboard only, German and English: axe-clean form, error and thanks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.ratings import service as ratings
from tests.browser import axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.factories import make_config
from tests.web.test_booking_browser import PHONE

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("locale", "thanks"), [("de-DE", "Vielen Dank"), ("en-GB", "Thank you")])
async def test_rating_by_keyboard_is_axe_clean(
    sqlite_harness: Harness,
    sqlite_url: str,
    clock: ManualClock,
    live_server_factory: Callable[..., LiveServer],
    locale: str,
    thanks: str,
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(make_config())
    now = clock.now()
    token = await run_unit(
        sqlite_harness.runtime,
        lambda s: ratings.invite(
            s, visit="ticket:1", office_id=1, service_ids=[1], mode="on_site", day=now.date(), now=now
        ),
    )
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        context = await browser.new_context(viewport=PHONE, locale=locale, bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{server.url}/rate/{token}")
        assert await axe_violations(page) == [], "rating form"
        await page.locator('button[type="submit"]').focus()
        await page.keyboard.press("Enter")  # no stars chosen: the error summary and the message at the field
        await expect(page.locator("#stars-error")).to_be_visible()
        assert await axe_violations(page) == [], "rating form with an error"
        await page.locator("#stars-4").focus()
        await page.keyboard.press("Space")
        await page.locator("#comment").focus()
        await page.keyboard.type("Gut beraten")
        await page.locator('button[type="submit"]').focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("h1")).to_contain_text(thanks)
        assert await axe_violations(page) == [], "thanks"
        await page.goto(f"{server.url}/rate/{token}")
        await expect(page.locator("#rating-closed")).to_be_visible()
        await context.close()
