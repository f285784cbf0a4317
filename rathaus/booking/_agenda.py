"""An office's appointments for staff calendars (read only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.models import Booking


async def agenda(session: AsyncSession, *, office_id: int, since: datetime, until: datetime) -> list[Booking]:
    """Bookings of the office starting in [since, until), cancelled ones included so calendars drop them."""
    rows = await session.scalars(
        select(Booking)
        .where(Booking.office_id == office_id, Booking.start_at >= since, Booking.start_at < until)
        .where(Booking.status != "expired")
        .order_by(Booking.start_at, Booking.id)
    )
    return list(rows.all())
