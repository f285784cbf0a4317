"""Domain events: what happened, published on the session and handled inside the same transaction.

A domain records a fact (`BookingChanged`, `TicketCalled`, …) and publishes it; the packages that react
subscribe through their `Wiring`. Handlers run at once, awaited, on the publisher's session, so whatever they
write (outbox rows, cancellations) commits or rolls back with the change that caused it, and the publishing
domain never imports the reacting one. (Litestar's `app.emit` runs listeners outside the transaction, which
would break that guarantee.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Something that happened: by whom (`actor`) and when (`at`)."""

    actor: str
    at: datetime


Handler = Callable[[AsyncSession, Any], Awaitable[None]]

_BUS_KEY = "rathaus_event_bus"


class EventBus:
    """Which handlers react to which event types; one per app instance, carried by its sessions."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, kind: type[DomainEvent], handler: Handler) -> None:
        """Run `handler(session, event)` for every event of exactly this type."""
        self._handlers[kind].append(handler)

    def session_info(self) -> dict[str, object]:
        """The `info` a session maker gives its sessions so that `publish` finds this bus."""
        return {_BUS_KEY: self}

    async def dispatch(self, session: AsyncSession, event: DomainEvent) -> None:
        """Run every handler subscribed to the event's type, in subscription order."""
        for handler in self._handlers.get(type(event), ()):
            await handler(session, event)


def bus_of(session: AsyncSession | Session) -> EventBus:
    """The event bus the session was made with."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    bus = sync.info.get(_BUS_KEY)
    if not isinstance(bus, EventBus):
        # A session without subscribers would drop reactions (messages, cancellations) without a trace.
        raise RuntimeError("this session carries no event bus: make it with the runtime's session makers")
    return bus


async def publish(session: AsyncSession, event: DomainEvent) -> None:
    """Announce `event` to its subscribers, inside the session's current transaction."""
    await bus_of(session).dispatch(session, event)
