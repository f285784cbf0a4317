"""The admin pages in Chromium: a closure declared over booked appointments with its preview, and no axe
findings on any admin page in German and English on a phone and a desktop (screenshots to look at)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.notify.models import OutboxMessage
from tests.admin.helpers import rich_config
from tests.browser import axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.factories import booking_body
from tests.staff_helpers import PASSWORD, staff_token

pytestmark = pytest.mark.anyio
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PAGES = [
    "",
    "closures",
    "hours",
    "services",
    "counters",
    "bundles",
    "configuration",
    "staff",
    "policy",
    "outbox",
    "barriers",
]
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


async def sign_in(page: Any, url: str) -> None:
    """Open an admin page: the sign-in form comes first, then the page."""
    await page.goto(url)
    await page.locator("#username").fill("leitung")
    await page.locator("#password").fill(PASSWORD)
    await page.locator("#password").press("Enter")
    await page.wait_for_url(url)


async def test_admin_declares_a_closure_after_its_preview_and_every_page_passes_axe(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    await sqlite_harness.load(rich_config())
    codes = []
    for start, extra in [("09:00", {}), ("10:00", {"phone": "+4915112345678", "language": "en"}), ("11:00", {})]:
        answer = await sqlite_harness.client.post(
            "/api/v1/bookings", json=booking_body(f"2027-01-11T{start}:00+01:00", **extra)
        )
        assert answer.status_code == 201, answer.text
        codes.append(answer.json()["code"])
    await staff_token(sqlite_harness, "leitung")
    server = live_server_factory(sqlite_url, clock)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, object] = {}
    async with chromium_browser(chromium) as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="de", bypass_csp=True)
        page = await context.new_page()
        await sign_in(page, f"{server.url}/staff/amt/admin/closures")
        await page.get_by_label("Erster Tag").fill("2027-01-11")
        await page.get_by_label("Ab (Uhrzeit, optional)").fill("08:30")
        await page.get_by_label("Bis (Uhrzeit, optional)").fill("10:30")
        await page.get_by_label("Grund auf Deutsch").fill("Stromausfall")
        await page.get_by_role("button", name="Zeigen, was sie absagt").click()
        table = page.locator("#affected")
        assert sorted(await table.locator(".code").all_inner_texts()) == sorted(codes[:2])
        await page.locator("details.message-preview").first.click()
        assert "Stromausfall" in await page.locator("details.message-preview").first.inner_text()
        await page.screenshot(path=str(SCREENSHOTS / "admin-closure-preview-de-desktop.png"), full_page=True)
        violations = await axe_violations(page)
        if violations:
            found["closure preview"] = violations
        await page.get_by_role("button", name="Schließung festlegen").click()
        await page.get_by_role("status").wait_for()
        assert "2 Termine wurden abgesagt" in await page.get_by_role("status").inner_text()
        await context.close()

        for language in ("de", "en"):
            for size, (width, height) in SIZES.items():
                context = await browser.new_context(
                    viewport={"width": width, "height": height}, locale=language, bypass_csp=True
                )
                page = await context.new_page()
                await sign_in(page, f"{server.url}/staff/amt/admin/closures")
                for name in PAGES:
                    await page.goto(f"{server.url}/staff/amt/admin/{name}")
                    assert await page.locator("html").get_attribute("lang") == language
                    shot = SCREENSHOTS / f"admin-{name or 'overview'}-{language}-{size}.png"
                    await page.screenshot(path=str(shot), full_page=True)
                    violations = await axe_violations(page)
                    if violations:
                        found[f"{name} {language} {size}"] = violations
                await context.close()
    assert found == {}

    async with sqlite_harness.session() as s:
        statuses = dict((await s.execute(select(Booking.code, Booking.status))).all())
        told = (
            await s.execute(
                select(Booking.code, OutboxMessage.channel)
                .join(Booking, Booking.id == OutboxMessage.booking_id)
                .where(OutboxMessage.kind == "cancellation")
            )
        ).all()
    assert statuses == {codes[0]: "cancelled", codes[1]: "cancelled", codes[2]: "confirmed"}
    assert sorted(told) == sorted([(codes[0], "email"), (codes[1], "email"), (codes[1], "sms")])
