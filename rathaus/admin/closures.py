"""Declaring a closure, and seeing beforehand which bookings it cancels and what their citizens will read.

The preview runs the real declaration inside a savepoint and rolls it back: the bookings it lists are those
the booking domain's closure handler cancelled, and the messages are the outbox rows notify wrote for them,
rendered as the dispatcher renders them. There is no second reckoning that could drift from the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking import service as bookings
from rathaus.localized import Localized
from rathaus.notify import service as notify
from rathaus.notify.dispatcher import message_context
from rathaus.notify.render import Rendered, render, when
from rathaus.offices import service as offices
from rathaus.settings import Settings


@dataclass(frozen=True, slots=True)
class Message:
    channel: str
    language: str
    rendered: Rendered


@dataclass(frozen=True, slots=True)
class Affected:
    """A booking the closure cancels, and the messages its citizen gets."""

    code: str
    when: str
    services: list[str]
    messages: list[Message]


@dataclass(frozen=True, slots=True)
class Declared:
    closure_id: int
    cancelled: list[str]


async def preview_closure(
    session: AsyncSession,
    *,
    catalog: offices.Catalog,
    settings: Settings,
    office_id: int,
    start: datetime,
    end: datetime,
    reason: Localized,
    public: bool,
    actor: str,
    language: str,
    now: datetime,
) -> list[Affected]:
    """What declaring this closure would do, without doing it: the bookings cancelled and their messages."""
    # Read before the savepoint, so that no snapshot holding the trial closure is ever cached.
    snapshot = await catalog.get(session, now=now)
    office = snapshot.office_by_id(office_id)
    trial = await session.begin_nested()
    try:
        declared = await declare_closure(
            session,
            catalog=catalog,
            office_id=office_id,
            start=start,
            end=end,
            reason=reason,
            public=public,
            actor=actor,
            now=now,
        )
        cancelled = await bookings.closure_cancellations(session, closure_id=declared.closure_id)
        rows = await notify.pending_messages(session, booking_ids=[b.id for b in cancelled], kind="cancellation")
        affected = []
        for booking in cancelled:
            messages = []
            for row in rows:
                if row.booking_id == booking.id:
                    context, _ = message_context(row, booking, snapshot, settings=settings)
                    messages.append(Message(row.channel, row.language, render(row.kind, row.language, context)))
            affected.append(
                Affected(
                    code=booking.code,
                    when=when(booking.start_at, office.tz, language),
                    services=[
                        snapshot.services_by_id[i.service_id].name.get(language)
                        for i in booking.items
                        if i.service_id in snapshot.services_by_id
                    ],
                    messages=messages,
                )
            )
        return affected
    finally:
        await trial.rollback()


async def declare_closure(
    session: AsyncSession,
    *,
    catalog: offices.Catalog,
    office_id: int,
    start: datetime,
    end: datetime,
    reason: Localized,
    public: bool,
    actor: str,
    now: datetime,
) -> Declared:
    """Close the office for [start, end): the bookings inside are cancelled and their citizens told."""
    closure = await offices.add_closure(
        session,
        catalog=catalog,
        office_id=office_id,
        start=start,
        end=end,
        reason=reason,
        public=public,
        source="staff",
        actor=actor,
        now=now,
    )
    return Declared(closure.id, await bookings.cancelled_by_closures(session, closure_ids=[closure.id]))
