"""After a completed visit one message invites a rating: the link taken from the real e-mail (aiosmtpd) or SMS
(Twilio fake) works once, a second use answers clearly, and the rating shows in the office's figures and page;
quiet hours, opt-outs and the purge of comments are respected."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from rathaus.booking.jobs import purge_personal_data
from rathaus.jobs import run_unit
from rathaus.notify import service as notify
from rathaus.notify.dispatcher import Dispatcher
from rathaus.notify.models import OutboxMessage, SmsOptOut
from rathaus.offices.catalog import Catalog
from rathaus.ratings import service as ratings
from rathaus.ratings.models import Rating
from tests.conftest import Harness
from tests.notify.fakes import SmtpServer, TwilioFake
from tests.queue.helpers import OPENING, Desk, queue_config
from tests.staff_helpers import staff_token
from tests.web.test_booking_pages import csrf

pytestmark = pytest.mark.anyio

PHONE = "+4915112345678"
BASE = "http://testserver"


async def served(desk: Desk, ticket_id: int) -> None:
    called = await desk.call_next()
    assert called.status_code == 200 and called.json()["id"] == ticket_id, called.text
    done = await desk.ticket_action(ticket_id, "complete")
    assert done.status_code == 200, done.text


async def booked_visit(h: Harness) -> tuple[Desk, str]:
    """A booked citizen (e-mail given) checks in at 09:00 and is served."""
    desk = await Desk.open(h, queue_config())
    code = await desk.book("2027-01-11T09:00:00+01:00", language="en")
    h.clock.set(OPENING + timedelta(hours=1))
    ticket = await desk.check_in(code)
    assert ticket.status_code == 201, ticket.text
    await served(desk, ticket.json()["id"])
    return desk, code


def rating_link(text: str) -> str:
    found = re.search(rf"{re.escape(BASE)}(/rate/[A-Za-z0-9_-]+)", text)
    assert found, text
    return found.group(1)


async def give(h: Harness, path: str, **fields: str) -> Any:
    form = await h.client.get(path)
    assert form.status_code == 200, form.text
    return await h.client.post(path, data={"_csrf_token": csrf(form), **fields}, follow_redirects=False)


async def test_the_rating_link_from_the_email_works_once_and_feeds_the_figures(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer
) -> None:
    h = notify_harness
    await booked_visit(h)
    await dispatcher.dispatch()
    [mail] = [m for m in smtp.parsed() if m["Subject"] == "How was your visit to Test office?"]
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    path = rating_link(body.get_content())
    html = mail.get_body(preferencelist=("html",))
    assert isinstance(html, EmailMessage) and f'href="{BASE}{path}?stars=5"' in html.get_content()

    tapped = await h.client.get(f"{path}?stars=5", headers={"accept-language": "en"})
    assert tapped.status_code == 200 and 'id="stars-5" name="stars" value="5" checked' in tapped.text
    refused = await give(h, path, stars="7", comment="")
    assert refused.status_code == 422 and 'id="stars-error"' in refused.text
    given = await give(h, path, stars="4", comment="Freundlich und schnell")
    assert given.status_code == 303 and given.headers["location"] == "/rate/thanks"
    again = await h.client.post(
        path, data={"_csrf_token": csrf(tapped), "stars": "1"}, headers={"accept-language": "en"}
    )
    assert again.status_code == 409 and "This visit has already been rated. Thank you!" in again.text
    reopened = await h.client.get(path)
    assert reopened.status_code == 409 and "Dieser Besuch ist schon bewertet" in reopened.text
    unknown = await h.client.get("/rate/" + "x" * 43)
    assert unknown.status_code == 404

    admin = {"Authorization": f"Bearer {await staff_token(h, 'chefin')}"}
    figures = await h.client.get("/api/v1/offices/amt/figures", params={"date": "2027-01-11"}, headers=admin)
    assert figures.status_code == 200, figures.text
    said = figures.json()["ratings"]
    assert (said["ratings"], said["average"]) == (1, 4.0)
    assert said["by_day"] == [{"key": "2027-01-11", "ratings": 1, "average": 4.0}]
    assert said["by_service"] == [{"key": "a", "ratings": 1, "average": 4.0}]
    assert said["comments"] == [{"day": "2027-01-11", "stars": 4, "comment": "Freundlich und schnell"}]
    clerk = {"Authorization": f"Bearer {await staff_token(h, 'clerk', role='desk')}"}
    seen = await h.client.get("/api/v1/offices/amt/figures", params={"date": "2027-01-11"}, headers=clerk)
    assert seen.json()["ratings"]["comments"] is None  # comments are for the office's admins
    page = await h.client.get("/offices/amt", headers={"accept-language": "en"})
    assert "4.0 of 5 stars on average, from 1 rating in the last 90 days" in page.text


async def test_a_walk_in_who_left_a_number_is_asked_by_sms_after_the_quiet_hours(
    notify_harness: Harness, dispatcher: Dispatcher, twilio: TwilioFake
) -> None:
    h = notify_harness
    desk = await Desk.open(h, queue_config())
    now = h.clock.now()
    await run_unit(
        h.runtime,
        lambda s: notify.set_policy(
            s,
            office_id=1,
            reminder_offsets_minutes=[1440],
            quiet_start="08:30",
            quiet_end="11:00",
            turn_near_ahead=0,
            catalog=h.runtime.get(Catalog),
            now=now,
        ),
    )
    h.clock.set(OPENING + timedelta(hours=1))  # 09:00: quiet
    ticket = await desk.walk_in("a", phone="0151 12345678", language="en")
    assert ticket.status_code == 201, ticket.text
    await served(desk, ticket.json()["id"])
    await dispatcher.dispatch()
    assert [s for s in twilio.sent if "/rate/" in s.body] == []
    h.clock.set(datetime(2027, 1, 11, 10, 0, 1, tzinfo=UTC))  # 11:00:01 Berlin
    await dispatcher.dispatch()
    [sms] = [s for s in twilio.sent if "/rate/" in s.body]
    assert sms.to == PHONE and sms.body.startswith("Test office: how was your visit?")
    path = rating_link(sms.body)
    assert (await give(h, path, stars="2")).status_code == 303
    assert (await h.client.get(path)).status_code == 409


async def test_an_opted_out_number_gets_no_rating_sms_and_a_visit_is_invited_once(
    notify_harness: Harness, dispatcher: Dispatcher, twilio: TwilioFake
) -> None:
    h = notify_harness
    desk = await Desk.open(h, queue_config())
    now = h.clock.now()

    async def stop(session: Any) -> None:
        session.add(SmsOptOut(phone=PHONE, created_at=now))

    await run_unit(h.runtime, stop)
    ticket = await desk.walk_in("a", phone=PHONE)
    await served(desk, ticket.json()["id"])
    await dispatcher.dispatch()
    assert twilio.sent == []
    async with h.session() as s:
        [row] = (await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "rating"))).all()
    assert row.status == "dead"
    again = await run_unit(
        h.runtime,
        lambda s: ratings.invite(
            s,
            visit=f"ticket:{ticket.json()['id']}",
            office_id=1,
            service_ids=[1],
            mode="on_site",
            day=now.date(),
            now=now,
        ),
    )
    assert again is None  # at most one invitation per visit


async def test_comments_are_purged_with_other_personal_data_and_the_stars_stay(
    notify_harness: Harness, dispatcher: Dispatcher, smtp: SmtpServer
) -> None:
    h = notify_harness
    await booked_visit(h)
    await dispatcher.dispatch()
    [mail] = [m for m in smtp.parsed() if m["Subject"] == "How was your visit to Test office?"]
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    assert (await give(h, rating_link(body.get_content()), stars="5", comment="Sehr nett")).status_code == 303
    h.clock.advance(timedelta(days=h.runtime.settings.personal_data_retention_days + 1))
    await purge_personal_data(h.runtime)
    async with h.session() as s:
        [rating] = (await s.scalars(select(Rating))).all()
    assert (rating.stars, rating.comment) == (5, None)
