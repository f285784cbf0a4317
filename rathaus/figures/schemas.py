"""The day's figures and the audit trail as the staff API answers them."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from rathaus.waitlist.schemas import WaitlistFigures


class Share(msgspec.Struct):
    count: int
    total: int
    share: float | None  # count / total, None when there is nothing to divide


class WaitHour(msgspec.Struct):
    hour: int  # local hour of arrival, 0-23
    tickets: int
    median_minutes: float | None
    p90_minutes: float | None


class Waits(msgspec.Struct):
    tickets: int
    median_minutes: float | None
    p90_minutes: float | None
    by_hour: list[WaitHour]


class ServiceTime(msgspec.Struct):
    services: list[str]  # slugs: a ticket for several services is counted under their combination
    name_de: str
    name_en: str
    tickets: int
    mean_minutes: float
    median_minutes: float


class CounterUse(msgspec.Struct):
    counter: str
    tickets: int
    busy_minutes: float
    open_minutes: float
    utilisation: float | None


class NextFree(msgspec.Struct):
    service: str
    name_de: str
    name_en: str
    days: int | None  # from today to the first free slot; None when none is free within the booking horizon


class NoticeBucket(msgspec.Struct):
    key: str  # under_1_day | 1_to_3_days | 3_to_7_days | over_7_days
    count: int


class Cancellations(msgspec.Struct):
    total: int
    by_reason: dict[str, int]
    by_notice: list[NoticeBucket]
    median_notice_hours: float | None


class ChannelMessages(msgspec.Struct):
    channel: str
    sent: int  # sent or delivered
    failed: int  # failed or given up (dead)
    other: int  # pending, withdrawn, expired


class RatingScore(msgspec.Struct):
    key: str  # a day (YYYY-MM-DD) or a service's slug
    ratings: int
    average: float | None


class RatingComment(msgspec.Struct):
    day: date
    stars: int
    comment: str


class Ratings(msgspec.Struct):
    """What citizens said after their visits in the period (comments for the office's admins only)."""

    ratings: int
    average: float | None
    by_day: list[RatingScore]
    by_service: list[RatingScore]
    comments: list[RatingComment] | None


class Figures(msgspec.Struct):
    office: str
    period: str
    first_day: date
    last_day: date
    at: datetime
    bookings: int
    bookings_by_status: dict[str, int]
    visits: int
    online: Share  # tickets of booked citizens among all tickets
    no_shows: Share  # booked citizens who did not come, among those whose appointment was due
    waits: Waits
    service_times: list[ServiceTime]
    counters: list[CounterUse]
    booked_within_14_days: Share
    median_lead_days: float | None
    next_free: list[NextFree]
    cancellations: Cancellations
    messages: list[ChannelMessages]
    ratings: Ratings | None = None
    # The waiting list so far (not per period): wishes waiting, offers and their answers, freed slots to wishes.
    waitlist: WaitlistFigures | None = None


class AuditEntry(msgspec.Struct):
    at: datetime
    kind: str  # booking | ticket | closure
    subject: str  # booking code, ticket number or closure id
    action: str
    actor: str
    from_status: str | None
    to_status: str | None
    detail: str


class Audit(msgspec.Struct):
    office: str
    first_day: date
    last_day: date
    entries: list[AuditEntry]
