"""The booking API's request and response shapes (snake_case JSON, times with the office's offset)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from rathaus.fairness import PayloadField
from rathaus.offices.schemas import Closure

Text = Annotated[str, msgspec.Meta(max_length=200)]
# How the appointment takes place: at the office, a call to the citizen, or a video meeting.
Mode = Literal["on_site", "phone", "video"]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class BookingCreate(msgspec.Struct, forbid_unknown_fields=True):
    office: Slug
    services: Annotated[list[Slug], msgspec.Meta(min_length=1, max_length=10)]
    start: Annotated[datetime, msgspec.Meta(tz=True)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    language: Annotated[str, msgspec.Meta(max_length=2)] = "de"
    mode: Mode = "on_site"
    # For a phone appointment: the number to call (required then; a landline is fine).
    call_number: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    altcha: PayloadField = ""


class BookingReschedule(msgspec.Struct, forbid_unknown_fields=True):
    start: Annotated[datetime, msgspec.Meta(tz=True)]


class BookingConfirm(msgspec.Struct, forbid_unknown_fields=True):
    verification_code: Annotated[str, msgspec.Meta(min_length=1, max_length=12)]


class BookingHistoryItem(msgspec.Struct):
    at: datetime
    action: str
    actor: str
    from_status: str | None
    to_status: str


class Booking(msgspec.Struct):
    code: str
    status: str
    office: str
    services: list[str]
    start: datetime
    end: datetime
    counter: str
    language: str
    name: str | None
    email: str | None
    phone: str | None
    ical_sequence: int
    hold_expires_at: datetime | None = None
    cancel_reason: str | None = None
    manage_token: str | None = None
    history: list[BookingHistoryItem] | None = None
    mode: str = "on_site"
    call_number: str | None = None
    meeting_url: str | None = None  # a video appointment's own meeting


class Slot(msgspec.Struct):
    start: datetime
    end: datetime


class Availability(msgspec.Struct):
    office: str
    date: date
    services: list[str]
    duration_minutes: int
    slots: list[Slot]
    mode: str = "on_site"


class ClosureCreate(msgspec.Struct, forbid_unknown_fields=True):
    start: Annotated[datetime, msgspec.Meta(tz=True)]
    end: Annotated[datetime, msgspec.Meta(tz=True)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    reason_en: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    public: bool = True


class ClosureCreated(msgspec.Struct):
    closure: Closure
    cancelled_bookings: list[str]


class PartCreate(msgspec.Struct, forbid_unknown_fields=True):
    step: Slug
    office: Slug
    start: Annotated[datetime, msgspec.Meta(tz=True)]


class ItineraryCreate(msgspec.Struct, forbid_unknown_fields=True):
    life_event: Slug
    parts: Annotated[list[PartCreate], msgspec.Meta(min_length=1, max_length=10)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    language: Annotated[str, msgspec.Meta(max_length=2)] = "de"
    altcha: PayloadField = ""


class ItineraryReschedule(msgspec.Struct, forbid_unknown_fields=True):
    parts: Annotated[list[PartCreate], msgspec.Meta(min_length=1, max_length=10)]


class ProposedPart(msgspec.Struct):
    step: str
    office: str
    services: list[str]
    start: datetime
    end: datetime


class ProposedItinerary(msgspec.Struct):
    day: date
    days: int
    parts: list[ProposedPart]


class Itineraries(msgspec.Struct):
    life_event: str
    itineraries: list[ProposedItinerary]


class Itinerary(msgspec.Struct):
    code: str
    life_event: str
    status: str  # confirmed (every part active), partly_cancelled or cancelled
    parts: list[Booking]
    manage_token: str | None = None
