"""What the front desk does to bookings: find one for check-in, move it through the office day."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.events import BookingMoved
from rathaus.booking.models import Booking, BookingEvent, BookingService
from rathaus.events import publish

# Statuses the office day moves a booking through, and the ones it may come from.
_ALLOWED_FROM = {
    "checked_in": ("confirmed",),
    "serving": ("checked_in",),
    "completed": ("checked_in", "serving"),
    "no_show": ("confirmed", "checked_in", "serving"),
}


async def booking_by_code(session: AsyncSession, code: str) -> Booking | None:
    """The booking with this code (the front desk holds no manage token: the citizen shows the code)."""
    booking: Booking | None = await session.scalar(select(Booking).where(Booking.code == code))
    return booking


async def move(session: AsyncSession, *, booking_id: int, status: str, actor: str, now: datetime) -> None:
    """Move a booking to checked_in, serving, completed or no_show, recorded with who and when.

    A booking already past that point (or cancelled meanwhile) is left as it is; the UPDATE is conditional on
    the status just read, so a change made in between is not overwritten.
    """
    row = (
        await session.execute(
            select(Booking.status, Booking.office_id).where(
                Booking.id == booking_id, Booking.status.in_(_ALLOWED_FROM[status])
            )
        )
    ).one_or_none()
    if row is None:
        return
    previous, office_id = row
    moved = await session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == previous)
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        return
    session.add(
        BookingEvent(
            booking_id=booking_id,
            at=now,
            action=f"frontdesk.{status}",
            actor=actor,
            from_status=previous,
            to_status=status,
            detail="",
        )
    )
    await publish(
        session,
        BookingMoved(booking_id=booking_id, office_id=office_id, status=status, previous=previous, actor=actor, at=now),
    )


async def expected_arrivals(
    session: AsyncSession, *, office_id: int, since: datetime, until: datetime
) -> list[tuple[int, datetime, tuple[int, ...]]]:
    """(booking id, start, service ids) of confirmed bookings starting in [since, until) not checked in yet."""
    where = (
        Booking.office_id == office_id,
        Booking.status == "confirmed",
        Booking.start_at >= since,
        Booking.start_at < until,
    )
    services: dict[int, list[int]] = defaultdict(list)
    for booking_id, service_id in await session.execute(
        select(BookingService.booking_id, BookingService.service_id)
        .join(Booking, Booking.id == BookingService.booking_id)
        .where(*where)
        .order_by(BookingService.booking_id, BookingService.position)
    ):
        services[booking_id].append(service_id)
    rows = await session.execute(select(Booking.id, Booking.start_at).where(*where).order_by(Booking.start_at))
    return [(booking_id, start, tuple(services[booking_id])) for booking_id, start in rows]
