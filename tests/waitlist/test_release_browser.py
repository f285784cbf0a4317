"""The office page with a release schedule and the waiting list's figures, and the staff's figures with the
waiting list, in Chromium: no axe findings in German and English on a phone and a desktop, nothing scrolls the
page sideways, a screenshot of each for people to look at."""

from collections.abc import Callable
from typing import Any

import pytest

from rathaus.clock import ManualClock
from tests.browser import check_pages, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.factories import make_config
from tests.staff_helpers import PASSWORD, staff_token
from tests.waitlist.helpers import book, cancel, register

pytestmark = pytest.mark.anyio

PAGES = {"office-releases": "/offices/amt", "staff-figures-waitlist": "/staff/amt/figures"}


async def test_release_schedule_and_figures_pass_axe_at_both_widths_in_both_languages(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    await sqlite_harness.load(make_config(releases={"at": "08:00", "days_ahead": 14}))
    taken = await book(sqlite_harness, email="holder@example.org")
    await register(sqlite_harness, email="wartend@example.org")
    await cancel(sqlite_harness, taken)  # an offer: the figures have a row
    await staff_token(sqlite_harness, "leitung")
    server = live_server_factory(sqlite_url, clock)

    async def sign_in(page: Any) -> None:
        await page.goto(f"{server.url}/staff/sign-in")
        await page.fill("#username", "leitung")
        await page.fill("#password", PASSWORD)
        async with page.expect_navigation():
            await page.locator("main form button[type=submit]").click()

    async with chromium_browser(chromium) as browser:
        found = await check_pages(browser, server.url, PAGES, first=sign_in)
    assert found == {}
