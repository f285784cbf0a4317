"""The booking path with a mode, without JavaScript: choose the mode, its free days and times, give the number
to call; the manage page shows the meeting link, the front desk's agenda shows mode, number and link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from httpx import Response

from rathaus.clock import ManualClock
from tests.conftest import Harness, open_harness
from tests.modes.helpers import VIDEO_TEMPLATE, modes_config
from tests.staff_helpers import add_staff, sign_in_page
from tests.web.test_booking_pages import contact_form, hidden, links

pytestmark = pytest.mark.anyio


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with open_harness(sqlite_url, clock, video_url_template=VIDEO_TEMPLATE) as harness:
        await harness.load(modes_config())
        yield harness


async def walk_to_contact(h: Harness, mode: str) -> str:
    """From the month page to the contact form by links and forms only; returns the contact page's URL."""
    month = await h.client.get("/book/day", params={"office": "amt", "services": "b"})
    assert month.status_code == 200
    radios = re.findall(r'type="radio" id="mode-(\w+)" name="mode" value="\w+"( checked)?', month.text)
    assert radios == [("on_site", " checked"), ("phone", ""), ("video", "")]
    chosen = await h.client.get("/book/day", params={"office": "amt", "services": "b", "mode": mode})
    assert f'id="mode-{mode}" name="mode" value="{mode}" checked' in chosen.text
    time_url = links(chosen, "/book/time?")[0]
    assert f"mode={mode}" in time_url
    times = await h.client.get(time_url)
    assert hidden(times, "mode") == mode
    start = re.findall(r'name="start" value="([^"]+)"', times.text)[0]
    return f"/book/contact?office=amt&services=b&mode={mode}&start={start.replace('+', '%2B')}"


async def test_a_phone_appointment_through_the_pages_asks_for_the_number(h: Harness) -> None:
    page = await h.client.get(await walk_to_contact(h, "phone"))
    assert page.status_code == 200 and 'id="call_number"' in page.text
    assert "Telefonisch (wir rufen Sie an)" in page.text
    form = contact_form(page, mode=hidden(page, "mode"))
    refused = await h.client.post("/book/contact", data=form, follow_redirects=False)
    assert refused.status_code == 422 and 'id="call_number-error"' in refused.text
    booked = await h.client.post("/book/contact", data={**form, "call_number": "030 1234567"}, follow_redirects=False)
    assert booked.status_code == 303
    shown = await h.client.get(booked.headers["location"])
    assert "Wir rufen Sie unter +49301234567 an." in shown.text

    row = await agenda_row(h, code_of(shown))
    assert "Telefonisch (wir rufen Sie an)" in row and 'href="tel:+49301234567"' in row


async def test_a_video_appointment_shows_its_link_on_the_manage_page_and_the_desk_agenda(h: Harness) -> None:
    page = await h.client.get(await walk_to_contact(h, "video"))
    assert 'id="call_number"' not in page.text
    booked = await h.client.post("/book/contact", data=contact_form(page, mode="video"), follow_redirects=False)
    assert booked.status_code == 303
    shown = await h.client.get(booked.headers["location"], headers={"accept-language": "en"})
    link = re.search(r'<a class="kern-link" href="([^"]+)" id="meeting-link">Join the video meeting</a>', shown.text)
    assert link and link.group(1).startswith("https://meet.stadt.example/rathaus-")
    row = await agenda_row(h, code_of(shown))
    assert "Per Video" in row and f'href="{link.group(1)}"' in row


def code_of(page: Response) -> str:
    found = re.search(r'class="kern-description-list-item__value booking-code">(\w+)<', page.text)
    assert found
    return found.group(1)


async def agenda_row(h: Harness, code: str) -> str:
    """The booking's row on today's agenda at the front desk (the first free slot is today's)."""
    await add_staff(h, "clerk")
    assert (await sign_in_page(h, "clerk")).status_code == 303
    desk = await h.client.get("/staff/amt/desk")
    assert desk.status_code == 200
    found = re.search(rf'<tr id="booking-{code}">(.*?)</tr>', desk.text, re.S)
    assert found, "the booking is not on the agenda"
    return found.group(1)
