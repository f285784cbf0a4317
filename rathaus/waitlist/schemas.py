"""The waiting list API's request and response shapes (snake_case JSON, times with the office's offset)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

import msgspec

from rathaus.booking.schemas import Booking
from rathaus.fairness import PayloadField

Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# A time of day (HH:MM or HH:MM:SS); the pattern admits only real ones, so a valid request is never refused later.
TimeOfDay = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", examples=["09:00"])]


class WishWindowRequest(msgspec.Struct, forbid_unknown_fields=True):
    weekdays: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
    start: TimeOfDay
    end: TimeOfDay


class WishWindow(msgspec.Struct):
    weekdays: list[Weekday]
    start: time
    end: time


class WishCreate(msgspec.Struct, forbid_unknown_fields=True):
    services: Annotated[list[Slug], msgspec.Meta(min_length=1, max_length=10)]
    offices: Annotated[list[Slug], msgspec.Meta(min_length=1, max_length=20)]
    first_day: date
    last_day: date
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    channel: Literal["email", "sms"] = "email"
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    language: Annotated[str, msgspec.Meta(max_length=2)] = "de"
    windows: Annotated[list[WishWindowRequest], msgspec.Meta(max_length=21)] = []
    altcha: PayloadField = ""


class WishUpdate(msgspec.Struct, forbid_unknown_fields=True):
    first_day: date | None = None
    last_day: date | None = None
    windows: Annotated[list[WishWindowRequest], msgspec.Meta(max_length=21)] | None = None


class WishConfirm(msgspec.Struct, forbid_unknown_fields=True):
    verification_code: Annotated[str, msgspec.Meta(min_length=1, max_length=12)]


class OfferSummary(msgspec.Struct):
    office: str
    start: datetime
    end: datetime
    expires_at: datetime


class Wish(msgspec.Struct):
    code: str
    status: str
    services: list[str]
    offices: list[str]
    first_day: date
    last_day: date
    windows: list[WishWindow]
    channel: str
    language: str
    name: str | None
    email: str | None
    phone: str | None
    place: int | None = None
    offer: OfferSummary | None = None
    manage_token: str | None = None


class Offer(msgspec.Struct):
    status: str
    office: str
    services: list[str]
    start: datetime
    end: datetime
    expires_at: datetime
    booking: Booking | None = None


class WaitlistPolicy(msgspec.Struct, forbid_unknown_fields=True):
    ordering: Literal["fifo", "lottery"]


class ServiceFigures(msgspec.Struct):
    service: str
    name_de: str
    name_en: str
    wishes_waiting: int
    offers_made: int
    accepted: int
    declined: int
    expired: int
    median_days_to_appointment: float | None


class WaitlistFigures(msgspec.Struct):
    office: str
    services: list[ServiceFigures]
    freed_slots: int
    freed_slots_to_wishes: int
    share_to_wishes: float | None
