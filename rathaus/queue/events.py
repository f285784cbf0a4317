"""What happens in the waiting room, announced to the packages that react (SMS to waiting citizens)."""

from __future__ import annotations

from dataclasses import dataclass

from rathaus.events import DomainEvent


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    """A waiting ticket whose citizen left a mobile number and has not yet been told the turn is near."""

    ticket_id: int
    label: str
    phone: str
    language: str
    booking_id: int | None
    ahead: int  # people to be called before this one


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketCalled(DomainEvent):
    """A counter called a ticket."""

    office_id: int
    office_day: str  # the office's date (ISO), part of what makes a ticket number unique
    ticket_id: int
    label: str
    counter: str
    phone: str | None
    language: str
    booking_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAdvanced(DomainEvent):
    """The waiting order moved; `waiting` lists who might want to hear that their turn is near."""

    office_id: int
    office_day: str
    waiting: tuple[WaitingTicket, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketFinished(DomainEvent):
    """A counter finished a ticket: `outcome` completed or no_show (a booked citizen's booking moves too)."""

    office_id: int
    office_day: str
    ticket_id: int
    outcome: str
    phone: str | None
    language: str
    booking_id: int | None
    service_ids: tuple[int, ...]
