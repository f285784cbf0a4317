"""The waiting-room display and the ticket page in a real browser: accessible, and live without reloading."""

import re
from collections.abc import Callable

import httpx
import pytest

from rathaus.clock import ManualClock
from tests.browser import axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import LiveServer
from tests.queue.helpers import OPENING, queue_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio


async def test_board_and_ticket_page_update_live_and_pass_axe(
    sqlite_harness: object, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    harness = sqlite_harness
    clock.set(OPENING)
    await harness.load(queue_config())  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {await staff_token(harness, 'desk', role='desk')}"}  # type: ignore[arg-type]
    server = live_server_factory(sqlite_url, clock)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
        ticket = (
            await api.post("/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=headers)
        ).json()
        async with chromium_browser(chromium) as browser:
            board = await browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
            await board.goto(f"{server.url}/offices/amt/board")
            phone = await browser.new_page(viewport={"width": 375, "height": 740}, locale="en-GB")
            await phone.goto(f"{server.url}/tickets/{ticket['public_id']}")
            await expect(phone.locator("#message")).to_have_text("You are number 1 in the queue.")
            assert await axe_violations(board) == []
            assert await axe_violations(phone) == []

            await api.post("/api/v1/offices/amt/queue/call-next", json={"counter": "Schalter 2"}, headers=headers)

            await expect(board.locator("#called tr").first).to_have_text("W-001Schalter 2", timeout=1000)
            # The script writes the wait in every offered language, the default one first.
            await expect(board.locator("#wait")).to_have_text(
                re.compile(r"^Wartezeit ohne Termin etwa \d+ Min\. · Walk-in wait about \d+ min$")
            )
            assert await board.locator("#wait span[lang=en]").count() == 1
            await expect(phone.locator("#message")).to_have_text("Please go to Schalter 2 now.", timeout=1000)
            await expect(board.locator("#next li")).to_have_count(0)
            # Keyboard only: the language switch is reachable and visibly focused.
            await phone.keyboard.press("Tab")
            assert await phone.evaluate("document.activeElement.textContent") == "Deutsch"
            await phone.keyboard.press("Enter")
            await expect(phone.locator("#message")).to_have_text("Bitte kommen Sie jetzt zu Schalter 2.")
            assert await axe_violations(phone) == []
