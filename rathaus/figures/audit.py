"""Who did what and when at an office: the history of its bookings and tickets and the closures declared.

Bookings and tickets record every transition (booking_event, ticket_event); closures record who created them
(`created_by`, with `source` config, holidays or staff).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.models import Booking, BookingEvent
from rathaus.figures import schemas
from rathaus.figures.periods import Period
from rathaus.offices.models import Closure
from rathaus.offices.rules import OfficeRules
from rathaus.queue.models import Ticket, TicketEvent, label_of

LIMIT = 1000  # the newest entries; narrow the period or name the actor to see older ones


async def audit_trail(
    session: AsyncSession, *, office: OfficeRules, period: Period, actor: str | None = None, limit: int = LIMIT
) -> schemas.Audit:
    """The office's recorded actions in the period, newest first (at most `limit`)."""
    counters = {c.id: c.name for c in office.counters}
    booking_rows = await session.execute(
        select(BookingEvent, Booking.code)
        .join(Booking, Booking.id == BookingEvent.booking_id)
        .where(Booking.office_id == office.id, BookingEvent.at >= period.start, BookingEvent.at < period.end)
        .where(*([BookingEvent.actor == actor] if actor else []))
        .order_by(BookingEvent.at.desc(), BookingEvent.id.desc())
        .limit(limit)
    )
    ticket_rows = await session.execute(
        select(TicketEvent, Ticket.prefix, Ticket.number)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.office_id == office.id, TicketEvent.at >= period.start, TicketEvent.at < period.end)
        .where(*([TicketEvent.actor == actor] if actor else []))
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(limit)
    )
    closures = await session.scalars(
        select(Closure)
        .where(Closure.office_id == office.id, Closure.created_at >= period.start, Closure.created_at < period.end)
        .where(*([Closure.created_by == actor] if actor else []))
        .order_by(Closure.created_at.desc(), Closure.id.desc())
        .limit(limit)
    )
    entries = [
        schemas.AuditEntry(
            at=event.at.astimezone(office.tz),
            kind="booking",
            subject=code,
            action=event.action,
            actor=event.actor,
            from_status=event.from_status,
            to_status=event.to_status,
            detail=event.detail,
        )
        for event, code in booking_rows
    ]
    entries += [
        schemas.AuditEntry(
            at=event.at.astimezone(office.tz),
            kind="ticket",
            subject=label_of(prefix, number),
            action=event.action,
            actor=event.actor,
            from_status=event.from_status,
            to_status=event.to_status,
            detail=" ".join(part for part in (counters.get(event.counter_id or 0, ""), event.detail) if part),
        )
        for event, prefix, number in ticket_rows
    ]
    entries += [
        schemas.AuditEntry(
            at=closure.created_at.astimezone(office.tz),
            kind="closure",
            subject=str(closure.id),
            action=f"closure.created.{closure.source}",
            actor=closure.created_by or closure.source,
            from_status=None,
            to_status=None,
            detail=(
                f"{closure.start_at.astimezone(office.tz):%Y-%m-%d %H:%M} to "
                f"{closure.end_at.astimezone(office.tz):%Y-%m-%d %H:%M} {closure.reason.get('de')}"
            ).strip(),
        )
        for closure in closures
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return schemas.Audit(office=office.slug, first_day=period.first, last_day=period.last, entries=entries[:limit])
