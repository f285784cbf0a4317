"""In Chromium, with the keyboard only: a citizen chooses a video appointment in English and gets its meeting
link; each page on the way is axe-clean. (axe needs JavaScript; that the path works without it, with plain forms
and links, tests/modes/test_mode_pages.py shows.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rathaus.clock import ManualClock
from tests.browser import app_context, axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.modes.helpers import VIDEO_TEMPLATE, modes_config
from tests.web.test_booking_browser import PHONE

pytestmark = pytest.mark.anyio


async def test_a_video_appointment_by_keyboard(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(modes_config())
    server = live_server_factory(sqlite_url, clock, video_url_template=VIDEO_TEMPLATE)
    async with chromium_browser(chromium) as browser:
        context = await app_context(browser, clock, viewport=PHONE, locale="en-GB", bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{server.url}/book/day?office=amt&services=b&lang=en")
        assert await axe_violations(page) == [], "month with the mode choice"
        await page.locator("#mode-video").focus()
        await page.keyboard.press("Space")
        await expect(page.locator("#mode-video")).to_be_checked()
        await page.locator("#mode-form button").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#mode-video")).to_be_checked()
        assert "mode=video" in page.url
        await page.locator("a.free").first.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("h1")).to_have_text("Choose a time")
        await page.locator("#slot-1").focus()
        await page.keyboard.press("Space")
        await page.keyboard.press("Enter")
        await expect(page.locator("#name")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("By video meeting")
        assert await axe_violations(page) == [], "contact form of a video appointment"
        await page.locator("#name").fill("Erika Mustermann")
        await page.locator("#email").fill("erika@example.org")
        await page.locator("#email").press("Enter")
        await expect(page.locator(".kern-alert--success")).to_be_visible()
        link = page.locator("#meeting-link")
        href = await link.get_attribute("href")
        assert href is not None and href.startswith("https://meet.stadt.example/rathaus-")
        assert await axe_violations(page) == [], "manage page of a video appointment"
        await context.close()
