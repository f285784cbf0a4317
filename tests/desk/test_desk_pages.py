"""The front desk and counter pages over HTTP: the agenda, check-in, walk-ins and their refusals, the printed
ticket, the counter's actions; every change checked in the database through the staff API's view of the queue."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from httpx import Response

from tests.conftest import Harness
from tests.queue.helpers import OPENING, Desk, queue_config
from tests.staff_helpers import add_staff, sign_in_page
from tests.web.test_booking_pages import csrf

pytestmark = pytest.mark.anyio
CLOSING = datetime(2027, 1, 11, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


async def open_desk(harness: Harness) -> Desk:
    desk = await Desk.open(harness, queue_config(walk_in_cutoff_minutes=30))
    await add_staff(harness, "clerk")
    assert (await sign_in_page(harness, "clerk")).status_code == 303
    return desk


async def post_form(harness: Harness, page: str, action: str, **fields: object) -> Response:
    form = await harness.client.get(page)
    return await harness.client.post(action, data={"_csrf_token": csrf(form), **fields}, follow_redirects=False)


async def test_agenda_check_in_walk_in_and_the_printed_ticket(harness: Harness) -> None:
    desk = await open_desk(harness)
    code = await desk.book("2027-01-11T09:00:00+01:00", services=["b"])
    late = await desk.book("2027-01-11T08:00:00+01:00")
    harness.clock.set(OPENING + timedelta(minutes=20))  # 08:20: the 08:00 appointment is late

    page = await harness.client.get("/staff/amt/desk", headers={"accept-language": "en"})
    assert page.status_code == 200
    rows = re.findall(r'<tr id="booking-(\w+)">(.*?)</tr>', page.text, re.S)
    assert [c for c, _ in rows] == [late, code]  # by time
    assert "late" in rows[0][1] and "late" not in rows[1][1]
    assert "Service B" in rows[1][1] and "Booked" in rows[1][1]

    checked = await post_form(harness, "/staff/amt/desk", "/staff/amt/desk/check-in", code=code.lower())
    assert checked.status_code == 303
    shown = await harness.client.get(checked.headers["location"])
    assert "Ticket A-001" in shown.text or "Nummer A-001" in shown.text or "A-001" in shown.text
    queue = await desk.queue()
    assert [t["number"] for t in queue["waiting"]] == ["A-001"]

    unknown = await post_form(harness, "/staff/amt/desk", "/staff/amt/desk/check-in", code="NOPE42")
    assert unknown.status_code == 404 and 'id="code-error"' in unknown.text

    issued = await post_form(
        harness, "/staff/amt/desk", "/staff/amt/desk/walk-in", services="a", phone="", language="en"
    )
    assert issued.status_code == 303
    ticket_id = int(issued.headers["location"].rsplit("=", 1)[1])
    printed = await harness.client.get(f"/staff/amt/tickets/{ticket_id}/print")
    assert printed.status_code == 200
    public_id = next(t["public_id"] for t in (await desk.queue())["waiting"] if t["id"] == ticket_id)
    assert f"http://testserver/tickets/{public_id}" in printed.text
    assert "W-001" in printed.text and "<svg" in printed.text and "Service A" in printed.text


async def test_a_walk_in_after_the_cut_off_is_refused_with_the_reason_and_nothing_written(harness: Harness) -> None:
    desk = await open_desk(harness)
    harness.clock.set(CLOSING - timedelta(minutes=30))  # 11:30: the cut-off
    await sign_in_page(harness, "clerk")  # the morning's session has long been idle
    refused = await post_form(
        harness, "/staff/amt/desk", "/staff/amt/desk/walk-in", services="a", phone="", language="de"
    )
    assert refused.status_code == 409
    assert "Keine Wartenummern mehr" in refused.text or "11:30" in refused.text
    assert "Dienstag, 12. Januar 2027, 08:00" in refused.text  # when tickets are accepted again
    assert 'name="override_note"' not in refused.text  # past the cut-off nobody can override
    assert (await desk.queue())["waiting"] == []


async def test_the_counter_calls_completes_and_marks_no_shows(harness: Harness) -> None:
    desk = await open_desk(harness)
    first = (await desk.walk_in("a")).json()
    second = (await desk.walk_in("a")).json()
    harness.clock.set(OPENING + timedelta(minutes=5))

    choose = await harness.client.get("/staff/amt/counter")
    assert "Schalter 2" in choose.text and 'action="/staff/amt/counter/choose"' in choose.text
    counter_id = re.search(r'id="counter-(\d+)" name="counter" value="\d+" checked', choose.text)
    assert counter_id is not None
    chosen = await harness.client.post(
        "/staff/amt/counter/choose",
        data={"_csrf_token": csrf(choose), "counter": counter_id.group(1)},
        follow_redirects=False,
    )
    assert chosen.status_code == 303

    page = await harness.client.get("/staff/amt/counter")
    assert "W-001" in page.text and "W-002" in page.text and 'id="action-call-next"' in page.text
    called = await post_form(harness, "/staff/amt/counter", "/staff/amt/counter/call-next")
    assert called.status_code == 303
    page = await harness.client.get("/staff/amt/counter")
    assert 'id="action-complete"' in page.text and "W-001" in page.text
    done = await post_form(harness, "/staff/amt/counter", f"/staff/amt/counter/tickets/{first['id']}/complete")
    assert done.status_code == 303
    await post_form(harness, "/staff/amt/counter", "/staff/amt/counter/call-next")
    missed = await post_form(harness, "/staff/amt/counter", f"/staff/amt/counter/tickets/{second['id']}/no-show")
    assert missed.status_code == 303
    queue = await desk.queue()
    assert (queue["completed_today"], queue["no_show_today"], queue["waiting"]) == (1, 1, [])
    nobody = await post_form(harness, "/staff/amt/counter", "/staff/amt/counter/call-next")
    assert nobody.status_code == 404 and "error-summary" in nobody.text
    fragment = await harness.client.get("/staff/amt/counter/queue", headers={"accept-language": "en"})
    assert fragment.status_code == 200 and "Nobody is waiting." in fragment.text

    third = (await desk.walk_in("a")).json()
    await post_form(harness, "/staff/amt/counter", "/staff/amt/counter/call-next")
    page = await harness.client.get("/staff/amt/counter")
    other = re.search(r'<option value="(\d+)">Schalter 2</option>', page.text)
    assert other is not None
    moved = await harness.client.post(
        f"/staff/amt/counter/tickets/{third['id']}/transfer",
        data={"_csrf_token": csrf(page), "counter": other.group(1)},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    [waiting] = (await desk.queue())["waiting"]
    assert (waiting["number"], waiting["counter"]) == (third["number"], "Schalter 2")


async def test_a_counter_that_only_phones_or_meets_by_video_is_not_offered_call_next(harness: Harness) -> None:
    remote = {"name": "Videoberatung", "services": ["a"], "modes": ["phone", "video"]}
    desk = await Desk.open(harness, queue_config(counters=[{"name": "Schalter 1", "services": ["a"]}, remote]))
    await add_staff(harness, "clerk")
    assert (await sign_in_page(harness, "clerk")).status_code == 303
    waiting = (await desk.walk_in("a")).json()
    choose = await harness.client.get("/staff/amt/counter?choose=true")
    counter_id = re.search(
        r'id="counter-(\d+)" name="counter" value="\d+"[^>]*>\s*<label[^>]*>Videoberatung', choose.text
    )
    assert counter_id is not None, choose.text
    await post_form(harness, "/staff/amt/counter?choose=true", "/staff/amt/counter/choose", counter=counter_id.group(1))

    page = await harness.client.get("/staff/amt/counter", headers={"accept-language": "en"})
    assert 'id="action-call-next"' not in page.text and "serves only by phone or video" in page.text
    refused = await post_form(harness, "/staff/amt/counter", "/staff/amt/counter/call-next")
    assert refused.status_code == 409 and "error-summary" in refused.text and "Videoberatung" in refused.text
    assert [t["id"] for t in (await desk.queue())["waiting"]] == [waiting["id"]]  # nobody was called
