"""Closures: declaring one cancels the bookings it covers, with the closure as reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking._bookings import ACTIVE, BookingContext, cancel_booking
from rathaus.booking.models import Booking, Closure
from rathaus.errors import RathausError


async def add_closure(
    session: AsyncSession,
    *,
    ctx: BookingContext,
    office_id: int,
    start: datetime,
    end: datetime,
    reason_de: str,
    reason_en: str,
    public: bool,
    source: str,
    actor: str,
    now: datetime,
    all_day: bool = False,
) -> tuple[Closure, list[Booking]]:
    """Close an office for [start, end); returns the closure and the bookings it cancelled."""
    if end <= start:
        raise RathausError("closure_order")
    closure = Closure(
        office_id=office_id,
        start_at=start,
        end_at=end,
        all_day=all_day,
        reason_de=reason_de,
        reason_en=reason_en,
        public=public,
        source=source,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(closure)
    await session.flush()
    affected = (
        await session.scalars(
            select(Booking)
            .where(
                Booking.office_id == office_id,
                Booking.status.in_(ACTIVE),
                Booking.start_at < end,
                Booking.end_at > start,
            )
            .order_by(Booking.start_at)
        )
    ).all()
    for booking in affected:
        booking.closure_id = closure.id
        await cancel_booking(
            session,
            ctx=ctx,
            booking=booking,
            reason="closure",
            actor=actor,
            now=now,
            payload={"closure_reason_de": reason_de, "closure_reason_en": reason_en},
        )
    await ctx.catalog.changed(session, now=now)
    return closure, list(affected)


async def remove_closure(
    session: AsyncSession, *, ctx: BookingContext, office_id: int, closure_id: int, now: datetime
) -> None:
    """Reopen: delete a closure (bookings it cancelled stay cancelled; their citizens were told)."""
    closure = await session.get(Closure, closure_id)
    if closure is None or closure.office_id != office_id:
        raise RathausError("unknown_closure")
    await session.delete(closure)
    await ctx.catalog.changed(session, now=now)


async def list_closures(session: AsyncSession, *, office_id: int, since: datetime) -> list[Closure]:
    """Closures of an office ending after `since`, in order."""
    return list(
        (
            await session.scalars(
                select(Closure).where(Closure.office_id == office_id, Closure.end_at > since).order_by(Closure.start_at)
            )
        ).all()
    )
