"""Itineraries for a life event across offices: which appointments, in which order, on which days.

Pure functions over free slots (what the availability engine computed); the database is not touched here.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

Interval = tuple[datetime, datetime]
Travel = Callable[[str, str], timedelta]
LocalDay = Callable[[str, datetime], date]


@dataclass(frozen=True, slots=True)
class StepOptions:
    """One step of a life event and its free slots (start, end) per office that can serve it, sorted by start."""

    key: str
    after: frozenset[str]
    slots: Mapping[str, Sequence[Interval]]


@dataclass(frozen=True, slots=True)
class Part:
    step: str
    office: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Proposal:
    """Appointments in the order they take place, starting on `day`, over `days` local days."""

    day: date
    days: int
    parts: tuple[Part, ...]

    def key(self) -> tuple[object, ...]:
        """What makes one proposal for a day better than another: fewer days, done sooner, each part earlier."""
        return (
            self.days,
            self.parts[-1].end,
            tuple(p.start for p in self.parts),
            tuple(p.office for p in self.parts),
            tuple(p.step for p in self.parts),
        )


def valid(
    parts: Sequence[Part], steps: Sequence[StepOptions], *, travel: Travel, local_day: LocalDay, max_days: int
) -> bool:
    """True if `parts` (one per step) follow each other with the travel time between offices, respect the steps'
    order and lie within `max_days` local days."""
    ordered = sorted(parts, key=lambda p: p.start)
    if sorted(p.step for p in parts) != sorted(s.key for s in steps):
        return False
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end + travel(before.office, after.office):
            return False
    position = {p.step: i for i, p in enumerate(ordered)}
    if any(position[first] > position[s.key] for s in steps for first in s.after):
        return False
    return _span(ordered, local_day) <= max_days


def propose(
    steps: Sequence[StepOptions], *, travel: Travel, local_day: LocalDay, max_days: int, limit: int
) -> list[Proposal]:
    """The best itinerary for each day on which one can begin, earliest day first, at most `limit`.

    For each order of the steps that keeps every step after the ones it needs first, and each choice of office per
    step, taking every part's earliest free slot after the previous part's end plus the travel time gives the
    earliest possible part at every position at once; so it is also the best for that order and choice of
    offices, and the best of all is the best of these.
    """
    if not steps:
        return []
    best: dict[date, Proposal] = {}
    for order in _orders(steps):
        for offices in itertools.product(*(sorted(step.slots) for step in order)):
            first = order[0].slots[offices[0]]
            for day in sorted({local_day(offices[0], start) for start, _ in first}):
                proposal = _earliest(order, offices, day, travel=travel, local_day=local_day, max_days=max_days)
                if proposal is not None and (day not in best or proposal.key() < best[day].key()):
                    best[day] = proposal
    return [best[day] for day in sorted(best)][:limit]


def _earliest(
    order: Sequence[StepOptions],
    offices: Sequence[str],
    day: date,
    *,
    travel: Travel,
    local_day: LocalDay,
    max_days: int,
) -> Proposal | None:
    parts: list[Part] = []
    for step, office in zip(order, offices, strict=True):
        slots = step.slots[office]
        if parts:
            previous = parts[-1]
            earliest = previous.end + travel(previous.office, office)
            index = bisect_left(slots, earliest, key=lambda slot: slot[0])
        else:
            index = bisect_left(slots, day, key=lambda slot: local_day(office, slot[0]))
        if index == len(slots):
            return None
        start, end = slots[index]
        if not parts and local_day(office, start) != day:
            return None
        parts.append(Part(step.key, office, start, end))
    days = _span(parts, local_day)
    return Proposal(day, days, tuple(parts)) if days <= max_days else None


def _span(parts: Sequence[Part], local_day: LocalDay) -> int:
    """How many local days the parts (in time order) cover, from the first one's to the last one's."""
    first, last = local_day(parts[0].office, parts[0].start), local_day(parts[-1].office, parts[-1].start)
    return (last - first).days + 1


def _orders(steps: Sequence[StepOptions]) -> Iterator[tuple[StepOptions, ...]]:
    """Every order of the steps in which each comes after the steps it needs first."""
    for order in itertools.permutations(steps):
        done: set[str] = set()
        for step in order:
            if not step.after <= done:
                break
            done.add(step.key)
        else:
            yield order
