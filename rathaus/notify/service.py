"""Writing notification rows into the outbox, in the caller's transaction; policies, opt-outs and history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n
from rathaus.booking import service as bookings
from rathaus.booking.events import BookingFacts, WithBookingId
from rathaus.db import after_commit, dialect_insert, operation
from rathaus.errors import RathausError
from rathaus.notify import policy as policies
from rathaus.notify.models import NotifyEvent, NotifyPolicy, OutboxMessage, SmsOptOut
from rathaus.notify.wakeup import wake_dispatchers
from rathaus.offices import service as offices
from rathaus.offices.catalog import Catalog

KINDS = (
    "verification",
    "confirmation",
    "reminder",
    "change",
    "cancellation",
    "turn_near",
    "called",
    "test",
    "wish_verification",
    "offer",
    "rating",
)
# Kinds that make no sense once the booking is no longer active.
WITHDRAWN_WITH_BOOKING = ("reminder", "verification")


def message_values(
    *,
    kind: str,
    channel: str,
    recipient: str,
    language: str,
    due_at: datetime,
    dedupe_key: str | WithBookingId,
    now: datetime,
    booking_id: int | WithBookingId | None = None,
    office_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One outbox row's columns. The key and the booking id may name a new booking whose id is not known yet
    (`WithBookingId`: its statement fills them in)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    return {
        "kind": kind,
        "channel": channel,
        "recipient": recipient,
        "language": i18n.choose(language),
        "due_at": due_at,
        "dedupe_key": dedupe_key,
        "booking_id": booking_id,
        "office_id": office_id,
        "payload": payload or {},
        "status": "pending",
        "attempts": 0,
        "priority": 0 if kind == "reminder" else 1,
        "created_at": now,
        "updated_at": now,
    }


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
    values = message_values(
        kind=kind,
        channel=channel,
        recipient=recipient,
        language=language,
        due_at=due_at,
        dedupe_key=dedupe_key,
        now=now,
        booking_id=booking_id,
        office_id=office_id,
        payload=payload,
    )
    message = OutboxMessage(**values)
    session.add(message)
    wake_after_commit(session, [values])
    return message


def wake_after_commit(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Wake the dispatchers once the transaction commits if one of the outbox `rows` is due at once."""
    if any(row["due_at"] <= row["created_at"] for row in rows):
        after_commit(session, wake_dispatchers)


async def booking_changed(
    session: AsyncSession,
    *,
    booking: BookingFacts,
    event: str,
    now: datetime,
    office_policies: policies.Policies,
    payload: dict[str, Any] | None = None,
    channels: tuple[str, ...] = ("email", "sms"),
) -> None:
    """Tell the citizen about a booking event on every channel they gave (withdrawing stale reminders).

    `payload["sealed_manage_token"]` is the manage token encrypted with the app secret: known only while the
    citizen's own request runs, it lets messages carry the manage link although only the token's hash is
    stored. A confirmed booking gets its reminders planned here; a cancelled or moved one loses its pending
    ones (and a moved one gets new ones for the new time).
    """
    if event in {"cancellation", "change"}:
        await withdraw_pending(session, booking_id=booking.id, now=now)
    rows = await change_messages(
        session,
        booking=booking,
        booking_id=booking.id,
        event=event,
        now=now,
        office_policies=office_policies,
        payload=payload,
        channels=channels,
    )
    # All added before the flush, so that the message and its reminders go into the outbox in one INSERT.
    session.add_all([OutboxMessage(**row) for row in rows])
    wake_after_commit(session, rows)


async def change_messages(
    session: AsyncSession,
    *,
    booking: BookingFacts,
    booking_id: int | WithBookingId,
    event: str,
    now: datetime,
    office_policies: policies.Policies,
    payload: dict[str, Any] | None = None,
    channels: tuple[str, ...] = ("email", "sms"),
) -> list[dict[str, Any]]:
    """The outbox rows of `booking_changed` (the message on each channel, and the reminders of a confirmed
    booking), not yet written; `booking_id` is the booking's id or, for one not yet written, its stand-in."""
    rows = [
        message_values(
            kind=event,
            channel=channel,
            recipient=recipient,
            language=booking.language,
            due_at=now,
            dedupe_key=_key(booking_id, f"{event}:", f":{booking.sequence}:{channel}"),
            now=now,
            booking_id=booking_id,
            office_id=booking.office_id,
            payload=payload,
        )
        for channel, recipient in contacts(booking)
        if channel in channels
    ]
    if event in {"confirmation", "change"} and booking.status == "confirmed":
        known = await office_policies.of(session, office_id=booking.office_id, now=now)
        sealed = (payload or {}).get("sealed_manage_token")
        itinerary = (payload or {}).get("itinerary")
        rows += reminders(
            booking, booking_id=booking_id, now=now, sealed_manage_token=sealed, itinerary=itinerary, known=known
        )
    return rows


def _key(booking_id: int | WithBookingId, before: str, after: str) -> str | WithBookingId:
    """A dedupe key with the booking's id between `before` and `after`."""
    if isinstance(booking_id, WithBookingId):
        return WithBookingId(before=before, after=after)
    return f"{before}{booking_id}{after}"


class _Contactable(Protocol):
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...


def contacts(booking: _Contactable) -> list[tuple[str, str]]:
    """(channel, recipient) for every contact the citizen gave."""
    return [(c, r) for c, r in (("email", booking.email), ("sms", booking.phone)) if r is not None]


async def office_policy(session: AsyncSession, *, office_id: int) -> tuple[policies.Policy, ZoneInfo]:
    """The office's reminder policy and time zone."""
    tz = await offices.office_timezone(session, office_id=office_id)
    row = await session.scalar(select(NotifyPolicy).where(NotifyPolicy.office_id == office_id))
    return policies.policy_of(row), tz


def reminders(
    booking: BookingFacts,
    *,
    booking_id: int | WithBookingId,
    now: datetime,
    known: tuple[policies.Policy, ZoneInfo],
    sealed_manage_token: str | None = None,
    itinerary: str | None = None,
) -> list[dict[str, Any]]:
    """The booking's reminders at the office's offsets (SMS moved out of quiet hours), as outbox rows.

    A part of an `itinerary` (its code) is reminded of together with the itinerary's other parts that day.
    `known` is the office's policy and time zone.
    """
    policy, tz = known
    payload: dict[str, Any] = {"sealed_manage_token": sealed_manage_token} if sealed_manage_token else {}
    if itinerary:
        payload["itinerary"] = itinerary
    rows = []
    for channel, recipient in contacts(booking):
        for offset, due in policies.reminder_times(start=booking.start, now=now, policy=policy, tz=tz, channel=channel):
            minutes = int(offset.total_seconds() // 60)
            rows.append(
                message_values(
                    kind="reminder",
                    channel=channel,
                    recipient=recipient,
                    language=booking.language,
                    due_at=due,
                    dedupe_key=_key(booking_id, "reminder:", f":{booking.sequence}:{channel}:{minutes}"),
                    now=now,
                    booking_id=booking_id,
                    office_id=booking.office_id,
                    payload={**payload, "offset_minutes": minutes},
                )
            )
    return rows


async def withdraw_pending(session: AsyncSession, *, booking_id: int, now: datetime) -> None:
    """Withdraw messages about a booking that have not gone out yet (except confirmations of changes)."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id == booking_id,
            OutboxMessage.status == "pending",
            OutboxMessage.kind.in_(WITHDRAWN_WITH_BOOKING),
        )
        .values(status="withdrawn", updated_at=now)
        .execution_options(synchronize_session=False)
    )


@operation
async def set_policy(
    session: AsyncSession,
    *,
    office_id: int,
    reminder_offsets_minutes: list[int],
    quiet_start: str,
    quiet_end: str,
    turn_near_ahead: int,
    catalog: Catalog,
    now: datetime,
) -> policies.Policy:
    """Create or replace an office's reminder policy (applies to reminders planned from now on).

    It counts as a change of the catalogue, so that every instance's `policies.Policies` reads it again.
    """
    raw = ",".join(str(m) for m in reminder_offsets_minutes)
    try:
        parsed = policies.Policy(
            offsets=policies.parse_offsets(raw),
            quiet_start=policies.parse_time(quiet_start),
            quiet_end=policies.parse_time(quiet_end),
            turn_near_ahead=turn_near_ahead,
        )
    except ValueError as error:
        raise RathausError("invalid_input", reason=str(error)) from None
    if not 0 <= turn_near_ahead <= 100:
        raise RathausError("invalid_input", reason="turn_near_ahead must be between 0 and 100")
    values = {
        "reminder_offsets": raw,
        "quiet_start": parsed.quiet_start.strftime("%H:%M"),
        "quiet_end": parsed.quiet_end.strftime("%H:%M"),
        "turn_near_ahead": turn_near_ahead,
        "updated_at": now,
    }
    statement = dialect_insert(session, NotifyPolicy).values(office_id=office_id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[NotifyPolicy.office_id], set_=values))
    await catalog.changed(session, now=now)
    return parsed


# --- opt-outs ------------------------------------------------------------------------------------------


async def opt_out(session: AsyncSession, *, phone: str, now: datetime) -> None:
    """Stop every SMS to `phone` (it replied STOP, or the provider says it did)."""
    statement = dialect_insert(session, SmsOptOut).values(phone=phone, created_at=now)
    await session.execute(statement.on_conflict_do_nothing(index_elements=[SmsOptOut.phone]))


async def opt_in(session: AsyncSession, *, phone: str) -> None:
    """Allow SMS to `phone` again (it replied START)."""
    await session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))


async def opted_out(session: AsyncSession, *, phones: list[str]) -> set[str]:
    """Which of `phones` have opted out."""
    if not phones:
        return set()
    return set((await session.scalars(select(SmsOptOut.phone).where(SmsOptOut.phone.in_(phones)))).all())


# --- history -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageHistory:
    message: OutboxMessage
    events: list[NotifyEvent]


async def booking_messages(session: AsyncSession, *, booking_id: int) -> list[MessageHistory]:
    """Every message about a booking with its history, oldest first."""
    messages = (
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.booking_id == booking_id).order_by(OutboxMessage.id)
        )
    ).all()
    events: dict[int, list[NotifyEvent]] = {m.id: [] for m in messages}
    if messages:
        rows = await session.scalars(
            select(NotifyEvent).where(NotifyEvent.outbox_id.in_(list(events))).order_by(NotifyEvent.id)
        )
        for event in rows:
            events[event.outbox_id].append(event)
    return [MessageHistory(m, events[m.id]) for m in messages]


async def office_outbox(
    session: AsyncSession, *, office_id: int, status: str | None, limit: int
) -> list[OutboxMessage]:
    """An office's recent outbox rows, newest first (for admins)."""
    query = select(OutboxMessage).where(OutboxMessage.office_id == office_id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list((await session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit))).all())


RETRYABLE = ("failed", "dead")


@operation
async def retry_message(session: AsyncSession, *, office_id: int, message_id: int, actor: str, now: datetime) -> None:
    """Send a failed or dead message again, now, with a fresh count of attempts (an admin fixed the cause)."""
    message = await session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.office_id != office_id:
        raise RathausError("unknown_message")
    if message.status not in RETRYABLE:
        raise RathausError("not_retryable", status=message.status)
    if message.recipient is None:
        raise RathausError("not_retryable", status="purged")
    message.status = "pending"
    message.attempts = 0
    message.due_at = now
    message.lease_until = None
    message.claimed_by = None
    message.updated_at = now
    session.add(NotifyEvent(outbox_id=message.id, at=now, status="retry", provider_status=None, detail=f"by {actor}"))
    after_commit(session, wake_dispatchers)


async def pending_messages(session: AsyncSession, *, booking_ids: list[int], kind: str) -> list[OutboxMessage]:
    """Messages of one kind about these bookings that have not gone out yet, oldest first."""
    if not booking_ids:
        return []
    query = select(OutboxMessage).where(
        OutboxMessage.booking_id.in_(booking_ids), OutboxMessage.kind == kind, OutboxMessage.status == "pending"
    )
    return list((await session.scalars(query.order_by(OutboxMessage.id))).all())


# --- provider callbacks --------------------------------------------------------------------------------

# Twilio message statuses in the order they happen; a callback never moves a message back.
_STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 4,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
}
FAILED_STATUSES = ("undelivered", "failed", "canceled")
# ErrorCodes after which another SMS to the number will not arrive either (30003 is often transient).
PERMANENT_DELIVERY_ERRORS = frozenset({"30004", "30005", "30006", "30007", "21610"})


async def record_provider_status(
    session: AsyncSession,
    *,
    outbox_id: int,
    provider_id: str,
    provider_status: str,
    error_code: str | None,
    now: datetime,
) -> bool:
    """Ingest a delivery receipt: only forward moves count, so duplicates and late arrivals change nothing."""
    message = await session.get(OutboxMessage, outbox_id, with_for_update=True)
    if message is None or message.provider_id != provider_id or provider_status not in _STATUS_RANK:
        return False
    if message.provider_status == provider_status:
        return False
    if (
        message.provider_status in _STATUS_RANK
        and _STATUS_RANK[provider_status] <= _STATUS_RANK[message.provider_status]
    ):
        return False
    message.provider_status = provider_status
    message.updated_at = now
    if provider_status in {"delivered", "read"} and message.status in {"sent", "claimed"}:
        message.status = "delivered"
    elif provider_status in FAILED_STATUSES and message.status in {"sent", "claimed", "delivered"}:
        message.status = "failed"
        message.last_error = f"{provider_status} (error {error_code or '-'})"
    session.add(
        NotifyEvent(
            outbox_id=outbox_id,
            at=now,
            status=message.status,
            provider_status=provider_status,
            detail=f"error {error_code}" if error_code else "",
        )
    )
    if message.status == "failed" and message.booking_id is not None:
        if error_code == "21610" and message.recipient:
            await opt_out(session, phone=message.recipient, now=now)
        if error_code in PERMANENT_DELIVERY_ERRORS:
            from rathaus.notify.dispatcher import fall_back

            await fall_back(
                session,
                outbox_id=message.id,
                channel=message.channel,
                kind=message.kind,
                booking_id=message.booking_id,
                dedupe_key=message.dedupe_key,
                language=message.language,
                payload=message.payload,
                now=now,
            )
    return True


async def citizen_messages(
    session: AsyncSession, *, ctx: bookings.BookingContext, code: str, token: str, now: datetime
) -> list[MessageHistory]:
    """The message history of a booking, for the holder of its manage token."""
    found = await bookings.view(session, ctx=ctx, code=code, token=token, now=now)
    return await booking_messages(session, booking_id=found.booking.id)
