"""Writing notification rows into the outbox, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.models import Booking
from rathaus.notify.models import OutboxMessage


def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    channel: str,
    recipient: str,
    language: str,
    due_at: datetime,
    dedupe_key: str,
    now: datetime,
    booking_id: int | None = None,
    office_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Add one message to the outbox; it is sent after the transaction commits."""
    message = OutboxMessage(
        kind=kind,
        channel=channel,
        recipient=recipient,
        language=language,
        due_at=due_at,
        dedupe_key=dedupe_key,
        booking_id=booking_id,
        office_id=office_id,
        payload=payload or {},
        status="pending",
        attempts=0,
        priority=0,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    return message


async def booking_changed(
    session: AsyncSession,
    *,
    booking: Booking,
    event: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
    sealed_manage_token: str | None = None,
) -> None:
    """Tell the citizen about a booking event on every channel they gave (withdrawing stale reminders).

    `sealed_manage_token` is the manage token encrypted with the app secret (booking.tokens.seal): it is known
    only while the citizen's own request runs, and lets messages carry the manage link although only the
    token's hash is stored with the booking.
    """
    if sealed_manage_token is not None:
        payload = {**(payload or {}), "sealed_manage_token": sealed_manage_token}
    if event in {"cancellation", "change"}:
        await withdraw_pending(session, booking_id=booking.id, now=now)
    channels = [(c, r) for c, r in (("email", booking.email), ("sms", booking.phone)) if r is not None]
    if payload and "channel" in payload:
        channels = [(c, r) for c, r in channels if c == payload["channel"]]
    for channel, recipient in channels:
        enqueue(
            session,
            kind=event,
            channel=channel,
            recipient=recipient,
            language=booking.language,
            due_at=now,
            dedupe_key=f"{event}:{booking.id}:{booking.ical_sequence}:{channel}",
            now=now,
            booking_id=booking.id,
            office_id=booking.office_id,
            payload=payload,
        )


async def withdraw_pending(session: AsyncSession, *, booking_id: int, now: datetime) -> None:
    """Withdraw messages about a booking that have not gone out yet (except confirmations of changes)."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id == booking_id,
            OutboxMessage.status == "pending",
            OutboxMessage.kind.in_(("reminder", "verification")),
        )
        .values(status="withdrawn", updated_at=now)
    )
