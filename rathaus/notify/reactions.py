"""Which message each domain event sends: notify's subscriptions, run inside the publisher's transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.events import BookingChanged, BookingMoved
from rathaus.events import DomainEvent, Handler
from rathaus.notify import service
from rathaus.offices.catalog import Catalog
from rathaus.queue import service as queue
from rathaus.queue.events import QueueAdvanced, TicketCalled
from rathaus.runtime import Runtime

# The message a booking change sends; a change not named here sends none.
_MESSAGE_OF_CHANGE = {
    "created": "confirmation",
    "confirmed": "confirmation",
    "rescheduled": "change",
    "cancelled": "cancellation",
}


async def booking_changed(session: AsyncSession, event: BookingChanged) -> None:
    """Confirm, tell of a change or a cancellation, ask for the verification code; plan or withdraw reminders."""
    kind = _MESSAGE_OF_CHANGE.get(event.change)
    if kind is None:
        return
    payload: dict[str, object] = {}
    if event.manage_token is not None:
        payload["sealed_manage_token"] = event.manage_token
    channels: tuple[str, ...] = ("email", "sms")
    if event.verification is not None:
        kind = "verification"
        payload.update(code=event.verification.code, channel=event.verification.channel)
        channels = (event.verification.channel,)
    if event.change == "cancelled":
        payload.update(reason=event.reason or "citizen", **event.detail)
        if event.actor == "sms":
            channels = ("email",)  # the reply to the citizen's SMS confirms it on that channel
    await service.booking_changed(
        session, booking=event.booking, event=kind, now=event.at, payload=payload or None, channels=channels
    )


async def booking_moved(session: AsyncSession, event: BookingMoved) -> None:
    """A citizen who has checked in needs no more reminders."""
    if event.status == "checked_in":
        await service.withdraw_pending(session, booking_id=event.booking_id, now=event.at)


def ticket_called(runtime: Runtime) -> Handler:
    """An SMS to a citizen whose ticket a counter called."""

    async def handle(session: AsyncSession, event: TicketCalled) -> None:
        if event.phone is None:
            return
        office = (await runtime.get(Catalog).get(session, now=event.at)).office_by_id(event.office_id)
        service.enqueue(
            session,
            kind="called",
            channel="sms",
            recipient=event.phone,
            language=event.language,
            due_at=event.at,
            dedupe_key=f"ticket:{event.label}:{event.office_id}:{event.office_day}:called:{event.at.isoformat()}",
            now=event.at,
            booking_id=event.booking_id,
            office_id=event.office_id,
            payload={
                "ticket_number": event.label,
                "counter_name": event.counter,
                "office_name": office.name.get(event.language),
                "ahead": 0,
            },
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
        for waiting in near:
            if not await queue.mark_turn_near_told(session, ticket_id=waiting.ticket_id):
                continue
            service.enqueue(
                session,
                kind="turn_near",
                channel="sms",
                recipient=waiting.phone,
                language=waiting.language,
                due_at=event.at,
                dedupe_key=f"ticket:{waiting.label}:{event.office_id}:{event.office_day}:turn_near",
                now=event.at,
                booking_id=waiting.booking_id,
                office_id=event.office_id,
                payload={
                    "ticket_number": waiting.label,
                    "counter_name": "",
                    "office_name": office.name.get(waiting.language),
                    "ahead": waiting.ahead,
                },
            )

    return handle


def _always(handler: Handler) -> Callable[[Runtime], Handler]:
    """A handler that needs nothing of the instance."""
    return lambda _runtime: handler


SUBSCRIPTIONS: list[tuple[type[DomainEvent], Callable[[Runtime], Handler]]] = [
    (BookingChanged, _always(booking_changed)),
    (BookingMoved, _always(booking_moved)),
    (TicketCalled, ticket_called),
    (QueueAdvanced, queue_advanced),
]
