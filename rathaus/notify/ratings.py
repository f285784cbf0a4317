"""After a completed visit: one message inviting the citizen to rate it, through one channel, out of quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import tokens
from rathaus.booking import service as bookings
from rathaus.booking.events import BookingMoved
from rathaus.events import Handler
from rathaus.notify import policy as policies
from rathaus.notify import service
from rathaus.offices.catalog import Catalog
from rathaus.queue.events import TicketFinished
from rathaus.ratings import service as ratings
from rathaus.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Visit:
    key: str  # booking:<id> | ticket:<id>
    office_id: int
    service_ids: list[int]
    mode: str
    language: str
    email: str | None
    phone: str | None
    booking_id: int | None


async def invite(session: AsyncSession, *, runtime: Runtime, visit: Visit, now: datetime) -> bool:
    """Write the invitation (at most one per visit) and its one message: e-mail if given, else SMS (moved out
    of the office's quiet hours; the dispatcher drops it if the number has opted out)."""
    channel, recipient = ("email", visit.email) if visit.email else ("sms", visit.phone)
    if recipient is None:
        return False
    policy, tz = await service.office_policy(session, office_id=visit.office_id)
    token = await ratings.invite(
        session,
        visit=visit.key,
        office_id=visit.office_id,
        service_ids=visit.service_ids,
        mode=visit.mode,
        day=now.astimezone(tz).date(),
        now=now,
    )
    if token is None:
        return False
    office = (await runtime.get(Catalog).get(session, now=now)).office_by_id(visit.office_id)
    due = policies.outside_quiet_hours(now, policy, tz) if channel == "sms" else now
    service.enqueue(
        session,
        kind="rating",
        channel=channel,
        recipient=recipient,
        language=visit.language,
        due_at=due,
        dedupe_key=f"rating:{visit.key}",
        now=now,
        booking_id=visit.booking_id,
        office_id=visit.office_id,
        payload={
            "sealed_rating_token": tokens.seal(token, runtime.settings.secret_key),
            "office_name": office.name.get(visit.language),
        },
    )
    return True


def booking_completed(runtime: Runtime) -> Handler:
    """A booked visit was completed at the desk: invite its rating."""

    async def handle(session: AsyncSession, event: BookingMoved) -> None:
        if event.status != "completed":
            return
        booking = (await bookings.bookings_by_id(session, [event.booking_id])).get(event.booking_id)
        if booking is None:
            return
        visit = Visit(
            key=f"booking:{booking.id}",
            office_id=booking.office_id,
            service_ids=[item.service_id for item in booking.items],
            mode=booking.mode,
            language=booking.language,
            email=booking.email,
            phone=booking.phone,
            booking_id=booking.id,
        )
        await invite(session, runtime=runtime, visit=visit, now=event.at)

    return handle


def walk_in_completed(runtime: Runtime) -> Handler:
    """A walk-in who left a number was served: invite the rating by SMS (booked visits are invited above)."""

    async def handle(session: AsyncSession, event: TicketFinished) -> None:
        if event.outcome != "completed" or event.booking_id is not None or event.phone is None:
            return
        visit = Visit(
            key=f"ticket:{event.ticket_id}",
            office_id=event.office_id,
            service_ids=list(event.service_ids),
            mode="on_site",
            language=event.language,
            email=None,
            phone=event.phone,
            booking_id=None,
        )
        await invite(session, runtime=runtime, visit=visit, now=event.at)

    return handle
