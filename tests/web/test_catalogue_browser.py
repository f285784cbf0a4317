"""The catalogue pages in Chromium: no axe findings in German and English on a phone and a desktop, a
screenshot of each for people to look at, and the office page's walk-in wait updating itself."""

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from rathaus.clock import ManualClock
from rathaus.offices.config import read_config
from tests.browser import check_pages, chromium_browser, chromium_or_skip
from tests.conftest import DEFAULT_NOW, Harness, LiveServer
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio

DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"
PAGES = {
    "home": "/",
    "search": "/?q=ummelden",
    "rebook": "/?office=mitte",
    "service": "/services/personalausweis",
    "walk-in-service": "/services/beglaubigung",
    "life-event": "/life-events/umzug",
    "office": "/offices/mitte",
    "not-found": "/services/nope",
}


async def test_catalogue_pages_pass_axe_at_both_widths_in_both_languages(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()

    clock.set(DEFAULT_NOW.replace(hour=9))  # Monday 10:00 in Berlin: open, so the wait shows
    await sqlite_harness.load(read_config(DEMO))
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        found = await check_pages(browser, server.url, PAGES)
    assert found == {}


async def test_office_page_wait_updates_without_reloading(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    clock.set(DEFAULT_NOW.replace(hour=9))
    await sqlite_harness.load(read_config(DEMO))
    headers = {"Authorization": f"Bearer {await staff_token(sqlite_harness, 'desk', role='desk', offices=('mitte',))}"}
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        page = await browser.new_page(locale="en")
        await page.goto(f"{server.url}/offices/mitte")
        wait = page.locator("#walk-in-wait")
        await expect(wait).to_have_text("Waiting time without an appointment right now: about 0 minutes.")
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            for _ in range(5):  # every counter busy: a newcomer waits
                answer = await api.post(
                    "/api/v1/offices/mitte/queue/walk-ins",
                    json={"services": ["meldebescheinigung"]},
                    headers=headers,
                )
                assert answer.status_code == 201, answer.text
        await expect(wait).to_have_text(re.compile(r"about [1-9]\d* minutes\.$"), timeout=3000)
