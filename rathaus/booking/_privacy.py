"""Personal data: purged a configurable time after the appointment, or at once when the citizen asks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import JSON

from rathaus.booking._bookings import ACTIVE, BookingContext, BookingView, _authorised, _view, cancel_booking
from rathaus.booking.models import Booking
from rathaus.db import Base, operation

_BATCH = 500


def personal_columns() -> dict[Table, list[Column[Any]]]:
    """Every column marked with rathaus.db.personal() that the purge erases, by table."""
    found: dict[Table, list[Column[Any]]] = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.info.get("personal") and not c.info.get("retained_because")]
        if columns:
            found[table] = columns
    return found


def _blank(column: Column[Any]) -> Any:
    if column.nullable:
        return None
    return {} if isinstance(column.type, JSON) else ""


async def _erase_rows(session: AsyncSession, *, booking_ids: list[int], older_than: datetime) -> None:
    """Blank the personal columns of these bookings and of every row that belongs to them or is old enough."""
    for table, columns in personal_columns().items():
        blank = {c.name: _blank(c) for c in columns}
        if table is Booking.__table__:
            statement = update(table).where(table.c.id.in_(booking_ids))
        elif "booking_id" in table.c:
            statement = update(table).where(table.c.booking_id.in_(booking_ids))
        elif "created_at" in table.c:
            # Rows not tied to a booking (e.g. a walk-in ticket's phone number) go by their own age.
            statement = update(table).where(table.c.created_at < older_than)
        else:
            raise RuntimeError(f"{table.name} holds personal data but has neither booking_id nor created_at")
        await session.execute(statement.values(**blank))


async def purge_personal_data(session: AsyncSession, *, retention: timedelta, now: datetime) -> int:
    """Erase personal data of appointments that ended more than `retention` ago; returns how many bookings."""
    cutoff = now - retention
    ids = list(
        (
            await session.scalars(
                select(Booking.id).where(Booking.end_at < cutoff, Booking.purged_at.is_(None)).limit(_BATCH)
            )
        ).all()
    )
    await _erase_rows(session, booking_ids=ids, older_than=cutoff)
    if ids:
        await session.execute(update(Booking).where(Booking.id.in_(ids)).values(purged_at=now))
    return len(ids)


@operation
async def erase(session: AsyncSession, *, ctx: BookingContext, code: str, token: str, now: datetime) -> BookingView:
    """The citizen deletes their data: a booking still ahead is cancelled first, then names and contacts go."""
    booking = await _authorised(session, code=code, token=token)
    if booking.status in ACTIVE and booking.start_at > now:
        await cancel_booking(session, ctx=ctx, booking=booking, reason="citizen", actor="citizen", now=now)
    await session.flush()
    await _erase_rows(session, booking_ids=[booking.id], older_than=now - timedelta(days=36500))
    await session.refresh(booking)  # reload the blanked columns; a change made before it would be lost
    booking.purged_at = now
    await session.flush()
    return await _view(session, ctx=ctx, booking=booking, now=now)
