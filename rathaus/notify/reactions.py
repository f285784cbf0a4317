"""Which message each domain event sends: notify's subscriptions, run inside the publisher's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.events import (
    NEW_BOOKING_ID,
    BookingChanged,
    BookingMoved,
    CreationProbes,
    CreationRows,
    NewRows,
)
from rathaus.events import DomainEvent, Handler
from rathaus.notify import policy as policies
from rathaus.notify import ratings, service
from rathaus.notify.models import OutboxMessage
from rathaus.offices.catalog import Catalog
from rathaus.offices.rules import OfficeRules
from rathaus.queue import service as queue
from rathaus.queue.events import QueueAdvanced, TicketCalled, TicketFinished, WaitingTicket
from rathaus.runtime import Runtime
from rathaus.waitlist import service as waitlist
from rathaus.waitlist.deps import waitlist_context
from rathaus.waitlist.events import OfferMade, WishRegistered

# The message a booking change sends; a change not named here sends none.
_MESSAGE_OF_CHANGE = {
    "created": "confirmation",
    "confirmed": "confirmation",
    "rescheduled": "change",
    "cancelled": "cancellation",
}


# The name under which notify's rows are written with a new booking, and their table.
_WRITER = "notify"
_OUTBOX = cast(Table, OutboxMessage.__table__)


def booking_changed(runtime: Runtime) -> Handler:
    """Confirm, tell of a change or a cancellation, ask for the verification code; plan or withdraw reminders."""
    office_policies = runtime.get(policies.Policies)

    async def rows(session: AsyncSession, event: BookingChanged) -> NewRows | None:
        message = _message(event)
        if message is None:
            return None
        kind, payload, channels = message
        found = await service.change_messages(
            session,
            booking=event.booking,
            booking_id=NEW_BOOKING_ID,
            event=kind,
            now=event.at,
            office_policies=office_policies,
            payload=payload,
            channels=channels,
        )
        service.wake_after_commit(session, found)
        return NewRows(_OUTBOX, tuple(found))

    # A new booking's confirmation and reminders are written by the booking's own statement.
    runtime.get(CreationProbes).add_rows(CreationRows(_WRITER, rows))

    async def handle(session: AsyncSession, event: BookingChanged) -> None:
        if _WRITER in event.written:
            return
        message = _message(event)
        if message is None:
            return
        kind, payload, channels = message
        await service.booking_changed(
            session,
            booking=event.booking,
            event=kind,
            now=event.at,
            office_policies=office_policies,
            payload=payload or None,
            channels=channels,
        )

    return handle


def _message(event: BookingChanged) -> tuple[str, dict[str, object], tuple[str, ...]] | None:
    """The message a booking change sends (its kind, payload and channels); None for none."""
    kind = _MESSAGE_OF_CHANGE.get(event.change)
    if kind is None:
        return None
    payload: dict[str, object] = {}
    if event.manage_token is not None:
        payload["sealed_manage_token"] = event.manage_token
    if event.itinerary is not None:
        payload["itinerary"] = event.itinerary  # its parts' confirmations and reminders go out together
    channels: tuple[str, ...] = ("email", "sms")
    if event.verification is not None:
        kind = "verification"
        payload.update(code=event.verification.code, channel=event.verification.channel)
        channels = (event.verification.channel,)
    if event.change == "cancelled":
        payload.update(reason=event.reason or "citizen", **event.detail)
        if event.actor == "sms":
            channels = ("email",)  # the reply to the citizen's SMS confirms it on that channel
    return kind, payload, channels


async def booking_moved(session: AsyncSession, event: BookingMoved) -> None:
    """A citizen who has checked in needs no more reminders."""
    if event.status == "checked_in":
        await service.withdraw_pending(session, booking_id=event.booking_id, now=event.at)


def _ticket_sms(
    session: AsyncSession,
    *,
    kind: str,
    office: OfficeRules,
    office_day: str,
    ticket: WaitingTicket,
    at: datetime,
    counter: str = "",
) -> None:
    """An SMS about a ticket: "your turn is near" (once per ticket) or "you are called" (at each call)."""
    once = f"ticket:{ticket.label}:{office.id}:{office_day}:{kind}"
    service.enqueue(
        session,
        kind=kind,
        channel="sms",
        recipient=ticket.phone,
        language=ticket.language,
        due_at=at,
        dedupe_key=once if kind == "turn_near" else f"{once}:{at.isoformat()}",
        now=at,
        booking_id=ticket.booking_id,
        office_id=office.id,
        payload={
            "ticket_number": ticket.label,
            "counter_name": counter,
            "office_name": office.name.get(ticket.language),
            "ahead": ticket.ahead,
        },
    )


def ticket_called(runtime: Runtime) -> Handler:
    """An SMS to a citizen whose ticket a counter called."""

    async def handle(session: AsyncSession, event: TicketCalled) -> None:
        if event.phone is None:
            return
        office = (await runtime.get(Catalog).get(session, now=event.at)).office_by_id(event.office_id)
        ticket = WaitingTicket(event.ticket_id, event.label, event.phone, event.language, event.booking_id, ahead=0)
        _ticket_sms(
            session,
            kind="called",
            office=office,
            office_day=event.office_day,
            ticket=ticket,
            at=event.at,
            counter=event.counter,
        )

    return handle


def queue_advanced(runtime: Runtime) -> Handler:
    """An SMS, once per ticket, when only the office's `turn_near_ahead` people are ahead."""

    async def handle(session: AsyncSession, event: QueueAdvanced) -> None:
        policy, _ = await service.office_policy(session, office_id=event.office_id)
        near = [w for w in event.waiting if w.ahead <= policy.turn_near_ahead]
        if not near:
            return
        office = (await runtime.get(Catalog).get(session, now=event.at)).office_by_id(event.office_id)
        for ticket in near:
            if await queue.mark_turn_near_told(session, ticket_id=ticket.ticket_id):
                _ticket_sms(
                    session, kind="turn_near", office=office, office_day=event.office_day, ticket=ticket, at=event.at
                )

    return handle


async def wish_registered(session: AsyncSession, event: WishRegistered) -> None:
    """The code that confirms a wish's contact, on the channel the citizen chose."""
    service.enqueue(
        session,
        kind="wish_verification",
        channel=event.channel,
        recipient=event.recipient,
        language=event.language,
        due_at=event.at,
        dedupe_key=f"wish_verification:{event.wish_id}",
        now=event.at,
        payload={"code": event.verification_code},
    )


def offer_made(runtime: Runtime) -> Handler:
    """The offer of a held slot, with the link that accepts or declines it; by SMS not in the quiet hours."""

    async def handle(session: AsyncSession, event: OfferMade) -> None:
        office = (await runtime.get(Catalog).get(session, now=event.at)).office_by_id(event.office_id)
        due, expires = event.at, event.expires_at
        if event.channel == "sms":
            policy, tz = await service.office_policy(session, office_id=event.office_id)
            due = policies.outside_quiet_hours(event.at, policy, tz)
            if due > event.at:
                # Raises Unreachable when the SMS would come too late: the offer is undone, the next wish tried.
                expires = await waitlist.postpone(
                    session, ctx=waitlist_context(runtime), offer_id=event.offer_id, sent_at=due
                )
        service.enqueue(
            session,
            kind="offer",
            channel=event.channel,
            recipient=event.recipient,
            language=event.language,
            due_at=due,
            dedupe_key=f"offer:{event.offer_id}",
            now=event.at,
            booking_id=event.booking_id,
            office_id=event.office_id,
            payload={
                "sealed_offer_token": event.sealed_token,
                "offer_expires_at": expires.isoformat(),
                "office_name": office.name.get(event.language),
            },
        )

    return handle


def _always(handler: Handler) -> Callable[[Runtime], Handler]:
    """A handler that needs nothing of the instance."""
    return lambda _runtime: handler


SUBSCRIPTIONS: list[tuple[type[DomainEvent], Callable[[Runtime], Handler]]] = [
    (BookingChanged, booking_changed),
    (BookingMoved, _always(booking_moved)),
    (TicketCalled, ticket_called),
    (QueueAdvanced, queue_advanced),
    (WishRegistered, _always(wish_registered)),
    (OfferMade, offer_made),
    (BookingMoved, ratings.booking_completed),
    (TicketFinished, ratings.walk_in_completed),
]
