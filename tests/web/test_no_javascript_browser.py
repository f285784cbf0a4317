"""With JavaScript switched off in Chromium a citizen gets from the home page to a booked appointment, in German:
links, plain forms and redirects carry the whole path (with the proof of work off); with it on, the form says that
without the check a code will confirm the booking, which is held until the e-mailed code confirms it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.offices.config import read_config
from tests.browser import axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer, open_harness
from tests.factories import make_config
from tests.notify.fakes import SmtpServer, start_smtp
from tests.waitlist.test_browser import _mails_to as mails_to
from tests.waitlist.test_browser import _plain as plain
from tests.web.test_booking_browser import DESKTOP, PHONE, SCREENSHOTS
from tests.web.test_itinerary_pages import DEMO

pytestmark = pytest.mark.anyio


async def test_booking_from_the_home_page_without_javascript(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await sqlite_harness.load(make_config(address="Rathausplatz 1, 12345 Musterstadt"))
    # The proof of work needs JavaScript (README, "No reward for bots"): a city that switches it off keeps the
    # whole path free of it; with it on, the form says so (tested below).
    server = live_server_factory(sqlite_url, clock, altcha=False)
    async with chromium_browser(chromium) as browser:
        context = await browser.new_context(viewport=PHONE, locale="de-DE", java_script_enabled=False, bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{server.url}/")
        await page.locator('a[href="/services/a"]').first.click()
        await expect(page.locator("h1")).to_have_text("Dienst A")
        await page.locator('a[href^="/book?"]').first.click()
        await expect(page.locator("table.month caption")).to_contain_text("Januar 2027")
        await page.locator("a.free").first.click()
        await expect(page.locator("h1")).to_have_text("Uhrzeit wählen")
        await page.locator('label[for="slot-2"]').click()  # 08:15
        await page.locator('button[type="submit"]').click()
        await expect(page.locator("#name")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("Montag, 11. Januar 2027, 08:15 bis 08:30 Uhr")
        await page.locator("#name").fill("Erika Mustermann")
        await page.locator("#email").fill("erika@example.org")
        await page.locator('button[type="submit"]').click()
        await expect(page.locator(".kern-alert--success")).to_contain_text("Ihr Termin ist gebucht")
        await expect(page.locator(".kern-description-list")).to_contain_text("Bestätigt")
        assert "/bookings/" in page.url and "token=" in page.url
    async with sqlite_harness.session() as session:
        [booking] = (await session.scalars(select(Booking))).all()
    assert booking.status == "confirmed" and booking.language == "de"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = start_smtp(tmp_path)
    yield server
    server.stop()


@dataclass(frozen=True)
class Mailing:
    """The app sending its e-mail to a real SMTP server; `serve()` starts it for the browser (after loading)."""

    harness: Harness
    smtp: SmtpServer
    serve: Callable[[], LiveServer]

    async def code_sent_to(self, recipient: str) -> str:
        [mail] = await mails_to(self.harness, self.smtp, recipient)
        code = re.search(r"(\d{6})", str(mail["Subject"]) + plain(mail))
        assert code is not None
        return code.group(1)


@pytest.fixture
async def mailing(
    sqlite_url: str, clock: ManualClock, smtp: SmtpServer, live_server_factory: Callable[..., LiveServer]
) -> AsyncIterator[Mailing]:
    async with open_harness(sqlite_url, clock, smtp=smtp.settings()) as h:
        yield Mailing(h, smtp, lambda: live_server_factory(sqlite_url, clock))


@pytest.mark.parametrize(
    ("locale", "lang", "texts"),
    [
        (
            "de-DE",
            "de",
            {
                "noscript": "Ohne JavaScript kann diese Prüfung nicht laufen",
                "held": "Ihr Termin ist reserviert",
                "confirmed": "Ihr Termin ist bestätigt",
            },
        ),
        (
            "en-GB",
            "en",
            {
                "noscript": "Without JavaScript this check cannot run",
                "held": "Your appointment is reserved",
                "confirmed": "Your appointment is confirmed",
            },
        ),
    ],
)
async def test_without_javascript_the_booking_is_held_until_the_emailed_code_confirms_it(
    mailing: Mailing, locale: str, lang: str, texts: dict[str, str]
) -> None:
    """With the proof of work on (the default) and an office that verifies nothing: the form says that a code
    will come, the booking is held, the code arrives by e-mail (a real SMTP server) and confirms it."""
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    h = mailing.harness
    await h.load(make_config())
    server = mailing.serve()
    async with chromium_browser(chromium) as browser:
        context = await browser.new_context(viewport=PHONE, locale=locale, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{server.url}/book/contact?office=amt&services=a&start=2027-01-11T08:00:00%2B01:00")
        # Playwright's text selectors skip <noscript>, which the browser shows with JavaScript off.
        assert texts["noscript"] in await page.content()
        await no_javascript_check(browser, page, f"{lang}-nojs-1-contact")
        await page.locator("#name").fill("Erika Mustermann")
        await page.locator("#email").fill("erika@example.org")
        await page.locator('button[type="submit"]').click()
        await expect(page.locator(".kern-alert--success")).to_contain_text(texts["held"])
        await expect(page.locator("#verification_code")).to_be_visible()
        await no_javascript_check(browser, page, f"{lang}-nojs-2-held")
        async with h.session() as s:
            [booking] = (await s.scalars(select(Booking))).all()
        assert booking.status == "pending"

        await page.locator("#verification_code").fill(await mailing.code_sent_to("erika@example.org"))
        await page.locator('form[action$="/confirm"] button').click()
        await expect(page.locator(".kern-alert--success")).to_contain_text(texts["confirmed"])
        await no_javascript_check(browser, page, f"{lang}-nojs-3-confirmed")
    async with h.session() as s:
        [booking] = (await s.scalars(select(Booking).execution_options(populate_existing=True))).all()
    assert booking.status == "confirmed"


async def no_javascript_check(browser: Any, page: Any, name: str) -> None:
    """axe finds nothing on the page as it was served, at both widths, with its <noscript> content showing: axe
    needs JavaScript, so the HTML is loaded into a context that runs scripts but treats <noscript> as without
    them; a screenshot of the page as the citizen sees it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    html = (await page.content()).replace("<noscript>", "<div>").replace("</noscript>", "</div>")
    for label, size in (("390", PHONE), ("1280", DESKTOP)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        checking = await browser.new_context(viewport=size, bypass_csp=True)
        copy = await checking.new_page()
        await copy.route(page.url, lambda route: route.fulfill(body=html, content_type="text/html"))
        await copy.goto(page.url)
        assert await axe_violations(copy) == [], f"{name} at {label}px"
        await checking.close()
    await page.set_viewport_size(PHONE)


@pytest.mark.parametrize(
    ("locale", "lang", "held", "confirmed"),
    [
        ("de-DE", "de", "Ihre Termine sind reserviert", "Ihre Termine sind bestätigt"),
        ("en-GB", "en", "Your appointments are reserved", "Your appointments are confirmed"),
    ],
)
async def test_without_javascript_an_itinerary_is_held_until_one_emailed_code_confirms_it(
    mailing: Mailing, locale: str, lang: str, held: str, confirmed: str
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    h = mailing.harness
    await h.load(read_config(DEMO))
    server = mailing.serve()
    async with chromium_browser(chromium) as browser:
        context = await browser.new_context(viewport=PHONE, locale=locale, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{server.url}/life-events/nach-berlin-ziehen/plan")
        await page.locator('input[name="choice"]').first.check()
        await page.locator('main button[type="submit"]').click()
        await page.locator("#name").fill("Erika Mustermann")
        await page.locator("#email").fill("erika@example.org")
        await page.locator('main button[type="submit"]').click()
        await expect(page.locator(".kern-alert--success")).to_contain_text(held)
        await no_javascript_check(browser, page, f"{lang}-nojs-itinerary-held")
        await page.locator("#verification_code").fill(await mailing.code_sent_to("erika@example.org"))
        await page.locator('form[action$="/confirm"] button').click()
        await expect(page.locator(".kern-alert--success")).to_contain_text(confirmed)
        await no_javascript_check(browser, page, f"{lang}-nojs-itinerary-confirmed")
    async with h.session() as s:
        parts = (await s.scalars(select(Booking).execution_options(populate_existing=True))).all()
    assert len(parts) == 2 and {b.status for b in parts} == {"confirmed"}
