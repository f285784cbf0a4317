"""A form sent too often answers with a page in the reader's language, which axe passes at both widths."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rathaus.clock import ManualClock
from tests.browser import chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.factories import make_config
from tests.web.test_booking_browser import PHONE, check

pytestmark = pytest.mark.anyio


async def test_the_rate_limit_page_in_both_languages(
    harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await harness.load(make_config())
    server = live_server_factory(sqlite_url, clock, booking_rate_limit_per_minute=1)
    async with chromium_browser(chromium) as browser:
        # One report a minute: the German reader's second one and the English reader's first are refused.
        for language, tries, heading in (("de", 2, "Bitte warten Sie kurz"), ("en", 1, "Please wait a moment")):
            context = await browser.new_context(viewport=PHONE, locale=language, bypass_csp=True)
            page = await context.new_page()
            for _ in range(tries):
                await page.goto(server.url + "/accessibility")
                await page.fill("#text", "The focus is hard to see")
                await page.locator('form[method="post"] button[type="submit"]').click()
            await expect(page.locator("h1")).to_have_text(heading)
            assert await page.locator("html").get_attribute("lang") == language
            await check(page, f"{language}-too-many")
            await context.close()
