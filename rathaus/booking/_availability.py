"""Free slots of an office and day, from the cached rules and the claims in the database."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus import i18n
from rathaus.booking.availability import DaySlots, Slot, free_slots
from rathaus.booking.models import SlotClaim
from rathaus.db import after_commit
from rathaus.errors import RathausError
from rathaus.freshness import Age, SingleFlight, age_of
from rathaus.offices.catalog import Catalog, CatalogSnapshot, office_of, resolve_services
from rathaus.offices.rules import MODE_PHRASES, MODES, OfficeRules, ServiceRule

_MAX_ENTRIES = 20_000
log = logging.getLogger("rathaus.booking.availability")


@dataclass(frozen=True, slots=True)
class _Entry:
    generation: tuple[int, int]
    as_of: datetime  # the claims it shows were read at or after this instant
    slots: DaySlots


Key = tuple[int, date, tuple[int, ...], str]  # office, day, services, mode
Compute = Callable[[AsyncSession], Awaitable[DaySlots]]


class AvailabilityCache:
    """Computed day slots per (office, day, services), never older than the catalog's `ttl` seconds.

    A change committed on this instance drops the office's days at once. Changes made on other instances
    show within `ttl`: an entry past half of it is still served while one background task per key recomputes
    it; an entry past `ttl` is never served, the reader recomputes it (one reader per key, the others wait for
    its answer). Entries computed from office rules the catalog no longer holds are not kept.
    """

    def __init__(self, catalog: Catalog, sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.catalog = catalog
        self._sessions = sessions
        self._entries: dict[Key, _Entry] = {}
        self._office_generation: dict[int, int] = defaultdict(int)
        self._refreshing: dict[Key, asyncio.Task[None]] = {}
        self._computing: SingleFlight[Key, DaySlots] = SingleFlight()

    def invalidate_office(self, office_id: int) -> None:
        """Forget every cached day of one office."""
        self._office_generation[office_id] += 1

    def invalidate_after_commit(self, session: AsyncSession, office_id: int) -> None:
        """Forget the office's days once `session` commits."""
        after_commit(session, lambda: self.invalidate_office(office_id))

    def generation_of(self, office_id: int) -> tuple[int, int]:
        """Changes so far to the catalog and to this office's claims (what is derived from a day's slots may be
        kept under it; an entry also expires after `ttl`, so keep it no longer than that either)."""
        return (self.catalog.generation, self._office_generation[office_id])

    def get(self, key: Key, *, now: datetime) -> _Entry | None:
        """The entry if no change committed here since it was computed and it is at most `ttl` old."""
        entry = self._entries.get(key)
        if entry is None or entry.generation != self.generation_of(key[0]):
            return None
        if age_of(entry.as_of, now=now, ttl=self.catalog.ttl) is Age.STALE:
            return None
        return entry

    def put(
        self, key: Key, generation: tuple[int, int], slots: DaySlots, *, as_of: datetime, office: OfficeRules
    ) -> None:
        """Remember slots computed from `office`'s rules under `generation` with claims read at `as_of` (ignored
        if a change committed meanwhile)."""
        if generation != self.generation_of(key[0]) or not self.catalog.is_current(office):
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = _Entry(generation, as_of, slots)

    def peek(self, key: Key, compute: Compute, *, now: datetime) -> DaySlots | None:
        """Cached slots for `key` (one due for recomputation is recomputed behind the scenes), or None."""
        entry = self.get(key, now=now)
        if entry is None:
            return None
        if age_of(entry.as_of, now=now, ttl=self.catalog.ttl) is Age.DUE:
            self.refresh_in_background(key, compute)
        return entry.slots

    async def compute(self, key: Key, compute: Compute, session: AsyncSession) -> DaySlots:
        """Slots for `key` computed with `session`, or by the reader already computing them."""
        return await self._computing.run(key, lambda: compute(session))

    async def drain(self) -> None:
        """Stop the background recomputations (before the database connections close)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def refresh_in_background(self, key: Key, compute: Compute) -> None:
        """Recompute `key` in a session of its own, once at a time."""
        running = self._refreshing.get(key)
        if self._sessions is None or (running is not None and not running.done()) or self._computing.running(key):
            return
        sessions = self._sessions

        async def refresh() -> None:
            try:
                async with sessions() as session:
                    await self.compute(key, compute, session)
            except Exception as error:  # the entry stays until `ttl`; then a reader recomputes it
                log.warning("availability refresh failed: %s", type(error).__name__)
            finally:
                self._refreshing.pop(key, None)

        self._refreshing[key] = asyncio.get_running_loop().create_task(refresh())


def appointment_length(services: list[ServiceRule]) -> timedelta:
    """An appointment lasts as long as its services together."""
    return sum((s.duration for s in services), timedelta())


def check_online(services: list[ServiceRule]) -> None:
    """Refuse services that cannot be booked online."""
    for s in services:
        if not s.bookable_online:
            raise RathausError("not_bookable_online", service=s.name)


def check_mode(office: OfficeRules, services: list[ServiceRule], mode: str, *, video: bool) -> None:
    """Refuse a mode the services or the office's counters do not offer; video needs a meeting provider."""
    if mode not in MODES:
        raise RathausError("invalid_input", reason="mode")
    if mode in offered_modes(office, services, video=video):
        return
    if not office.modes_for(services):
        raise RathausError("no_counter_for_services")
    raise RathausError("mode_not_offered", mode=i18n.Text(MODE_PHRASES[mode]))


def offered_modes(office: OfficeRules, services: list[ServiceRule], *, video: bool) -> list[str]:
    """The modes the citizen may choose for these services here (video only when meetings are configured)."""
    return [mode for mode in office.modes_for(services) if video or mode != "video"]


async def busy_cells(
    session: AsyncSession, *, counters: list[int], start: datetime, end: datetime, now: datetime
) -> dict[int, set[datetime]]:
    """Cells in [start, end) that bookings (and unexpired holds) occupy, per counter."""
    rows = await session.execute(
        select(SlotClaim.counter_id, SlotClaim.cell_start).where(
            SlotClaim.counter_id.in_(counters),
            SlotClaim.cell_start >= start,
            SlotClaim.cell_start < end,
            or_(SlotClaim.expires_at.is_(None), SlotClaim.expires_at > now),
        )
    )
    busy: dict[int, set[datetime]] = defaultdict(set)
    for counter_id, cell in rows:
        busy[counter_id].add(cell)
    return busy


def _computer(
    cache: AvailabilityCache, key: Key, office: OfficeRules, services: list[ServiceRule], day: date, now: datetime
) -> Compute:
    async def compute(session: AsyncSession) -> DaySlots:
        return await _compute(session, cache=cache, key=key, office=office, services=services, day=day, now=now)

    return compute


async def day_slots(
    session: AsyncSession,
    *,
    cache: AvailabilityCache,
    office: OfficeRules,
    services: list[ServiceRule],
    day: date,
    now: datetime,
    mode: str = "on_site",
) -> DaySlots:
    """All free slots of a local day for these services and mode, before the booking window is applied."""
    key = (office.id, day, tuple(s.id for s in services), mode)
    compute = _computer(cache, key, office, services, day, now)
    slots = cache.peek(key, compute, now=now)
    return slots if slots is not None else await cache.compute(key, compute, session)


async def _compute(
    session: AsyncSession,
    *,
    cache: AvailabilityCache,
    key: Key,
    office: OfficeRules,
    services: list[ServiceRule],
    day: date,
    now: datetime,
) -> DaySlots:
    mode = key[3]
    generation = cache.generation_of(office.id)
    slots = await uncached_day_slots(session, office=office, services=services, day=day, now=now, mode=mode)
    cache.put(key, generation, slots, as_of=now, office=office)
    return slots


async def uncached_day_slots(
    session: AsyncSession,
    *,
    office: OfficeRules,
    services: list[ServiceRule],
    day: date,
    now: datetime,
    mode: str = "on_site",
) -> DaySlots:
    """All free slots of a local day, from the claims as `session` sees them (its own uncommitted ones too)."""
    counters = [c.id for c in office.able_counters((s.id for s in services), online=True, mode=mode)]
    intervals = office.open_intervals(day)
    found: list[Slot] = []
    if counters and intervals:
        length = appointment_length(services)
        claim_span = length + office.buffer
        busy = await busy_cells(
            session, counters=counters, start=intervals[0][0], end=intervals[-1][1] + claim_span, now=now
        )
        found = free_slots(
            open_intervals=intervals,
            closures=office.closures_between(intervals[0][0], intervals[-1][1]),
            step=office.slot,
            length=length,
            claim_span=claim_span,
            counters=counters,
            busy=busy,
        )
    # Kept in the office's zone (the same instants), so that answering needs no conversion.
    return DaySlots.of([Slot(s.start.astimezone(office.tz), s.end.astimezone(office.tz), s.counters) for s in found])


def _chosen(
    snapshot: CatalogSnapshot, office_slug: str, service_slugs: list[str], mode: str, video: bool
) -> tuple[OfficeRules, list[ServiceRule]]:
    office = office_of(snapshot, office_slug)
    services = resolve_services(snapshot, service_slugs)
    check_online(services)
    check_mode(office, services, mode, video=video)
    return office, services


@dataclass(frozen=True, slots=True)
class DayAvailability:
    """The bookable slots of one office, day and choice of services: `slots.slots[low:high]`."""

    office: OfficeRules
    services: list[ServiceRule]
    day: date
    slots: DaySlots
    low: int
    high: int
    mode: str = "on_site"

    @property
    def bookable(self) -> tuple[Slot, ...]:
        """The slots inside the booking window."""
        return self.slots.slots[self.low : self.high]


async def availability(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    cache: AvailabilityCache,
    office_slug: str,
    service_slugs: list[str],
    day: date,
    now: datetime,
    mode: str = "on_site",
    video: bool = False,
) -> DayAvailability:
    """Bookable slots of one office and day for the chosen services and mode, inside the booking window
    (`video`: whether video meetings are configured).

    The hot path: when rules and slots are cached it answers without opening a database session.
    """
    snapshot = catalog.peek(now=now)
    if snapshot is not None:
        office, services = _chosen(snapshot, office_slug, service_slugs, mode, video)
        key = (office.id, day, tuple(s.id for s in services), mode)
        slots = cache.peek(key, _computer(cache, key, office, services, day, now), now=now)
        if slots is not None:
            return _bookable(office, services, day, slots, now, mode)
    async with sessions() as session:
        snapshot = await catalog.get(session, now=now)
        office, services = _chosen(snapshot, office_slug, service_slugs, mode, video)
        if not _in_window(office, day, now):
            # Nothing bookable that day; no work.
            return _bookable(office, services, day, DaySlots.of([]), now, mode)
        slots = await day_slots(session, cache=cache, office=office, services=services, day=day, now=now, mode=mode)
        return _bookable(office, services, day, slots, now, mode)


def unchanged(found: DayAvailability, *, catalog: Catalog, cache: AvailabilityCache, now: datetime) -> bool:
    """Whether `availability` would answer `found` again at `now`: the same office rules and cached slots, and a
    booking window that lets the same slots through. Looks only into memory (what is not there counts as changed)."""
    snapshot = catalog.peek(now=now)
    office, services, day = found.office, found.services, found.day
    if snapshot is None or snapshot.offices.get(office.slug) is not office:
        return False
    key = (office.id, day, tuple(s.id for s in services), found.mode)
    if cache.peek(key, _computer(cache, key, office, services, day, now), now=now) is not found.slots:
        return False
    again = _bookable(office, services, day, found.slots, now, found.mode)
    return again.slots is found.slots and again.low == found.low and again.high == found.high


def _in_window(office: OfficeRules, day: date, now: datetime) -> bool:
    return office.local_day(now) <= day <= office.local_day(office.booking_window(now)[1])


def _bookable(
    office: OfficeRules, services: list[ServiceRule], day: date, slots: DaySlots, now: datetime, mode: str
) -> DayAvailability:
    if not _in_window(office, day, now):
        slots = DaySlots.of([])  # its own object: encoded answers are kept per DaySlots
    low, high = slots.window(*office.booking_window(now))
    return DayAvailability(office, services, day, slots, low, high, mode)


async def first_free_day(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    cache: AvailabilityCache,
    office: OfficeRules,
    service_slugs: list[str],
    now: datetime,
    since: date | None = None,
    days: int | None = None,
    mode: str = "on_site",
    video: bool = False,
) -> DayAvailability | None:
    """The first day from `since` (at the earliest the first bookable day) with a free slot, or None.

    Goes day by day (each day cached) and stops at the first day with a slot, at the horizon, or `days` days on:
    most offices have one within a few days.
    """
    earliest = office.local_day(now + office.lead)
    day = max(since or earliest, earliest)
    last = office.local_day(office.booking_window(now)[1])
    if days is not None:
        last = min(last, day + timedelta(days=days))
    while day <= last:
        found = await availability(
            sessions,
            catalog=catalog,
            cache=cache,
            office_slug=office.slug,
            service_slugs=service_slugs,
            day=day,
            now=now,
            mode=mode,
            video=video,
        )
        if found.bookable:
            return found
        day += timedelta(days=1)
    return None


async def next_free_slot(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    cache: AvailabilityCache,
    office: OfficeRules,
    service_slugs: list[str],
    now: datetime,
    days: int = 31,
) -> Slot | None:
    """The earliest bookable slot within the next `days` days (at most the horizon), or None."""
    found = await first_free_day(
        sessions, catalog=catalog, cache=cache, office=office, service_slugs=service_slugs, now=now, days=days
    )
    return found.bookable[0] if found else None


async def bookable_slots(
    sessions: async_sessionmaker[AsyncSession],
    *,
    cache: AvailabilityCache,
    office: OfficeRules,
    services: list[ServiceRule],
    days: list[date],
    now: datetime,
    mode: str = "on_site",
) -> dict[date, tuple[Slot, ...]]:
    """The bookable slots of each day: cached days without the database, the others in one session."""
    check_online(services)
    found: dict[date, DaySlots] = {}
    missing = []
    for day in days:
        key = (office.id, day, tuple(s.id for s in services), mode)
        slots = cache.peek(key, _computer(cache, key, office, services, day, now), now=now)
        if not _in_window(office, day, now):
            found[day] = DaySlots.of([])
        elif slots is None:
            missing.append(day)
        else:
            found[day] = slots
    if missing:
        async with sessions() as session:
            for day in missing:
                found[day] = await day_slots(
                    session, cache=cache, office=office, services=services, day=day, now=now, mode=mode
                )
    return {day: _bookable(office, services, day, found[day], now, mode).bookable for day in days}
