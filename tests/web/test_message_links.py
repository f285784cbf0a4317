"""Every link in every message the app sends opens a page that answers 200.

Each message kind is rendered in each offered language through the dispatcher for real bookings, so manage links
carry real tokens (rating links real invitations); the links are taken from the plain text, the HTML, the SMS and
the calendar attachment. The offer of a freed slot comes from a real wish when the citizen cancels.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n
from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.notify.channels import Channels, OutgoingEmail, OutgoingSms, Sent
from rathaus.notify.dispatcher import Dispatcher
from rathaus.notify.models import OutboxMessage
from rathaus.notify.service import KINDS, enqueue
from rathaus.ratings import service as ratings
from rathaus.tokens import seal
from tests.conftest import TEST_SECRET, Harness, open_harness
from tests.factories import booking_body, make_config
from tests.waitlist.helpers import register

pytestmark = pytest.mark.anyio

# Not the test client's origin: the links must be built from the configured public address.
PUBLIC = "https://termine.example.org"
PHONE = "+4915112345678"
WEDNESDAY_MORNING = {"weekdays": ["wed"], "start": "09:00", "end": "12:00"}
URL = re.compile(r"""https?://[^\s"'<>)]+""")


class Capture:
    """Both channels: keeps every message instead of sending it."""

    def __init__(self) -> None:
        self.emails: list[OutgoingEmail] = []
        self.sms: list[OutgoingSms] = []

    async def send(self, message: OutgoingEmail | OutgoingSms, *, now: datetime) -> Sent:
        if isinstance(message, OutgoingEmail):
            self.emails.append(message)
        else:
            self.sms.append(message)
        return Sent(f"captured-{message.outbox_id}", "sent")

    async def close(self) -> None:
        """Nothing to release."""

    def links(self) -> set[str]:
        texts = [m.body for m in self.sms]
        for mail in self.emails:
            texts += [mail.text, html.unescape(mail.html)]
            if mail.ics is not None:  # folded lines: unfold before looking for addresses
                texts.append(mail.ics.decode().replace("\r\n ", "").replace("\\,", ","))
        return {found.rstrip(".,;") for text in texts for found in URL.findall(text)}


@pytest.fixture
async def public_harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with open_harness(sqlite_url, clock, public_base_url=PUBLIC + "/") as h:
        yield h


async def book(h: Harness, start: str, language: str) -> Booking:
    answer = await h.client.post("/api/v1/bookings", json=booking_body(start, phone=PHONE, language=language))
    assert answer.status_code == 201, answer.text
    async with h.session() as session:
        booking = await session.scalar(select(Booking).where(Booking.code == answer.json()["code"]))
    assert booking is not None
    return booking


async def sealed_token(h: Harness, booking: Booking) -> str:
    """The manage token as the booking's own first message carries it."""
    async with h.session() as session:
        payloads = await session.scalars(select(OutboxMessage.payload).where(OutboxMessage.booking_id == booking.id))
        token = next(p["sealed_manage_token"] for p in payloads if p and "sealed_manage_token" in p)
    return str(token)


def variants(kind: str) -> list[dict[str, Any]]:
    """The payloads that change what a kind's message says."""
    if kind == "cancellation":
        closure = {"closure_reason_de": "Stromausfall", "closure_reason_en": "Power cut"}
        return [{"reason": "citizen"}, {"reason": "closure", **closure}, {"reason": "office"}]
    if kind in {"turn_near", "called"}:
        return [{"ticket_number": "A017", "counter_name": "Schalter 3", "office_name": "Testamt", "ahead": 2}]
    if kind == "verification":
        return [{"code": "123456", "channel": "email"}]
    return [{}]


async def rating_invitation(session: AsyncSession, visit: str, office_id: int, now: datetime) -> dict[str, Any]:
    """The payload of a real invitation to rate a visit (its token is in the database)."""
    token = await ratings.invite(
        session, visit=visit, office_id=office_id, service_ids=[], mode="on_site", day=now.date(), now=now
    )
    assert token is not None
    return {"sealed_rating_token": seal(token, TEST_SECRET)}


async def dispatch(h: Harness) -> Capture:
    capture = Capture()
    dispatcher = Dispatcher(h.runtime, Channels(capture, capture), worker_id="links")
    stats = await dispatcher.dispatch()
    assert set(stats.outcomes) == {"sent"}, stats.outcomes
    return capture


async def assert_all_open(h: Harness, links: set[str]) -> None:
    for link in sorted(links):
        url = urlsplit(link)
        assert f"{url.scheme}://{url.netloc}" == PUBLIC, link
        answer = await h.client.get(url.path + (f"?{url.query}" if url.query else ""))
        assert answer.status_code == 200, (link, answer.status_code)
        # The messages attach the calendar file; the manage page they lead to links it too.
        for calendar in re.findall(r'href="(/api/v1/bookings/[^"]+/calendar\.ics\?[^"]+)"', answer.text):
            ics = await h.client.get(html.unescape(calendar))
            assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR"), link


async def test_every_link_in_every_message_opens_a_page(public_harness: Harness) -> None:
    h = public_harness
    languages = i18n.languages()
    assert len(languages) >= 2
    # A booking waiting for its code (for the verification message), then one that is confirmed.
    await h.load(make_config(address="Rathausplatz 1, 12345 Musterstadt", verification="email", hold_minutes=30))
    pending = await book(h, "2027-01-12T09:00:00+01:00", "de")
    await h.load(make_config(address="Rathausplatz 1, 12345 Musterstadt"))
    confirmed = await book(h, "2027-01-13T10:00:00+01:00", "en")
    await dispatch(h)  # what the bookings sent themselves
    now = h.clock.now()
    tokens = {b.id: await sealed_token(h, b) for b in (pending, confirmed)}

    async def write_all(session: AsyncSession) -> None:
        number = 0
        for language in languages:
            for kind in set(KINDS) - {"offer"}:  # an offer needs a held slot: made below by a real cancellation
                booking = pending if kind == "verification" else None if kind == "test" else confirmed
                token = tokens[booking.id] if booking is not None else None
                for variant in variants(kind):
                    for channel, recipient in (("email", "erika@example.org"), ("sms", PHONE)):
                        number += 1
                        payload = variant
                        if kind == "rating":
                            payload = await rating_invitation(session, f"links:{number}", confirmed.office_id, now)
                        enqueue(
                            session,
                            kind=kind,
                            channel=channel,
                            recipient=recipient,
                            language=language,
                            due_at=now,
                            dedupe_key=f"links:{number}",
                            now=now,
                            booking_id=booking.id if booking is not None else None,
                            office_id=confirmed.office_id,
                            payload={**payload, **({"sealed_manage_token": token} if token else {})},
                        )

    await run_unit(h.runtime, write_all)
    capture = await dispatch(h)
    assert {m.to for m in capture.sms} == {PHONE} and len(capture.emails) == len(capture.sms)
    links = capture.links()
    assert all(mail.ics is None or mail.ics.startswith(b"BEGIN:VCALENDAR") for mail in capture.emails)
    paths = {urlsplit(link).path for link in links}
    # Manage links of both bookings (with their real tokens) and the rebooking link of the closure variants.
    assert {f"/bookings/{pending.code}", f"/bookings/{confirmed.code}", "/"} <= paths, paths
    assert any(path.startswith("/rate/") for path in paths), paths
    await assert_all_open(h, links)

    # A booking the citizen cancelled through the API, with the message that this sends, and the offer of its
    # slot to the citizen waiting for one.
    await register(h, first_day="2027-01-13", last_day="2027-01-13", windows=[WEDNESDAY_MORNING])
    code = confirmed.code
    token = next(link for link in links if f"/bookings/{code}?" in link).split("token=")[1]
    cancelled = await h.client.post(f"/api/v1/bookings/{code}/cancel", headers={"Authorization": f"Bearer {token}"})
    assert cancelled.status_code in {200, 201}, cancelled.text
    after = await dispatch(h)
    assert after.emails and after.sms
    assert any("/offers/" in link for link in after.links())
    # Its manage link from the earlier messages still opens, and so does the office's rebooking link.
    await assert_all_open(h, after.links() | {f"{PUBLIC}/?office=amt", f"{PUBLIC}/bookings/{code}?token={token}"})
