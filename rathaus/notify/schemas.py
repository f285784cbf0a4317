"""What the notify API answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class MessageEvent(msgspec.Struct):
    at: datetime
    status: str
    provider_status: str | None
    detail: str


class Message(msgspec.Struct):
    """One message about a booking, as GOV.UK Notify shows it: no body, no address."""

    id: int
    kind: str
    channel: str
    status: str
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    provider_status: str | None
    attempts: int
    history: list[MessageEvent]


class OutboxRow(msgspec.Struct):
    """An outbox row for admins: status and errors, no recipient, no text."""

    id: int
    kind: str
    channel: str
    status: str
    attempts: int
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None
    provider_status: str | None
    last_error: str | None
    booking_id: int | None


class NotifyPolicy(msgspec.Struct, forbid_unknown_fields=True):
    reminder_offsets_minutes: Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=43200)]], msgspec.Meta(max_length=5)]
    # A time of day (HH:MM); the pattern admits only real ones, so a valid request is never refused later.
    quiet_start: Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "21:00"
    quiet_end: Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:00"
    turn_near_ahead: Annotated[int, msgspec.Meta(ge=0, le=100)] = 3
