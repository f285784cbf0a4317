"""How bookings give way to a closure of their office."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking._bookings import ACTIVE, BookingContext, cancel_booking
from rathaus.booking.models import Booking
from rathaus.offices.events import ClosureDeclared


async def cancel_for_closure(session: AsyncSession, *, ctx: BookingContext, closure: ClosureDeclared) -> None:
    """Cancel every active booking the closure covers, with the closure as reason (the citizens are told)."""
    affected = (
        await session.scalars(
            select(Booking)
            .where(
                Booking.office_id == closure.office_id,
                Booking.status.in_(ACTIVE),
                Booking.start_at < closure.end,
                Booking.end_at > closure.start,
            )
            .order_by(Booking.start_at)
        )
    ).all()
    for booking in affected:
        booking.closure_id = closure.closure_id
        await cancel_booking(
            session,
            ctx=ctx,
            booking=booking,
            reason="closure",
            actor=closure.actor,
            now=closure.at,
            detail={f"closure_reason_{language}": text for language, text in closure.reason.as_dict().items()},
        )


async def cancelled_by_closures(session: AsyncSession, *, closure_ids: list[int]) -> list[str]:
    """Codes of the bookings these closures cancelled, by appointment time."""
    if not closure_ids:
        return []
    return list(
        (
            await session.scalars(
                select(Booking.code)
                .where(Booking.closure_id.in_(closure_ids), Booking.status == "cancelled")
                .order_by(Booking.start_at)
            )
        ).all()
    )


async def closure_cancellations(session: AsyncSession, *, closure_id: int) -> list[Booking]:
    """The bookings a closure cancelled, by appointment time."""
    return list(
        (
            await session.scalars(
                select(Booking)
                .where(Booking.closure_id == closure_id, Booking.status == "cancelled")
                .order_by(Booking.start_at)
            )
        ).all()
    )
