"""The figures of an office over a day, week or month, read from the bookings, tickets and the outbox.

Counts are grouped in SQL; durations (waits, service times, notice) are read as timestamps and measured in
Python, because time arithmetic and percentiles differ between SQLite and PostgreSQL. Hours, closures and
counters are those of the office's current rules.

Definitions (the page says them too):
- bookings: appointments starting in the period, without unconfirmed holds (pending, expired);
- online share: tickets of booked citizens among all tickets of the period;
- no-show rate: bookings marked no-show among those whose citizen was due (checked in, served, completed,
  no-show);
- wait: from arrival (for a booked citizen who came early: from the appointment's start) to the first call;
  median and 90th percentile (nearest rank) by the local hour the wait began;
- service time: from the call to completion, per service or combination of services;
- counter utilisation: time between call and completion or no-show at the counter / the office's opening time
  in the period (up to now);
- lead time: from booking to appointment, for bookings made in the period;
- cancellations: cancelled appointments of the period, by reason and by notice (cancellation to start);
- messages: those due to be sent in the period, by channel and outcome;
- waiting list: so far, whatever the period (wishes waiting now, offers made and their answers, the median time
  from wish to appointment, and the share of freed slots that went to wishes).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.booking import service as bookings
from rathaus.booking.models import Booking, BookingEvent
from rathaus.figures import schemas
from rathaus.figures.periods import Period
from rathaus.notify.models import OutboxMessage
from rathaus.offices.rules import OfficeRules, ServiceRule
from rathaus.queue.models import Ticket, TicketService
from rathaus.ratings import service as ratings
from rathaus.waitlist import presenters as waitlist_presenters
from rathaus.waitlist import service as waitlist

HOLDS = ("pending", "expired")  # bookings that never became appointments
DUE = ("checked_in", "serving", "completed", "no_show")
SENT = ("sent", "delivered")
FAILED = ("failed", "dead")
WITHIN = timedelta(days=14)
NOTICE_BUCKETS = (
    ("under_1_day", timedelta(days=1)),
    ("1_to_3_days", timedelta(days=3)),
    ("3_to_7_days", timedelta(days=7)),
    ("over_7_days", timedelta.max),
)
_MINUTE = timedelta(minutes=1)


def share(count: int, total: int) -> schemas.Share:
    return schemas.Share(count=count, total=total, share=round(count / total, 4) if total else None)


def minutes(value: timedelta) -> float:
    return round(value / _MINUTE, 1)


def median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest rank: the smallest value that at least `fraction` of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)], 1)


async def figures(
    session: AsyncSession,
    *,
    office: OfficeRules,
    services: Mapping[int, ServiceRule],
    period: Period,
    booking_ctx: bookings.BookingContext,
    read_sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    with_comments: bool = False,
) -> schemas.Figures:
    """Every figure of the office for the period (the citizens' comments only `with_comments`)."""
    by_status = await _bookings_by_status(session, office, period)
    tickets = await _tickets(session, office, period)
    within, lead_days = await _lead_times(session, office, period)
    return schemas.Figures(
        office=office.slug,
        period=period.kind,
        first_day=period.first,
        last_day=period.last,
        at=now.astimezone(office.tz),
        bookings=sum(n for status, n in by_status.items() if status not in HOLDS),
        bookings_by_status=by_status,
        visits=len(tickets),
        online=share(sum(1 for t in tickets if t.kind == "appointment"), len(tickets)),
        no_shows=share(by_status.get("no_show", 0), sum(by_status.get(s, 0) for s in DUE)),
        waits=_waits(office, tickets),
        service_times=_service_times(tickets, services),
        counters=_counters(office, tickets, period, now),
        booked_within_14_days=within,
        median_lead_days=lead_days,
        next_free=await _next_free(office, services, booking_ctx, read_sessions, now),
        cancellations=await _cancellations(session, office, period),
        messages=await _messages(session, office, period),
        ratings=await _ratings(session, office, services, period, with_comments=with_comments),
        waitlist=waitlist_presenters.figures(await waitlist.figures(session, office_id=office.id), office, services),
    )


async def _ratings(
    session: AsyncSession,
    office: OfficeRules,
    services: Mapping[int, ServiceRule],
    period: Period,
    *,
    with_comments: bool,
) -> schemas.Ratings:
    given = await ratings.given(session, office_id=office.id, first=period.first, last=period.last)
    overall = ratings.scores_by(given, "all")
    total = overall.get("all", ratings.Score(0, None))
    by_day = ratings.scores_by(given, "day")
    by_service = ratings.scores_by(given, "service")
    return schemas.Ratings(
        ratings=total.count,
        average=total.average,
        by_day=sorted(
            (schemas.RatingScore(str(day), s.count, s.average) for day, s in by_day.items()), key=lambda r: r.key
        ),
        by_service=sorted(
            (
                schemas.RatingScore(services[sid].slug, s.count, s.average)
                for sid, s in by_service.items()
                if isinstance(sid, int) and sid in services
            ),
            key=lambda r: r.key,
        ),
        comments=[schemas.RatingComment(r.day, r.stars, r.comment) for r in given if r.comment]
        if with_comments
        else None,
    )


async def _bookings_by_status(session: AsyncSession, office: OfficeRules, period: Period) -> dict[str, int]:
    rows = await session.execute(
        select(Booking.status, func.count())
        .where(Booking.office_id == office.id, Booking.start_at >= period.start, Booking.start_at < period.end)
        .group_by(Booking.status)
        .order_by(Booking.status)
    )
    return {status: count for status, count in rows}


@dataclass(slots=True)
class _Ticket:
    kind: str
    status: str
    arrived_at: datetime
    due_at: datetime | None
    called_at: datetime | None
    finished_at: datetime | None
    counter_id: int | None
    service_ids: list[int] = field(default_factory=list)


async def _tickets(session: AsyncSession, office: OfficeRules, period: Period) -> list[_Ticket]:
    in_period = (Ticket.office_id == office.id, Ticket.day >= period.first, Ticket.day <= period.last)
    rows = await session.execute(
        select(
            Ticket.id,
            Ticket.kind,
            Ticket.status,
            Ticket.arrived_at,
            Ticket.due_at,
            Ticket.called_at,
            Ticket.finished_at,
            Ticket.counter_id,
        )
        .where(*in_period)
        .order_by(Ticket.id)
    )
    tickets = {ticket_id: _Ticket(*values) for ticket_id, *values in rows}
    items = await session.execute(
        select(TicketService.ticket_id, TicketService.service_id)
        .join(Ticket, Ticket.id == TicketService.ticket_id)
        .where(*in_period)
        .order_by(TicketService.ticket_id, TicketService.position)
    )
    for ticket_id, service_id in items:
        tickets[ticket_id].service_ids.append(service_id)
    return list(tickets.values())


def _waits(office: OfficeRules, tickets: list[_Ticket]) -> schemas.Waits:
    by_hour: dict[int, list[float]] = defaultdict(list)
    for t in tickets:
        if t.called_at is None:
            continue
        began = max(t.arrived_at, t.due_at) if t.due_at is not None else t.arrived_at
        by_hour[began.astimezone(office.tz).hour].append(minutes(max(t.called_at - began, timedelta())))
    every = [w for hour in by_hour.values() for w in hour]
    return schemas.Waits(
        tickets=len(every),
        median_minutes=median(every),
        p90_minutes=percentile(every, 0.9),
        by_hour=[
            schemas.WaitHour(
                hour=hour, tickets=len(values), median_minutes=median(values), p90_minutes=percentile(values, 0.9)
            )
            for hour, values in sorted(by_hour.items())
        ],
    )


def _service_times(tickets: list[_Ticket], services: Mapping[int, ServiceRule]) -> list[schemas.ServiceTime]:
    taken: dict[tuple[int, ...], list[float]] = defaultdict(list)
    for t in tickets:
        if t.status == "completed" and t.called_at is not None and t.finished_at is not None:
            taken[tuple(t.service_ids)].append(minutes(t.finished_at - t.called_at))
    answer = []
    for ids, values in taken.items():
        chosen = [services[i] for i in ids if i in services]
        answer.append(
            schemas.ServiceTime(
                services=[s.slug for s in chosen],
                name_de=" + ".join(s.name.get("de") for s in chosen),
                name_en=" + ".join(s.name.get("en") for s in chosen),
                tickets=len(values),
                mean_minutes=round(statistics.fmean(values), 1),
                median_minutes=round(statistics.median(values), 1),
            )
        )
    return sorted(answer, key=lambda s: s.services)


def open_time(office: OfficeRules, period: Period, now: datetime) -> timedelta:
    """How long the office was open in the period up to `now` (closures cut out)."""
    total = timedelta()
    for day in period.days:
        for start, end in office.open_after_closures(day):
            total += max(min(end, now) - start, timedelta())
    return total


def _counters(office: OfficeRules, tickets: list[_Ticket], period: Period, now: datetime) -> list[schemas.CounterUse]:
    opened = minutes(open_time(office, period, now))
    busy: dict[int, timedelta] = defaultdict(timedelta)
    served: Counter[int] = Counter()
    for t in tickets:
        if t.status in ("completed", "no_show") and t.counter_id and t.called_at and t.finished_at:
            busy[t.counter_id] += t.finished_at - t.called_at
            served[t.counter_id] += 1
    return [
        schemas.CounterUse(
            counter=c.name,
            tickets=served[c.id],
            busy_minutes=minutes(busy[c.id]),
            open_minutes=opened,
            utilisation=round(minutes(busy[c.id]) / opened, 4) if opened else None,
        )
        for c in office.counters
    ]


async def _lead_times(session: AsyncSession, office: OfficeRules, period: Period) -> tuple[schemas.Share, float | None]:
    rows = await session.execute(
        select(Booking.created_at, Booking.start_at).where(
            Booking.office_id == office.id,
            Booking.created_at >= period.start,
            Booking.created_at < period.end,
            Booking.status.not_in(HOLDS),
        )
    )
    leads = [start - created for created, start in rows]
    within = share(sum(1 for lead in leads if lead <= WITHIN), len(leads))
    return within, median([round(lead / timedelta(days=1), 2) for lead in leads])


async def _next_free(
    office: OfficeRules,
    services: Mapping[int, ServiceRule],
    booking_ctx: bookings.BookingContext,
    read_sessions: async_sessionmaker[AsyncSession],
    now: datetime,
) -> list[schemas.NextFree]:
    """Days from today to the first free slot of each service the office offers online (as of now)."""
    offered = sorted(
        (s for s in services.values() if s.bookable_online and office.able_counters([s.id], online=True)),
        key=lambda s: s.slug,
    )
    today = office.local_day(now)
    answer = []
    for s in offered:
        slot = await bookings.next_free_slot(
            read_sessions,
            catalog=booking_ctx.catalog,
            cache=booking_ctx.cache,
            office=office,
            service_slugs=[s.slug],
            now=now,
            days=office.horizon.days,
        )
        days = None if slot is None else (office.local_day(slot.start) - today).days
        answer.append(schemas.NextFree(service=s.slug, name_de=s.name.get("de"), name_en=s.name.get("en"), days=days))
    return answer


async def _cancellations(session: AsyncSession, office: OfficeRules, period: Period) -> schemas.Cancellations:
    cancelled_at = (
        select(BookingEvent.booking_id, func.max(BookingEvent.at).label("at"))
        .where(BookingEvent.to_status == "cancelled")
        .group_by(BookingEvent.booking_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Booking.cancel_reason, Booking.start_at, cancelled_at.c.at)
            .outerjoin(cancelled_at, cancelled_at.c.booking_id == Booking.id)
            .where(
                Booking.office_id == office.id,
                Booking.status == "cancelled",
                Booking.start_at >= period.start,
                Booking.start_at < period.end,
            )
        )
    ).all()
    reasons = Counter(reason or "unknown" for reason, _start, _at in rows)
    notices = [start - at for _reason, start, at in rows if at is not None]
    buckets = Counter(next(key for key, limit in NOTICE_BUCKETS if notice < limit) for notice in notices)
    return schemas.Cancellations(
        total=len(rows),
        by_reason=dict(sorted(reasons.items())),
        by_notice=[schemas.NoticeBucket(key=key, count=buckets[key]) for key, _limit in NOTICE_BUCKETS],
        median_notice_hours=median([round(n / timedelta(hours=1), 2) for n in notices]),
    )


async def _messages(session: AsyncSession, office: OfficeRules, period: Period) -> list[schemas.ChannelMessages]:
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count())
        .where(
            OutboxMessage.office_id == office.id,
            OutboxMessage.due_at >= period.start,
            OutboxMessage.due_at < period.end,
        )
        .group_by(OutboxMessage.channel, OutboxMessage.status)
    )
    counts: dict[str, Counter[str]] = {"email": Counter(), "sms": Counter()}
    for channel, status, count in rows:
        group = "sent" if status in SENT else "failed" if status in FAILED else "other"
        counts.setdefault(channel, Counter())[group] += count
    return [
        schemas.ChannelMessages(channel=channel, sent=c["sent"], failed=c["failed"], other=c["other"])
        for channel, c in counts.items()
    ]
