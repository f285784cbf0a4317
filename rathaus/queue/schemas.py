"""The queue API's request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
CounterRef = Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | int


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class WalkIn(msgspec.Struct, forbid_unknown_fields=True):
    services: Annotated[list[Slug], msgspec.Meta(min_length=1, max_length=10)]
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    language: Annotated[str, msgspec.Meta(max_length=2)] = "de"
    # Issue the ticket although the waiting room already fills the day (the desk's decision, recorded).
    override_note: Annotated[str, msgspec.Meta(max_length=300)] = ""


class CallNext(msgspec.Struct, forbid_unknown_fields=True):
    counter: CounterRef


class Transfer(msgspec.Struct, forbid_unknown_fields=True):
    counter: CounterRef | None = None
    services: Annotated[list[Slug], msgspec.Meta(min_length=1, max_length=10)] | None = None


class Ticket(msgspec.Struct):
    id: int
    public_id: str
    number: str
    kind: str
    status: str
    position: int | None
    estimated_wait_minutes: int | None
    services: list[str]
    counter: str | None
    arrived_at: datetime
    due_at: datetime | None
    called_at: datetime | None
    finished_at: datetime | None
    late: bool
    note: str
    ticket_url: str


class Queue(msgspec.Struct):
    office: str
    at: datetime
    waiting: list[Ticket]
    called: list[Ticket]
    walk_in_wait_minutes: int | None
    completed_today: int
    no_show_today: int
    counters_staffed: list[str]


class BoardCall(msgspec.Struct):
    number: str
    counter: str
    recalls: int
    called_at: datetime | None


class Board(msgspec.Struct):
    office: str
    office_name_de: str
    office_name_en: str
    at: datetime
    time_zone: str
    open_now: bool
    opens_next: datetime | None  # while closed: the next opening (closures cut out), in the office's time
    called: list[BoardCall]
    next: list[str]
    waiting_count: int
    walk_in_wait_minutes: int | None


class PublicTicket(msgspec.Struct):
    """A citizen's ticket: no personal data, only what the waiting room shows anyway."""

    number: str
    status: str
    position: int | None
    estimated_wait_minutes: int | None
    counter: str | None
    office: str
    office_name: str
    services: list[str]
    called_at: datetime | None
