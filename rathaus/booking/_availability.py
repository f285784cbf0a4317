"""Free slots of an office and day, from the cached rules and the claims in the database."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus import i18n
from rathaus.booking._day_claims import CellChange, ChangeLog, DayClaims, day_range, spread, take_changes
from rathaus.booking.availability import DaySlots, Slot, free_slots
from rathaus.booking.models import SlotClaim
from rathaus.db import after_commit
from rathaus.errors import RathausError
from rathaus.freshness import Age, HomeLoop, SingleFlight, age_of
from rathaus.offices.catalog import Catalog, CatalogSnapshot, office_of, resolve_services
from rathaus.offices.rules import MODE_PHRASES, MODES, OfficeRules, ServiceRule, day_bounds

_MAX_DAYS = 100_000  # a city of 300 offices with 90-day windows warms 27,000 days
log = logging.getLogger("rathaus.booking.availability")
# Bounds beyond any instant a booking window reaches.
_DAWN, _DUSK = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)

Key = tuple[int, date, tuple[int, ...], str]  # office, day, services, mode
DayKey = tuple[int, date]  # office, day
Sessions = async_sessionmaker[AsyncSession]


class AvailabilityCache:
    """Every office's claims per day, read once and kept in memory, and the free slots derived from them per
    (office, day, services, mode): never older than the catalog's `ttl` seconds.

    A claim or release committed on this instance moves the cached day by its cells at once (see _day_claims);
    a change that does not report its cells drops the office's days. Changes made on other instances show
    within `ttl`: a day past half of it is still served while one background task reads it again; a day past
    `ttl` is never served, the first reader reads it again and the others wait for its answer without holding
    a database connection. Days read under office rules the catalog no longer holds are not kept.
    """

    def __init__(self, catalog: Catalog, sessions: Sessions | None = None) -> None:
        self.catalog = catalog
        self._sessions = sessions
        self._days: dict[DayKey, DayClaims] = {}
        self._slots: dict[Key, tuple[Mapping[int, frozenset[datetime]], DaySlots]] = {}
        self._logs: dict[int, ChangeLog] = defaultdict(ChangeLog)
        self._refreshing: dict[DayKey, asyncio.Task[None]] = {}
        self.home = HomeLoop()
        self._reading: SingleFlight[tuple[DayKey, tuple[int, int]], DayClaims] = SingleFlight()
        self.reads = 0  # database reads of claims so far (the tests count them; timing them would be flaky)

    def invalidate_office(self, office_id: int) -> None:
        """Forget every cached day of one office."""
        self._logs[office_id].generation += 1

    def invalidate_after_commit(self, session: AsyncSession, office_id: int) -> None:
        """Bring the office's cached days up to date once `session` commits: by the cells the transaction
        reported (`note_claimed`, `note_freed`), or, if it reported none, by forgetting them."""
        after_commit(session, lambda: self._committed(office_id, take_changes(session, office_id)))

    def _committed(self, office_id: int, changes: list[CellChange] | None) -> None:
        if changes is None:
            self.invalidate_office(office_id)
        else:
            self._logs[office_id].record(changes)

    def generation_of(self, office_id: int) -> tuple[int, int]:
        """Changes so far to the catalog and, not known cell by cell, to this office's claims."""
        return (self.catalog.generation, self._logs[office_id].generation)

    def claims(self, office: OfficeRules, day: date, *, now: datetime) -> DayClaims | None:
        """The office's claims around `day` from memory, or None; one due for a check is read again behind the
        scenes."""
        key = (office.id, day)
        entry = self._days.get(key)
        if entry is None or entry.generation != self.generation_of(office.id) or self.catalog.ttl <= 0:
            return None  # a `ttl` of 0 keeps nothing, even while a test's clock stands still
        age = age_of(entry.as_of, now=now, ttl=self.catalog.ttl)
        if age is Age.STALE:
            return None
        moved = self._caught_up(office.id, entry)
        if moved is None:
            return None
        if moved is not entry:
            self._days[key] = moved
        if age is Age.DUE:
            self._refresh_in_background(office, day, now)
        return moved

    def _caught_up(self, office_id: int, entry: DayClaims) -> DayClaims | None:
        """The entry moved by the changes committed here since it was read, or None if they are no longer known."""
        log = self._logs[office_id]
        if entry.seq == log.seq:
            return entry
        changes = log.since(entry.seq)
        return None if changes is None else entry.moved(changes, log.seq)

    def slots(
        self, office: OfficeRules, services: list[ServiceRule], day: date, mode: str, claims: DayClaims
    ) -> DaySlots:
        """The free slots these claims leave for the services and mode (derived once per state of the day)."""
        key = (office.id, day, tuple(s.id for s in services), mode)
        known = self._slots.get(key)
        if known is not None and known[0] is claims.busy:
            return known[1]
        slots = derived_slots(office, services, day, mode, claims.busy)
        if len(self._slots) >= _MAX_DAYS:
            self._slots.clear()  # derived again from the cached claims when asked
        self._slots[key] = (claims.busy, slots)
        return slots

    def peek(
        self, office: OfficeRules, services: list[ServiceRule], day: date, mode: str, *, now: datetime
    ) -> DaySlots | None:
        """Cached slots (without the database), or None."""
        claims = self.claims(office, day, now=now)
        return None if claims is None else self.slots(office, services, day, mode, claims)

    async def day_slots(
        self,
        sessions: Sessions,
        office: OfficeRules,
        services: list[ServiceRule],
        day: date,
        mode: str,
        *,
        now: datetime,
    ) -> DaySlots:
        """The day's free slots, its claims read once for all readers asking meanwhile (in a session of the
        reader that reads them: the ones waiting hold none, so they can never starve it of a connection)."""
        claims = self.claims(office, day, now=now)
        if claims is None:
            flight = ((office.id, day), self.generation_of(office.id))
            claims = await self._reading.run(flight, lambda: self._read_one(sessions, office, day, now))
        return self.slots(office, services, day, mode, claims)

    async def _read_one(self, sessions: Sessions, office: OfficeRules, day: date, now: datetime) -> DayClaims:
        return (await self.read(sessions, office, [day], now=now))[day]

    async def read(
        self, sessions: Sessions, office: OfficeRules, days: list[date], *, now: datetime
    ) -> dict[date, DayClaims]:
        """Read the office's claims of `days` in one statement and keep them (unless a change that voids them
        committed meanwhile); changes this instance committed meanwhile are applied on top."""
        generation, seq = self.generation_of(office.id), self._logs[office.id].seq
        ranges = {day: span for day in days if (span := day_range(office, day)) is not None}
        rows: list[tuple[int, datetime]] = []
        if ranges:
            async with sessions() as session:
                rows = await claimed_cells(
                    session,
                    counters=[c.id for c in office.counters],
                    start=min(start for start, _ in ranges.values()),
                    end=max(end for _, end in ranges.values()),
                    now=now,
                )
            self.reads += 1
        found = spread(rows, office, ranges)
        result = {}
        for day in days:
            start, end = ranges.get(day, (now, now))
            busy = {counter: frozenset(cells) for counter, cells in found.get(day, {}).items()}
            read = DayClaims(start, end, busy, now, generation, seq)
            moved = self._caught_up(office.id, read)
            if moved is not None:
                moved = self._keep((office.id, day), moved, office)
            result[day] = moved or read
        return result

    def _keep(self, key: DayKey, entry: DayClaims, office: OfficeRules) -> DayClaims:
        """Keep `entry` if it is current; with the busy cells held so far if it found them as they were, so that
        what was derived from them (slots, encoded and kept answers) stays valid after a read behind the scenes."""
        if entry.generation != self.generation_of(key[0]) or entry.seq != self._logs[key[0]].seq:
            return entry
        held = self._days.get(key)
        if held is not None and held.generation == entry.generation and held.busy == entry.busy:
            entry = replace(entry, busy=held.busy)
        if not self.catalog.is_current(office):
            return entry
        if len(self._days) >= _MAX_DAYS:
            self._days.clear()
            self._slots.clear()
        self._days[key] = entry
        return entry

    async def warm(self, sessions: Sessions, *, clock: Callable[[], datetime]) -> None:
        """Read the catalog and every office's claims of its bookable days (one statement per office), so that a
        fresh instance answers its first readers from memory.

        Each office's days count from the time of their own read, and the catalog is checked again at the end (one
        tiny query): with the warm-up of a big installation taking longer than the cache's setting, days dated
        from its start would all be stale when the first readers come, and every one of those would run the
        handler while the first of them reads again.
        """
        async with sessions() as session:
            snapshot = await self.catalog.get(session, now=clock())
        for office in snapshot.offices.values():
            now = clock()
            first, last = (office.local_day(instant) for instant in office.booking_window(now))
            days = [first + timedelta(days=d) for d in range((last - first).days + 1)]
            await self.read(sessions, office, days, now=now)
        async with sessions() as session:
            await self.catalog.check(session, now=clock())

    async def drain(self) -> None:
        """Stop the background reads (before the database connections close)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _refresh_in_background(self, office: OfficeRules, day: date, now: datetime) -> None:
        """Read a day again in a session of its own, once at a time."""
        key = (office.id, day)
        running = self._refreshing.get(key)
        flight = (key, self.generation_of(office.id))
        if self._sessions is None or not self.home.here():
            return
        if (running is not None and not running.done()) or self._reading.running(flight):
            return
        sessions = self._sessions

        async def refresh() -> None:
            try:
                await self._reading.run(flight, lambda: self._read_one(sessions, office, day, now))
            except Exception as error:  # the day stays until `ttl`; then a reader reads it itself
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
    if (video or mode != "video") and office.takes(services, mode):  # the one mode asked, of `offered_modes`
        return
    if not office.modes_for(services):
        raise RathausError("no_counter_for_services")
    raise RathausError("mode_not_offered", mode=i18n.Text(MODE_PHRASES[mode]))


def offered_modes(office: OfficeRules, services: list[ServiceRule], *, video: bool) -> list[str]:
    """The modes the citizen may choose for these services here (video only when meetings are configured)."""
    return [mode for mode in office.modes_for(services) if video or mode != "video"]


async def claimed_cells(
    session: AsyncSession, *, counters: list[int], start: datetime, end: datetime, now: datetime
) -> list[tuple[int, datetime]]:
    """(counter, cell) of the cells in [start, end) that bookings (and unexpired holds) occupy."""
    rows = await session.execute(
        select(SlotClaim.counter_id, SlotClaim.cell_start).where(
            SlotClaim.counter_id.in_(counters),
            SlotClaim.cell_start >= start,
            SlotClaim.cell_start < end,
            or_(SlotClaim.expires_at.is_(None), SlotClaim.expires_at > now),
        )
    )
    return [(counter_id, cell) for counter_id, cell in rows.tuples()]


async def busy_cells(
    session: AsyncSession, *, counters: list[int], start: datetime, end: datetime, now: datetime
) -> dict[int, set[datetime]]:
    """Cells in [start, end) that bookings (and unexpired holds) occupy, per counter."""
    busy: dict[int, set[datetime]] = defaultdict(set)
    for counter_id, cell in await claimed_cells(session, counters=counters, start=start, end=end, now=now):
        busy[counter_id].add(cell)
    return busy


def derived_slots(
    office: OfficeRules,
    services: list[ServiceRule],
    day: date,
    mode: str,
    busy: Mapping[int, AbstractSet[datetime]],
) -> DaySlots:
    """All free slots of a local day for these services and mode that the busy cells leave."""
    counters = [c.id for c in office.able_counters((s.id for s in services), online=True, mode=mode)]
    intervals = office.open_intervals(day)
    found: list[Slot] = []
    if counters and intervals:
        length = appointment_length(services)
        found = free_slots(
            open_intervals=intervals,
            closures=office.closures_between(intervals[0][0], intervals[-1][1]),
            step=office.slot,
            length=length,
            claim_span=length + office.buffer,
            counters=counters,
            busy=busy,
        )
    # Kept in the office's zone (the same instants), so that answering needs no conversion.
    return DaySlots.of([Slot(s.start.astimezone(office.tz), s.end.astimezone(office.tz), s.counters) for s in found])


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
    busy: dict[int, set[datetime]] = {}
    if counters and intervals:
        end = intervals[-1][1] + appointment_length(services) + office.buffer
        busy = await busy_cells(session, counters=counters, start=intervals[0][0], end=end, now=now)
    return derived_slots(office, services, day, mode, busy)


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
    if snapshot is None:
        async with sessions() as session:
            snapshot = await catalog.get(session, now=now)
    office, services = _chosen(snapshot, office_slug, service_slugs, mode, video)
    slots = cache.peek(office, services, day, mode, now=now)
    if slots is None:
        if not _in_window(office, day, now):
            # Nothing bookable that day; no work.
            return _bookable(office, services, day, DaySlots.of([]), now, mode)
        slots = await cache.day_slots(sessions, office, services, day, mode, now=now)
    return _bookable(office, services, day, slots, now, mode)


def same_answer(
    found: DayAvailability, *, catalog: Catalog, cache: AvailabilityCache, now: datetime
) -> Callable[[datetime], bool]:
    """A check whether `availability` would answer `found` again at an instant (`found` was answered at `now`):
    the same office rules, the day's cached claims the very ones its slots were derived from, and a booking window
    that lets the same slots through. Looks only into memory (what is not there counts as changed).

    It runs for every answer served from memory, so the window is judged by bounds worked out once: both of its
    ends only move forward with the clock, so the instants at which it lets exactly these slots through of this
    day are those at which each end lies between the same two slot starts (and the day is neither past nor
    beyond the window's end).
    """
    office, day = found.office, found.day
    claims = cache.claims(office, day, now=now)
    if (
        claims is None
        or cache.slots(office, found.services, day, found.mode, claims) is not found.slots
        or not _in_window(office, day, now)
    ):
        return _never
    busy = claims.busy
    # In UTC like the clock's instants: comparing instants of two zones asks the office's zone for its offset.
    starts = [slot.start.astimezone(UTC) for slot in found.slots.slots]
    opens, closes = day_bounds(day, office.tz)
    # DaySlots.window: the earliest start lies in (the slot before the first, the first]; the latest in [the last,
    # the one after the last), and on or after the day's first instant (else the day is beyond the window).
    above = starts[found.low - 1] if found.low > 0 else _DAWN
    up_to = starts[found.low] if found.low < len(starts) else _DUSK
    from_ = max(starts[found.high - 1], opens) if found.high > 0 else opens
    below = starts[found.high] if found.high < len(starts) else _DUSK

    def still(at: datetime) -> bool:
        if at >= closes:
            return False  # the day is past
        earliest, latest = office.booking_window(at)
        if not (above < earliest <= up_to and from_ <= latest < below):
            return False
        snapshot = catalog.peek(now=at)
        if snapshot is None or snapshot.offices.get(office.slug) is not office:
            return False
        again = cache.claims(office, day, now=at)
        return again is not None and again.busy is busy

    return still


def _never(at: datetime) -> bool:
    return False


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
    found = {
        day: await cache.day_slots(sessions, office, services, day, mode, now=now)
        if _in_window(office, day, now)
        else DaySlots.of([])
        for day in days
    }
    return {day: _bookable(office, services, day, found[day], now, mode).bookable for day in days}
