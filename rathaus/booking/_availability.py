"""Free slots of an office and day, from the cached rules and the claims in the database."""

from __future__ import annotations

import time as monotonic
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.availability import Slot, free_slots, within_booking_window
from rathaus.booking.catalog import Catalog
from rathaus.booking.models import SlotClaim
from rathaus.booking.rules import OfficeRules, ServiceRule
from rathaus.db import after_commit
from rathaus.errors import RathausError

_MAX_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class _Entry:
    generation: tuple[int, int]
    loaded_at: float
    slots: tuple[Slot, ...]


class AvailabilityCache:
    """Computed day slots per (office, day, services); dropped after a local change commits, else after `ttl`."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._entries: dict[tuple[int, date, tuple[int, ...]], _Entry] = {}
        self._office_generation: dict[int, int] = defaultdict(int)

    def invalidate_office(self, office_id: int) -> None:
        """Forget every cached day of one office."""
        self._office_generation[office_id] += 1

    def invalidate_after_commit(self, session: AsyncSession, office_id: int) -> None:
        """Forget the office's days once `session` commits."""
        after_commit(session, lambda: self.invalidate_office(office_id))

    def generation_of(self, office_id: int) -> tuple[int, int]:
        return (self.catalog.generation, self._office_generation[office_id])

    def get(self, key: tuple[int, date, tuple[int, ...]]) -> tuple[Slot, ...] | None:
        """A fresh entry, or None."""
        entry = self._entries.get(key)
        if (
            entry is None
            or entry.generation != self.generation_of(key[0])
            or monotonic.monotonic() - entry.loaded_at > self.catalog.ttl
        ):
            return None
        return entry.slots

    def put(self, key: tuple[int, date, tuple[int, ...]], generation: tuple[int, int], slots: tuple[Slot, ...]) -> None:
        """Remember slots computed under `generation` (ignored if a change committed meanwhile)."""
        if generation != self.generation_of(key[0]):
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = _Entry(generation, monotonic.monotonic(), slots)


def appointment_length(services: list[ServiceRule]) -> timedelta:
    """An appointment lasts as long as its services together."""
    return sum((s.duration for s in services), timedelta())


def check_online(services: list[ServiceRule]) -> None:
    """Refuse services that cannot be booked online."""
    for s in services:
        if not s.bookable_online:
            raise RathausError("not_bookable_online", service=s.name_en)


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


async def day_slots(
    session: AsyncSession,
    *,
    cache: AvailabilityCache,
    office: OfficeRules,
    services: list[ServiceRule],
    day: date,
    now: datetime,
) -> tuple[Slot, ...]:
    """All free slots of a local day for these services, before the booking window is applied."""
    ids = tuple(s.id for s in services)
    key = (office.id, day, ids)
    cached = cache.get(key)
    if cached is not None:
        return cached
    generation = cache.generation_of(office.id)
    counters = [c.id for c in office.able_counters(ids, online=True)]
    intervals = office.open_intervals(day)
    slots: tuple[Slot, ...] = ()
    if counters and intervals:
        length = appointment_length(services)
        claim_span = length + office.buffer
        busy = await busy_cells(
            session, counters=counters, start=intervals[0][0], end=intervals[-1][1] + claim_span, now=now
        )
        slots = tuple(
            free_slots(
                open_intervals=intervals,
                closures=office.closures_between(intervals[0][0], intervals[-1][1]),
                step=office.slot,
                length=length,
                claim_span=claim_span,
                counters=counters,
                busy=busy,
            )
        )
    cache.put(key, generation, slots)
    return slots


async def availability(
    session: AsyncSession,
    *,
    catalog: Catalog,
    cache: AvailabilityCache,
    office_slug: str,
    service_slugs: list[str],
    day: date,
    now: datetime,
) -> tuple[OfficeRules, list[ServiceRule], list[Slot]]:
    """Bookable slots of one office and day for the chosen services, inside the booking window."""
    office = await catalog.office(session, office_slug, now=now)
    services = await catalog.services(session, service_slugs, now=now)
    check_online(services)
    if not office.able_counters((s.id for s in services), online=True):
        raise RathausError("no_counter_for_services")
    earliest, latest = now + office.lead, now + office.horizon
    if not office.local_day(now) <= day <= office.local_day(latest):
        return office, services, []  # nothing bookable that day; no work, no cache entry
    slots = await day_slots(session, cache=cache, office=office, services=services, day=day, now=now)
    return office, services, within_booking_window(slots, earliest=earliest, latest=latest)
