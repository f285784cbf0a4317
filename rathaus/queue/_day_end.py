"""The end of an office day: nobody waits overnight, and appointments nobody came to become no-shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking import service as bookings
from rathaus.offices.catalog import CatalogSnapshot
from rathaus.offices.rules import OfficeRules, day_bounds
from rathaus.queue.models import Ticket, transition

ACTOR = "day-end"
# Bookings older than this are left alone (the job runs every few minutes; a longer outage is caught up to here).
_CATCH_UP = timedelta(days=31)


def day_over_at(office: OfficeRules, now: datetime) -> datetime:
    """Everything before this instant belongs to an office day that has ended: today's closing once it has
    passed, else today's local midnight."""
    today = office.local_day(now)
    start_of_today, _ = day_bounds(today, office.tz)
    intervals = office.open_intervals(today)
    if intervals and now >= intervals[-1][1]:
        return intervals[-1][1]
    return start_of_today


async def close_days(session: AsyncSession, *, snapshot: CatalogSnapshot, now: datetime) -> int:
    """Close tickets still open after their day ended, erase their phone numbers, mark absent bookings
    no-show; returns how many tickets and bookings changed."""
    changed = 0
    for office in snapshot.offices.values():
        over = day_over_at(office, now)
        today = office.local_day(now)
        last_finished_day = today if over > day_bounds(today, office.tz)[0] else today - timedelta(days=1)
        finished_days = Ticket.day <= last_finished_day
        open_tickets = await session.scalars(
            select(Ticket).where(Ticket.office_id == office.id, finished_days, Ticket.status.in_(("waiting", "called")))
        )
        for ticket in open_tickets:
            previous = ticket.status
            ticket.status = "closed"
            ticket.close_reason = "day_end"
            ticket.finished_at = now
            session.add(
                transition(
                    ticket.id,
                    action="day_end",
                    actor=ACTOR,
                    previous=previous,
                    status="closed",
                    at=now,
                    counter_id=ticket.counter_id,
                    detail="still open at closing",
                )
            )
            changed += 1
        await session.execute(
            update(Ticket)
            .where(Ticket.office_id == office.id, finished_days, Ticket.phone.is_not(None))
            .where(Ticket.status.not_in(("waiting", "called")))
            .values(phone=None)
            .execution_options(synchronize_session=False)
        )
        absent = await bookings.expected_arrivals(session, office_id=office.id, since=now - _CATCH_UP, until=over)
        for booking_id, _start, _services in absent:
            await bookings.move(session, booking_id=booking_id, status="no_show", actor=ACTOR, now=now)
            changed += 1
    return changed
