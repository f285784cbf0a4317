"""The waiting-room display in a real browser under its own strict CSP: a call shows within a second, the newest
call is highlighted and announced (chime and speech once sound is enabled), the closed office says when it opens
again, and the page passes axe in both languages at TV and phone sizes."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from rathaus.clock import ManualClock
from tests.browser import axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import LiveServer
from tests.queue.helpers import OPENING, queue_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TV = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
# Records what the page asks the browser to say and play; the page's own code runs unchanged.
RECORD_SOUND = """
window.__spoken = [];
window.__chimes = 0;
if (window.speechSynthesis) {
  window.speechSynthesis.speak = function (u) { if (u.text) { window.__spoken.push([u.lang, u.text]); } };
}
const create = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__chimes += 1; return create.call(this); };
"""
# Resolves with the page's own clock once the first row of the calls shows `text`.
SEEN = """text => new Promise(resolve => {
  const called = document.getElementById("called");
  const check = () => {
    const first = called.querySelector("tr");
    if (first && first.textContent.includes(text)) { observer.disconnect(); resolve(performance.now()); }
  };
  const observer = new MutationObserver(check);
  observer.observe(called, {childList: true, subtree: true, characterData: true});
  check();
})"""


async def _setup(harness: Any, clock: ManualClock) -> dict[str, str]:
    clock.set(OPENING)
    await harness.load(queue_config())
    return {"Authorization": f"Bearer {await staff_token(harness, 'desk', role='desk')}"}


async def test_a_call_shows_within_a_second_highlighted_and_announced(
    sqlite_harness: object, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    headers = await _setup(sqlite_harness, clock)
    server = live_server_factory(sqlite_url, clock)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api, chromium_browser(chromium) as browser:
        for _ in range(3):
            answer = await api.post("/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=headers)
            assert answer.status_code == 201, answer.text
        context = await browser.new_context(viewport=TV, locale="de-DE")  # the page's own CSP applies
        await context.add_init_script(RECORD_SOUND)
        display = await context.new_page()
        problems: list[str] = []
        display.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        failed: list[str] = []
        display.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
        await display.goto(f"{server.url}/offices/amt/board?chime=1&speak=1")
        await expect(display.locator("body")).to_have_attribute("data-live", "yes")
        await expect(display.locator("#next li")).to_have_text(["W-001", "W-002", "W-003"])

        # Sound is wanted, so the display asks for the gesture browsers need before playing any.
        enable = display.get_by_role("button", name="Ton einschalten")
        if await display.evaluate("new AudioContext().state") != "running":
            await expect(enable).to_be_visible()
        if await enable.is_visible():
            await display.screenshot(path=str(SCREENSHOTS / "display-enable-sound-de-1920.png"))
            await enable.click()
        await expect(enable).to_be_hidden()

        seen = display.evaluate(SEEN, "W-001")
        pressed = await display.evaluate("performance.now()")
        called = await api.post("/api/v1/offices/amt/queue/call-next", json={"counter": "Schalter 2"}, headers=headers)
        assert called.status_code == 200, called.text
        shown = await seen
        latency_ms = shown - pressed
        print(f"display latency: {latency_ms:.0f} ms")
        assert latency_ms < 1000

        latest = display.locator("#called tr.is-latest")
        await expect(latest).to_have_text("W-001Schalter 2")
        await expect(display.locator("#called tr")).to_have_count(1)
        await expect(display.locator("#next li")).to_have_text(["W-002", "W-003"])
        await expect(display.locator("body")).to_have_attribute("data-sound", "chime speak")
        spoken = await display.evaluate("window.__spoken")
        assert spoken == [["de", "Nummer W 1, bitte zu Schalter 2."], ["en", "Number W 1, please go to Schalter 2."]]
        assert await display.evaluate("window.__chimes") == 2  # two tones, once

        # A second call becomes the newest; the first stays below it, no longer highlighted.
        await api.post("/api/v1/offices/amt/queue/call-next", json={"counter": "Schalter 1"}, headers=headers)
        await expect(display.locator("#called tr")).to_have_text(["W-002Schalter 1", "W-001Schalter 2"])
        await expect(latest).to_have_text("W-002Schalter 1")
        await expect(display.locator("#wait")).to_contain_text("Wartezeit ohne Termin")
        assert (await display.evaluate("window.__spoken"))[-1] == ["en", "Number W 2, please go to Schalter 1."]
        await display.screenshot(path=str(SCREENSHOTS / "display-de-1920.png"))

        # The sound settings are a small control: switching speech off is remembered on the device.
        await display.locator("summary").click()
        await display.get_by_label("Ansage").uncheck()
        await display.reload()
        await expect(display.locator("body")).to_have_attribute("data-live", "yes")
        assert await display.get_by_label("Ansage").is_checked() is True  # ?speak=1 in the address wins
        await display.goto(f"{server.url}/offices/amt/board")
        await expect(display.locator("body")).to_have_attribute("data-sound", "chime ")
        assert failed == []
        assert [p for p in problems if not p.startswith("Failed to load resource")] == []  # no CSP violation

        for language, locale in (("de", "de-DE"), ("en", "en-GB")):
            for size, viewport in (("1920", TV), ("390", PHONE)):
                checked = await browser.new_context(viewport=viewport, locale=locale, bypass_csp=True)
                page = await checked.new_page()
                await page.goto(f"{server.url}/offices/amt/board?lang={language}")
                await expect(page.locator("body")).to_have_attribute("data-live", "yes")
                await expect(page.locator("html")).to_have_attribute("lang", language)
                assert await axe_violations(page) == [], (language, size)
                await page.screenshot(path=str(SCREENSHOTS / f"display-{language}-{size}.png"), full_page=True)
                await checked.close()


async def test_the_closed_office_says_when_it_opens_again(
    sqlite_harness: object, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await _setup(sqlite_harness, clock)
    clock.set(datetime(2027, 1, 9, 15, 0, tzinfo=UTC))  # Saturday afternoon: open again on Monday at 08:00
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        for language, text in (
            ("de", "Wir öffnen wieder am Montag, 11. Januar 2027 um 08:00 Uhr."),
            ("en", "We open again on Monday, January 11, 2027 at 08:00."),
        ):
            context = await browser.new_context(viewport=TV, locale="de-DE", bypass_csp=True)
            page = await context.new_page()
            await page.goto(f"{server.url}/offices/amt/board?lang={language}")
            await expect(page.locator("body")).to_have_attribute("data-live", "yes")
            await expect(page.locator("#closed")).to_be_visible()
            await expect(page.locator("#opening")).to_contain_text(text)
            await expect(page.locator("#wait")).to_have_text("")
            assert await axe_violations(page) == []
            await page.screenshot(path=str(SCREENSHOTS / f"display-closed-{language}-1920.png"))
            await context.close()
