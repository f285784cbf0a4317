"""The catalogue API's response shapes (snake_case JSON, times with the office's offset)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec


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


class Step(msgspec.Struct):
    key: str
    services: list[str]
    offices: list[str]  # any one of them
    after: list[str]  # keys of the steps that come first
    duration_minutes: int


class ChecklistItem(msgspec.Struct):
    text: str
    description: str
    url: str


class LifeEvent(msgspec.Struct):
    slug: str
    name: str
    description: str
    max_days: int
    steps: list[Step]
    checklist: list[ChecklistItem]


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


class Releases(msgspec.Struct):
    """New slots released in batches: on `weekdays` at `at` (local time) the day `days_ahead` days on opens."""

    weekdays: list[str]
    at: str
    days_ahead: int
    # None only if the office is closed on every release day of the coming year.
    next_release: datetime | None  # with the office's offset
    next_day: date | None  # the day the next release opens
    released_through: date | None  # the last day open to booking so far
    # No release is made on a day the office is closed all day (a public holiday, a closure): the days it would have
    # opened open with the next release made. `closed_days` says so in the answer's language; `skipped` lists the
    # release days of the coming four weeks without a release for that reason.
    closed_days: str = ""
    skipped: list[date] = msgspec.field(default_factory=list)


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
    releases: Releases | None = None  # None: slots open continuously, up to the horizon


class BarrierReport(msgspec.Struct):
    id: int
    created_at: datetime
    page: str
    text: str
    email: str | None
    status: str
