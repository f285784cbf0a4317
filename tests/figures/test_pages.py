"""The figures, audit and display-launcher pages behind the staff sign-in: the figures the page shows are the
database's, other offices' staff are refused, and the pages pass axe in both languages at desktop and phone width."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rathaus.clock import ManualClock
from tests.browser import axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import Harness, LiveServer
from tests.figures.test_figures import _expected, _office_id, _seed
from tests.staff.test_sign_in import add_staff, sign_in
from tests.staff_helpers import PASSWORD

pytestmark = pytest.mark.anyio

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DAY = "?period=day&date=2027-01-11"


def _cells(html: str, caption: str) -> list[list[str]]:
    """The rows of the table with this caption, as the text of their cells."""
    table = html.split(f">{caption}</caption>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


async def test_the_figures_page_shows_the_database_figures_to_the_office_staff(harness: Harness) -> None:
    await _seed(harness)
    expected = await _expected(harness, await _office_id(harness))
    anonymous = await harness.client.get(f"/staff/amt/figures{DAY}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/staff/sign-in")

    await add_staff(harness, "zweit", offices=("zwei",))
    assert (await sign_in(harness, "zweit")).status_code == 303  # type: ignore[attr-defined]
    for path in ("figures", "figures.csv", "audit", "display"):
        assert (await harness.client.get(f"/staff/amt/{path}{DAY}")).status_code == 403, path
    harness.client.cookies.clear()

    await add_staff(harness, "leitung", role="admin")
    assert (await sign_in(harness, "leitung")).status_code == 303  # type: ignore[attr-defined]
    page = await harness.client.get(f"/staff/amt/figures{DAY}", headers={"accept-language": "en"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "Content-Security-Policy" in page.headers
    assert "Monday, January 11, 2027" in html
    brief = dict(
        re.findall(
            r'__key">([^<]+)</dt>\s*<dd class="kern-description-list-item__value">([^<]+)</dd>',
            html,
        )
    )
    assert brief["Appointments"] == str(expected["bookings"])
    assert brief["Visits (tickets)"] == str(expected["visits"])
    assert brief["Median wait"] == f"{expected['waits'][1]:g} min"
    assert brief["Wait, 90th percentile"] == f"{expected['waits'][2]:g} min"
    assert brief["Cancellations"] == str(expected["cancellations"][0])
    waits = _cells(html, "Waits by hour of arrival")
    assert [[row[0], row[1]] for row in waits] == [
        [f"{hour:02d}:00", str(values[0])] for hour, values in sorted(expected["by_hour"].items())
    ]
    counters = _cells(html, "Counter utilisation")
    assert {row[0]: row[1] for row in counters} == {name: str(v[0]) for name, v in expected["counters"].items()}
    messages = _cells(html, "Messages per channel")
    assert {row[0]: (row[1], row[2]) for row in messages} == {
        {"email": "E-mail", "sms": "SMS"}[channel]: (str(sent), str(failed))
        for channel, (sent, failed) in expected["messages"].items()
    }
    assert html.count("<svg") >= 5 and 'aria-hidden="true"' in html  # charts drawn on the server

    csv_file = await harness.client.get(f"/staff/amt/figures.csv{DAY}")
    assert csv_file.status_code == 200 and "bookings,,total," + str(expected["bookings"]) in csv_file.text

    audit = await harness.client.get(f"/staff/amt/audit{DAY}&actor=desk")
    assert audit.status_code == 200
    assert "<code>call</code>" in audit.text and "Aufgerufen" in audit.text
    assert '<td class="kern-table__cell">desk</td>' in audit.text and ">citizen</td>" not in audit.text
    german = await harness.client.get(f"/staff/amt/figures{DAY}", headers={"accept-language": "de"})
    assert "Montag, 11. Januar 2027" in german.text and "Auf einen Blick" in german.text


async def test_the_staff_pages_pass_axe_in_both_languages(
    sqlite_harness: Harness, sqlite_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    chromium = chromium_or_skip()
    from playwright.async_api import expect

    await _seed(sqlite_harness)
    await add_staff(sqlite_harness, "leitung", role="admin")
    server = live_server_factory(sqlite_url, clock)
    async with chromium_browser(chromium) as browser:
        for language, locale in (("de", "de-DE"), ("en", "en-GB")):
            for width, height in ((1280, 900), (390, 844)):
                context = await browser.new_context(
                    viewport={"width": width, "height": height}, locale=locale, bypass_csp=True
                )
                page = await context.new_page()
                await page.goto(f"{server.url}/staff/amt/figures{DAY}")
                await page.locator("#username").fill("leitung")
                await page.locator("#password").fill(PASSWORD)
                await page.locator("#password").press("Enter")
                await expect(page.locator("h1")).to_contain_text("Kennzahlen" if language == "de" else "Figures")
                await _check(page, f"figures-{language}-{width}")
                # The period form: a week, chosen with the keyboard.
                await page.locator("#period").select_option("week")
                await page.locator("#date").press("Enter")
                await expect(page).to_have_url(re.compile(r"period=week"))
                await expect(page.locator("p.kern-body--large")).to_contain_text("2")
                await page.get_by_role("link", name=re.compile("audit|Protokoll")).click()
                await expect(page.locator("table.audit tbody tr").first).to_be_visible()
                await _check(page, f"audit-{language}-{width}")
                await page.goto(f"{server.url}/staff/amt/display")
                await _check(page, f"display-launcher-{language}-{width}")
                await context.close()


async def _check(page: Any, name: str) -> None:
    assert await axe_violations(page) == [], name
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
