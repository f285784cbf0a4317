"""The waiting room of one office and day as read from the database: positions, wait estimates, the board."""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking import service as bookings
from rathaus.offices.rules import ON_SITE, CounterRule, OfficeRules, ServiceRule, day_bounds
from rathaus.queue.models import Ticket, TicketService, label_of
from rathaus.queue.ordering import CounterState, QueueItem, order_key, simulate

# A counter counts as staffed when it has called someone this recently (or none has: then all do).
STAFFED_WINDOW = timedelta(minutes=60)
# Measured service times replace the configured duration once a service has this many of the day.
MIN_SAMPLES = 3
# How far ahead the board looks for the next opening while the office is closed.
OPENING_LOOK_AHEAD_DAYS = 31
# Sorts after every real ticket that arrived at the same instant (tickets: ids; expected bookings: -ids).
_HYPOTHETICAL = 2**62


@dataclass(frozen=True, slots=True)
class Estimate:
    position: int | None
    wait_minutes: int | None


class Durations:
    """Expected service times: today's measured mean per service, else the configured duration.

    Where a service has no samples yet, the office's pace today (measured / configured over all finished
    tickets) scales its configured duration.
    """

    def __init__(self, tickets: list[TicketRow], services: Mapping[int, ServiceRule]) -> None:
        self._configured = {sid: s.duration for sid, s in services.items()}
        samples: dict[int, list[timedelta]] = defaultdict(list)
        actual_total = configured_total = timedelta()
        finished = 0
        for t in tickets:
            if t.status != "completed" or t.called_at is None or t.finished_at is None:
                continue
            took = t.finished_at - t.called_at
            ids = t.service_ids
            if len(ids) == 1:
                samples[ids[0]].append(took)
            actual_total += took
            configured_total += sum((self._configured.get(i, timedelta()) for i in ids), timedelta())
            finished += 1
        self._measured = {sid: sum(v, timedelta()) / len(v) for sid, v in samples.items() if len(v) >= MIN_SAMPLES}
        self._pace = actual_total / configured_total if finished >= MIN_SAMPLES and configured_total else 1.0
        self._memo: dict[tuple[int, ...], timedelta] = {}

    def of(self, service_ids: Iterable[int]) -> timedelta:
        """Expected time at the counter for these services together."""
        key = tuple(service_ids)
        total = self._memo.get(key)
        if total is None:
            total = timedelta()
            for sid in key:
                measured = self._measured.get(sid)
                total += measured if measured is not None else self._configured.get(sid, timedelta()) * self._pace
            self._memo[key] = total
        return total


@dataclass
class QueueState:
    office: OfficeRules
    now: datetime
    tickets: list[TicketRow]  # open: waiting or called
    waiting: list[TicketRow]  # in the order they will probably be called
    called: list[TicketRow]  # most recent call first
    estimates: dict[int, Estimate]
    durations: Durations
    items: list[QueueItem]
    counters: list[CounterState]
    counts: dict[str, int]  # today's tickets by status
    walk_in_start: datetime | None  # when a walk-in for no particular service, arriving now, would be called

    def start_for_new(self, services: list[ServiceRule]) -> datetime | None:
        """When a walk-in for these services, arriving now, would probably be called (None: nobody serves it)."""
        ids = frozenset(s.id for s in services)
        item = QueueItem(_HYPOTHETICAL, "walk_in", "walk_in", ids, self.now, None, self.durations.of(ids))
        return simulate([*self.items, item], self.counters, self.now).get(_HYPOTHETICAL)

    @property
    def open_now(self) -> bool:
        """Whether the office is open at this instant (closures cut out)."""
        intervals = self.office.open_after_closures(self.office.local_day(self.now))
        return any(start <= self.now < end for start, end in intervals)

    def opens_next(self) -> datetime | None:
        """When the office next opens after now (closures cut out), within a month; None while it is open."""
        if self.open_now:
            return None
        today = self.office.local_day(self.now)
        for offset in range(OPENING_LOOK_AHEAD_DAYS):
            for start, _end in self.office.open_after_closures(today + timedelta(days=offset)):
                if start > self.now:
                    return start
        return None

    def walk_in_wait_minutes(self) -> int | None:
        """The wait a walk-in arriving now should expect, for the board (None while the office is closed)."""
        start = self.walk_in_start if self.open_now else None
        return None if start is None else minutes_until(start, self.now)


def minutes_until(instant: datetime, now: datetime) -> int:
    return max(0, math.ceil((instant - now) / timedelta(minutes=1)))


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket as the waiting room is computed from: plain values, read without the ORM (it is read often)."""

    id: int
    public_id: str
    office_id: int
    prefix: str
    number: int
    kind: str
    lane: str
    status: str
    due_at: datetime | None
    arrived_at: datetime
    queued_at: datetime
    target_counter_id: int | None
    counter_id: int | None
    called_at: datetime | None
    finished_at: datetime | None
    recalls: int
    note: str
    sms_pending: bool  # a number was left for the "your turn is near" SMS, not sent yet
    service_ids: tuple[int, ...]

    @property
    def label(self) -> str:
        return label_of(self.prefix, self.number)

    @classmethod
    def of(cls, t: Ticket) -> TicketRow:
        values = {name: getattr(t, name) for name in _COLUMNS if name != "sms_pending"}
        sms_pending = t.phone is not None and not t.turn_near_sent
        return cls(**values, sms_pending=sms_pending, service_ids=tuple(t.service_ids))


_COLUMNS = [f.name for f in fields(TicketRow) if f.name != "service_ids"]
ROW_COLUMNS = [
    (Ticket.phone.is_not(None) & Ticket.turn_near_sent.is_(False)).label(name)
    if name == "sms_pending"
    else getattr(Ticket, name)
    for name in _COLUMNS
]


async def ticket_rows(
    session: AsyncSession, *, office: OfficeRules, now: datetime, statuses: tuple[str, ...]
) -> list[TicketRow]:
    """The tickets of the office's current local day in these statuses, in one query (a row per service)."""
    rows = await session.execute(_rows_query(statuses), {"office": office.id, "day": office.local_day(now)})
    make: Any = TicketRow  # positional: the columns come in field order
    tickets: list[TicketRow] = []
    values: tuple[Any, ...] = ()
    services: list[int] = []
    for *columns, service_id in rows:
        if values and columns[0] != values[0]:
            tickets.append(make(*values, tuple(services)))
            services = []
        values = tuple(columns)
        if service_id is not None:
            services.append(service_id)
    if values:
        tickets.append(make(*values, tuple(services)))
    return tickets


# The waiting room is read after every burst of changes: its statements are built once, with the office and day as
# parameters (building a statement and its cache key costs about as much as running it on SQLite).
_OFFICE = bindparam("office", type_=Integer)
_DAY = bindparam("day", type_=Date)


@functools.lru_cache(maxsize=8)
def _rows_query(statuses: tuple[str, ...]) -> Select[Any]:
    return (
        select(*ROW_COLUMNS, TicketService.service_id)
        .outerjoin(TicketService, TicketService.ticket_id == Ticket.id)
        .where(Ticket.office_id == _OFFICE, Ticket.day == _DAY, Ticket.status.in_(statuses))
        .order_by(Ticket.id, TicketService.position)
    )


# Today's tickets per status and counter, with the counter's latest call: the day's counts and which counters
# called lately, in one statement.
_COUNTS = (
    select(Ticket.status, Ticket.counter_id, func.count(), func.max(Ticket.called_at))
    .where(Ticket.office_id == _OFFICE, Ticket.day == _DAY)
    .group_by(Ticket.status, Ticket.counter_id)
)


def item_of(ticket: TicketRow, durations: Durations | None) -> QueueItem:
    """A waiting ticket as the call order sees it (with its expected service time if `durations` are given)."""
    ids = frozenset(ticket.service_ids)
    return QueueItem(
        key=ticket.id,
        lane=ticket.lane,
        kind=ticket.kind,
        services=ids,
        queued_at=ticket.queued_at,
        due_at=ticket.due_at,
        expected=durations.of(ids) if durations is not None else timedelta(),
        target_counter=ticket.target_counter_id,
    )


class DurationsCache:
    """Measured service times per office and day, recomputed when enough tickets have been completed since.

    The waiting room is read after every change; the day's finished tickets barely move the means, so they
    are read again only after five more completions (or a tenth more), not on every read.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, date], tuple[int, Durations]] = {}

    async def get(
        self,
        session: AsyncSession,
        *,
        office: OfficeRules,
        services: Mapping[int, ServiceRule],
        completed: int,
        now: datetime,
    ) -> Durations:
        key = (office.id, office.local_day(now))
        entry = self._entries.get(key)
        if entry is not None and entry[0] <= completed < entry[0] + max(5, entry[0] // 10):
            return entry[1]
        finished = await ticket_rows(session, office=office, now=now, statuses=("completed",))
        durations = Durations(finished, services)
        self._entries = {k: v for k, v in self._entries.items() if k[1] == key[1]}  # forget earlier days
        self._entries[key] = (completed, durations)
        return durations


async def load_state(
    session: AsyncSession,
    *,
    office: OfficeRules,
    services: Mapping[int, ServiceRule],
    durations_cache: DurationsCache,
    now: datetime,
) -> QueueState:
    """The office's open tickets of today with positions and estimates from the measured service times."""
    day = office.local_day(now)
    counts: dict[str, int] = defaultdict(int)
    recent: set[int] = set()
    for status, counter_id, number, latest_call in await session.execute(_COUNTS, {"office": office.id, "day": day}):
        counts[status] += number
        if counter_id is not None and latest_call is not None and latest_call >= now - STAFFED_WINDOW:
            recent.add(counter_id)
    tickets = await ticket_rows(session, office=office, now=now, statuses=("waiting", "called"))
    durations = await durations_cache.get(
        session, office=office, services=services, completed=counts.get("completed", 0), now=now
    )
    waiting = [t for t in tickets if t.status == "waiting"]
    # The latest call first (the id breaks ties: called in the same instant, the later ticket is newer).
    called = sorted(
        (t for t in tickets if t.status == "called"), key=lambda t: (t.called_at or now, t.id), reverse=True
    )
    _, day_end = day_bounds(day, office.tz)
    expected = await bookings.expected_arrivals(
        session, office_id=office.id, since=now - office.check_in_grace, until=day_end
    )
    present = {t.id: item_of(t, durations) for t in waiting}
    items = [*present.values()] + [
        QueueItem(
            key=-booking_id,
            lane="appointment",
            kind="appointment",
            services=frozenset(service_ids),
            queued_at=start,
            due_at=start,
            expected=durations.of(service_ids),
            present=False,
        )
        for booking_id, start, service_ids in expected
    ]
    counters = staffed_counters(office, called, recent, durations, now)
    # The board's wait for a walk-in (`start_for_new([])`) from the same simulation: a newcomer for no service takes
    # no time at a counter, so it moves nobody else's start (tests/queue/test_ordering.py).
    newcomer = QueueItem(_HYPOTHETICAL, "walk_in", "walk_in", frozenset(), now, None, timedelta())
    starts = simulate([*items, newcomer], counters, now)
    far = now + timedelta(days=1)
    ordered = sorted(waiting, key=lambda t: (starts.get(t.id, far), order_key(present[t.id], now)))
    estimates = {
        t.id: Estimate(
            position=index + 1,
            wait_minutes=minutes_until(starts[t.id], now) if t.id in starts else None,
        )
        for index, t in enumerate(ordered)
    }
    return QueueState(
        office,
        now,
        tickets,
        ordered,
        called,
        estimates,
        durations,
        items,
        counters,
        dict(counts),
        starts.get(_HYPOTHETICAL),
    )


def staffed_counters(
    office: OfficeRules, called: list[TicketRow], recent: set[int], durations: Durations, now: datetime
) -> list[CounterState]:
    """Counters taken to be working (calling now or lately; if none is, all), each free when its current
    ticket should be done. Only counters that see people at the office: a caseworker who only phones or meets
    by video never calls anyone from the waiting room."""
    busy_until = {
        t.counter_id: t.called_at + durations.of(t.service_ids)
        for t in called
        if t.counter_id is not None and t.called_at is not None
    }
    on_site = [c for c in office.counters if calls_from_waiting_room(c)]
    counters = [c for c in on_site if c.id in recent or c.id in busy_until] or on_site
    return [CounterState(c.id, c.services, c.walk_in_only, max(now, busy_until.get(c.id, now))) for c in counters]


def calls_from_waiting_room(counter: CounterRule) -> bool:
    """Whether the counter sees people at the office; one that only phones or meets by video calls nobody in."""
    return counter.modes >= ON_SITE
