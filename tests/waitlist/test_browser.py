"""In Chromium on a phone: a citizen registers a wish, confirms it with the e-mailed code, receives the offer of a
freed slot by e-mail (a real SMTP server) and accepts it from the link; every page axe-clean in German and English."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from rathaus.clock import ManualClock
from rathaus.notify.dispatcher import Dispatcher
from tests.browser import app_context, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer, open_harness
from tests.factories import make_config
from tests.notify.fakes import SmtpServer, start_smtp
from tests.waitlist.conftest import LONG_CACHE
from tests.waitlist.helpers import book, cancel
from tests.web.test_booking_browser import PHONE, check

pytestmark = pytest.mark.anyio


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = start_smtp(tmp_path)
    yield server
    server.stop()


async def _mails_to(h: Harness, smtp: SmtpServer, recipient: str) -> list[EmailMessage]:
    dispatcher = Dispatcher(h.runtime, worker_id="test-worker")
    try:
        await dispatcher.dispatch()
    finally:
        await dispatcher.channels.close()
    return [m for m in smtp.parsed() if m["To"] == recipient]


def _plain(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


async def test_a_wish_registered_on_a_phone_gets_the_offer_by_email_and_is_accepted_from_the_link(
    sqlite_url: str, clock: ManualClock, smtp: SmtpServer, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    async with open_harness(sqlite_url, clock, smtp=smtp.settings(), availability_cache_seconds=LONG_CACHE) as h:
        await h.load(make_config())
        taken = await book(h, email="holder@example.org")
        server = live_server_factory(sqlite_url, clock)
        async with chromium_browser(chromium) as browser:
            context = await app_context(browser, clock, viewport=PHONE, locale="de-DE", bypass_csp=True)
            page = await context.new_page()
            await page.goto(f"{server.url}/wishes/new?services=a&office=amt")
            await expect(page.locator("h1")).to_have_text("Auf die Warteliste")
            await check(page, "de-wish-new")
            await page.check("#weekday-mon")
            await page.fill("#start", "09:00")
            await page.fill("#end", "10:00")
            await page.fill("#name", "Max Wartend")
            await page.fill("#email", "max@example.org")
            await page.click('form[action="/wishes"] button[type="submit"]')
            await expect(page.locator("#wish-status")).to_have_text("Warten auf Ihre Bestätigung")
            await check(page, "de-wish-unverified")
            wish_url = page.url

            [verification] = await _mails_to(h, smtp, "max@example.org")
            code = re.search(r"(\d{6})$", verification["Subject"])
            assert code is not None
            await page.fill("#verification_code", code.group(1))
            await page.click('form[action$="/confirm"] button')
            await expect(page.locator("#wish-status")).to_have_text("Warten auf einen Termin")
            await expect(page.locator("#wish-place")).to_contain_text("1.")
            await check(page, "de-wish-active")

            await cancel(h, taken)  # the 09:00 appointment comes free: it is held for this wish
            [offer_mail] = [m for m in await _mails_to(h, smtp, "max@example.org") if "für Sie" in m["Subject"]]
            link = next(line.strip() for line in _plain(offer_mail).splitlines() if "/offers/" in line)
            await page.goto(link.replace("http://testserver", server.url, 1))
            await expect(page.locator(".kern-body--large")).to_contain_text("Montag, 11. Januar 2027, 09:00")
            await check(page, "de-offer")
            await page.click('form[action$="/accept"] button')
            await expect(page.locator(".kern-alert--success")).to_contain_text("Ihr Termin ist gebucht")
            await expect(page.locator(".kern-body--large")).to_contain_text("Montag, 11. Januar 2027, 09:00")
            await check(page, "de-offer-accepted")

            english = await app_context(browser, clock, viewport=PHONE, locale="en-GB", bypass_csp=True)
            en_page = await english.new_page()
            for url, name, heading in (
                (f"{server.url}/wishes/new", "en-wish-new", "Join the waiting list"),
                (wish_url, "en-wish-fulfilled", "Your place on the waiting list"),
                (link.replace("http://testserver", server.url, 1), "en-offer-accepted", "An appointment for you"),
            ):
                await en_page.goto(url)
                await expect(en_page.locator("h1")).to_have_text(heading)
                await check(en_page, name)
