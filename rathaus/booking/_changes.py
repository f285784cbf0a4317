"""How often a citizen may move one booking: a slot moved for sport is a slot kept from others (the UK's driving
tests cut the changes to two for that reason)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.models import Booking, BookingEvent
from rathaus.errors import RathausError

MOVED = "booking.rescheduled"


async def check_changes_left(session: AsyncSession, *, booking: Booking, most: int) -> None:
    """Refuse another move of `booking` once the citizen has moved it `most` times (the office's moves do not
    count). The booking's history is the count, so nothing needs to be stored for it."""
    moves = await session.scalar(
        select(func.count())
        .select_from(BookingEvent)
        .where(BookingEvent.booking_id == booking.id, BookingEvent.action == MOVED, BookingEvent.actor == "citizen")
    )
    if (moves or 0) >= most:
        raise RathausError("too_many_changes", limit=most)
