"""The cool-down: a freed slot that no waiting wish takes stays out of open booking for a while.

Bots that watch open availability for cancellations gain nothing: a freed slot is first offered to the waiting
wishes, then held back (by a booking hold, like an offer's) until the cool-down after it was freed is over. A
wish registered meanwhile may still take it; otherwise it opens when the time is up.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking import service as bookings
from rathaus.booking.service import Holder
from rathaus.errors import RathausError
from rathaus.waitlist._figures import FREED
from rathaus.waitlist._wishes import WaitlistContext
from rathaus.waitlist.models import Cooldown, Release, Wish, WishOffice

# Nobody: the hold is the waiting list's own until a wish or open booking gets the slot.
_NOBODY = Holder(name="", email=None, phone=None, language="de")


async def cool_down(
    session: AsyncSession, *, ctx: WaitlistContext, release: Release, booking_id: int, start: datetime, now: datetime
) -> bool:
    """Hold the slot that the booking `booking_id` gave back until the cool-down after `release` is over (never
    into the lead time before the slot: then it is of no use to anyone). False if it is not held back."""
    if release.cause not in FREED:
        return False
    snapshot = await ctx.booking.catalog.get(session, now=now)
    office = snapshot.office_by_id(release.office_id)
    until = min(release.at + timedelta(minutes=ctx.settings.cooldown_minutes), start - office.lead)
    if until <= now:
        return False
    service_ids = await bookings.booking_service_ids(session, booking_id=booking_id)
    try:
        held = await bookings.hold(
            session,
            ctx=ctx.booking,
            office_id=office.id,
            service_ids=service_ids,
            start=start,
            holder=_NOBODY,
            actor="waitlist",
            now=now,
        )
    except RathausError:
        return False  # no longer bookable by the rules (a closure, changed hours): nothing to hold back
    session.add(
        Cooldown(booking_id=held.booking_id, release_id=release.id, office_id=office.id, created_at=now, until=until)
    )
    await session.flush()
    return True


async def end_cooldowns(session: AsyncSession, *, ctx: WaitlistContext, now: datetime, limit: int = 200) -> int:
    """Give back the slots whose cool-down is over, and those a wish registered since may take; returns how many.

    Giving one back announces it as freed: the waiting list offers it to a matching wish, holds it again for the
    rest of its cool-down if none matches, or leaves it to open booking once the time is up.
    """
    newer = exists().where(
        WishOffice.office_id == Cooldown.office_id,
        Wish.id == WishOffice.wish_id,
        Wish.status == "active",
        Wish.updated_at > Cooldown.created_at,
    )
    # Another instance giving back the same slots skips the rows this one holds (PostgreSQL) or waits for this
    # transaction (SQLite); either way it no longer finds them, since giving one back deletes its row.
    due = (
        await session.scalars(
            select(Cooldown.booking_id)
            .where((Cooldown.until <= now) | newer)
            .order_by(Cooldown.until, Cooldown.booking_id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Cooldown)
        )
    ).all()
    given = 0
    for booking_id in due:
        if await bookings.release_hold(
            session, ctx=ctx.booking, booking_id=booking_id, action="cooldown", actor="system", now=now
        ):
            given += 1
    return given
