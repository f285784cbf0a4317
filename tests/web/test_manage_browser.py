"""The manage link from the confirmation e-mail a real SMTP server received: in Chromium on a phone, with the
keyboard only, the citizen moves the appointment and then cancels it; the page and the database agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.notify.dispatcher import Dispatcher
from tests.browser import chromium_browser, chromium_or_skip
from tests.conftest import LiveServer, open_harness
from tests.factories import booking_body, make_config
from tests.notify.fakes import SmtpServer, start_smtp
from tests.web.test_booking_browser import PHONE, check, tab_to

pytestmark = pytest.mark.anyio


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = start_smtp(tmp_path)
    yield server
    server.stop()


async def test_the_manage_link_from_the_email_moves_then_cancels_with_the_keyboard(
    sqlite_url: str, clock: ManualClock, smtp: SmtpServer, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    async with open_harness(sqlite_url, clock, smtp=smtp.settings()) as h:
        await h.load(make_config(address="Rathausplatz 1, 12345 Musterstadt"))
        booked = await h.client.post("/api/v1/bookings", json=booking_body("2027-01-12T09:00:00+01:00"))
        assert booked.status_code == 201, booked.text
        code = booked.json()["code"]
        dispatcher = Dispatcher(h.runtime, worker_id="test-worker")
        try:
            assert (await dispatcher.dispatch()).outcomes == {"sent": 1}
        finally:
            await dispatcher.channels.close()
        [mail] = smtp.parsed()
        body = mail.get_body(preferencelist=("plain",))
        assert isinstance(body, EmailMessage)
        link = next(line.strip() for line in body.get_content().splitlines() if "/bookings/" in line)
        assert link.startswith(f"http://testserver/bookings/{code}?token=")

        server = live_server_factory(sqlite_url, clock)
        async with chromium_browser(chromium) as browser:
            context = await browser.new_context(viewport=PHONE, locale="de-DE", bypass_csp=True)
            page = await context.new_page()
            await page.goto(link.replace("http://testserver", server.url, 1))
            await expect(page.locator(".kern-body--large")).to_contain_text("Dienstag, 12. Januar 2027, 09:00")

            await tab_to(page, 'a[href^="/book/day"]')  # "Choose another time"
            await page.keyboard.press("Enter")
            await expect(page.locator("table.month caption")).to_be_visible()
            await tab_to(page, "a.free")  # the first day with free times: Monday 11 January
            await page.keyboard.press("Enter")
            await expect(page.locator("h1")).to_have_text("Uhrzeit wählen")
            await tab_to(page, 'input[name="start"]')
            await page.keyboard.press("ArrowRight")  # from 08:00 to 08:15
            await page.keyboard.press("Space")
            await tab_to(page, 'button[type="submit"]')
            await page.keyboard.press("Enter")
            # The check of the move: the old and the new time side by side, one button to move.
            await expect(page.locator("h1")).to_have_text("Ihren Termin verschieben")
            await expect(page.locator("strong")).to_contain_text("Montag, 11. Januar 2027, 08:15")
            await check(page, "de-manage-move-check")
            await tab_to(page, 'form[action$="/reschedule"] button')
            await page.keyboard.press("Enter")
            await expect(page.locator(".kern-alert--success")).to_contain_text("Ihr Termin wurde verschoben")
            await expect(page.locator(".kern-body--large")).to_contain_text("Montag, 11. Januar 2027, 08:15")
            await check(page, "de-manage-moved")
            async with h.session() as session:
                moved = await session.scalar(select(Booking).where(Booking.code == code))
                assert moved is not None and moved.status == "confirmed"
                assert moved.start_at.replace(tzinfo=UTC) == datetime(2027, 1, 11, 7, 15, tzinfo=UTC)

            await tab_to(page, 'form[action$="/cancel"] button')
            await page.keyboard.press("Enter")
            await expect(page.locator(".kern-alert--success")).to_contain_text("Ihr Termin ist storniert")
            await expect(page.locator(".kern-description-list")).to_contain_text("Storniert")
            await expect(page.locator('form[action$="/cancel"]')).to_have_count(0)
            await check(page, "de-manage-cancelled")
            async with h.session() as session:
                cancelled = await session.scalar(select(Booking).where(Booking.code == code))
                assert cancelled is not None and cancelled.status == "cancelled"
