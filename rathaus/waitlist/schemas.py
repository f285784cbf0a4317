"""The waiting list API's request and response shapes (snake_case JSON, times with the office's offset)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

import msgspec

from rathaus.booking.schemas import Booking

Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WishWindow(msgspec.Struct, forbid_unknown_fields=True):
    weekdays: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
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
    windows: Annotated[list[WishWindow], msgspec.Meta(max_length=21)] = []


class WishUpdate(msgspec.Struct, forbid_unknown_fields=True):
    first_day: date | None = None
    last_day: date | None = None
    windows: Annotated[list[WishWindow], msgspec.Meta(max_length=21)] | None = None


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
