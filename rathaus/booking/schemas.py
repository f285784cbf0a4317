"""The booking API's request and response shapes (snake_case JSON, times with the office's offset)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

Text = Annotated[str, msgspec.Meta(max_length=200)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class BookingCreate(msgspec.Struct, forbid_unknown_fields=True):
    office: Slug
    services: Annotated[list[Slug], msgspec.Meta(min_length=1, max_length=10)]
    start: Annotated[datetime, msgspec.Meta(tz=True)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    language: Annotated[str, msgspec.Meta(max_length=2)] = "de"


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


class Slot(msgspec.Struct):
    start: datetime
    end: datetime


class Availability(msgspec.Struct):
    office: str
    date: date
    services: list[str]
    duration_minutes: int
    slots: list[Slot]


class Service(msgspec.Struct):
    slug: str
    name: str
    name_de: str
    name_en: str
    duration_minutes: int
    what_to_bring: str
    fee_eur: float | None
    bookable_online: bool
    walk_ins_allowed: bool
    walk_in_cutoff_minutes: int | None


class Bundle(msgspec.Struct):
    slug: str
    name: str
    description: str
    services: list[str]
    duration_minutes: int


class Window(msgspec.Struct):
    opens: str
    closes: str
    walk_ins_until: str
    note: str = ""


class Day(msgspec.Struct):
    date: date
    weekday: str
    windows: list[Window]
    closures: list[str]


class Closure(msgspec.Struct):
    id: int
    start: datetime
    end: datetime
    all_day: bool
    reason: str
    public: bool


class Counter(msgspec.Struct):
    name: str
    walk_in_only: bool
    services: list[str]


class Office(msgspec.Struct):
    slug: str
    name: str
    timezone: str
    address: str
    phone: str
    email: str
    website: str
    latitude: float | None
    longitude: float | None
    slot_minutes: int
    lead_time_minutes: int
    horizon_days: int
    walk_in_cutoff_minutes: int | None
    verification: str
    weekly_hours: dict[str, list[str]]
    next_days: list[Day]
    upcoming_closures: list[Closure]
    counters: list[Counter] | None = None


class ClosureCreate(msgspec.Struct, forbid_unknown_fields=True):
    start: Annotated[datetime, msgspec.Meta(tz=True)]
    end: Annotated[datetime, msgspec.Meta(tz=True)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    reason_en: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    public: bool = True


class ClosureCreated(msgspec.Struct):
    closure: Closure
    cancelled_bookings: list[str]
