"""Reading bookings for the packages that react to them (messages, calendars)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.models import Booking, Itinerary, ItineraryPart


async def bookings_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, Booking]:
    """The bookings with these ids that still exist."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {b.id: b for b in (await session.scalars(select(Booking).where(Booking.id.in_(wanted)))).all()}


async def next_by_phone(session: AsyncSession, *, phone: str, now: datetime) -> Booking | None:
    """The citizen's next active booking with this mobile number, locked for a change."""
    booking: Booking | None = await session.scalar(
        select(Booking)
        .where(Booking.phone == phone, Booking.status.in_(("pending", "confirmed")), Booking.start_at > now)
        .order_by(Booking.start_at)
        .limit(1)
        .with_for_update()
    )
    return booking


async def itinerary_parts(session: AsyncSession, codes: Iterable[str]) -> dict[str, list[Booking]]:
    """The bookings of each itinerary (by its code), in the order they take place."""
    wanted = set(codes)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Itinerary.code, Booking)
        .join(ItineraryPart, ItineraryPart.itinerary_id == Itinerary.id)
        .join(Booking, Booking.id == ItineraryPart.booking_id)
        .where(Itinerary.code.in_(wanted))
        .order_by(Booking.start_at)
    )
    parts: dict[str, list[Booking]] = {code: [] for code in wanted}
    for code, booking in rows.tuples():
        parts[code].append(booking)
    return parts
