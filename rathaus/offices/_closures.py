"""Closures: declaring one is announced, so that the bookings it covers are cancelled in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import operation
from rathaus.errors import RathausError
from rathaus.events import publish
from rathaus.localized import Localized
from rathaus.offices.catalog import Catalog
from rathaus.offices.events import ClosureDeclared
from rathaus.offices.models import Closure
from rathaus.text import visible

# Staff plan closures ahead; one that ended before it was declared, or decades away, is a typing error.
CLOSURE_YEARS_AHEAD = 10


def check_closure_window(*, start: datetime, end: datetime, reasons: Sequence[str], now: datetime) -> None:
    """Refuse (400) a closure declared by staff that is over already, lies absurdly far ahead or has no reason."""
    if end <= now or start > now + timedelta(days=365 * CLOSURE_YEARS_AHEAD):
        raise RathausError("closure_range", years=CLOSURE_YEARS_AHEAD)
    if not all(visible(text) for text in reasons):
        raise RathausError("reason_required")


@operation
async def add_closure(
    session: AsyncSession,
    *,
    catalog: Catalog,
    office_id: int,
    start: datetime,
    end: datetime,
    reason: Localized,
    public: bool,
    source: str,
    actor: str,
    now: datetime,
    all_day: bool = False,
) -> Closure:
    """Close an office for [start, end) and announce it (ClosureDeclared)."""
    if end <= start:
        raise RathausError("closure_order")
    closure = Closure(
        office_id=office_id,
        start_at=start,
        end_at=end,
        all_day=all_day,
        reason=reason,
        public=public,
        source=source,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(closure)
    await session.flush()
    await publish(
        session,
        ClosureDeclared(
            office_id=office_id,
            closure_id=closure.id,
            start=start,
            end=end,
            reason=reason,
            actor=actor,
            at=now,
        ),
    )
    await catalog.changed(session, now=now)
    return closure


@operation
async def remove_closure(
    session: AsyncSession, *, catalog: Catalog, office_id: int, closure_id: int, now: datetime
) -> None:
    """Reopen: delete a closure (bookings it cancelled stay cancelled; their citizens were told)."""
    closure = await session.get(Closure, closure_id)
    if closure is None or closure.office_id != office_id:
        raise RathausError("unknown_closure")
    await session.delete(closure)
    await catalog.changed(session, now=now)


async def list_closures(session: AsyncSession, *, office_id: int, since: datetime) -> list[Closure]:
    """Closures of an office ending after `since`, in order."""
    return list(
        (
            await session.scalars(
                select(Closure).where(Closure.office_id == office_id, Closure.end_at > since).order_by(Closure.start_at)
            )
        ).all()
    )
