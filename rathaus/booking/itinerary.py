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
    # The local day of each slot per office, where the caller knows them already (else computed).
    days: Mapping[str, Sequence[date]] | None = None


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
    options = {
        (step.key, office): _Options(
            slots,
            [start for start, _ in slots],
            list(step.days[office]) if step.days is not None else [local_day(office, s) for s, _ in slots],
        )
        for step in steps
        for office, slots in step.slots.items()
    }
    best: dict[date, Proposal] = {}
    for order in _orders(steps):
        for offices in itertools.product(*(sorted(step.slots) for step in order)):
            chosen = [options[step.key, office] for step, office in zip(order, offices, strict=True)]
            for day in sorted(set(chosen[0].days)):
                proposal = _earliest(order, offices, chosen, day, travel=travel, max_days=max_days)
                if proposal is not None and (day not in best or proposal.key() < best[day].key()):
                    best[day] = proposal
    return [best[day] for day in sorted(best)][:limit]


@dataclass(frozen=True, slots=True)
class _Options:
    """One step's free slots at one office, with their starts and local days for bisecting."""

    slots: Sequence[Interval]
    starts: list[datetime]
    days: list[date]


def _earliest(
    order: Sequence[StepOptions],
    offices: Sequence[str],
    chosen: Sequence[_Options],
    day: date,
    *,
    travel: Travel,
    max_days: int,
) -> Proposal | None:
    parts: list[Part] = []
    last = day  # the first part's day: `day` is one of the days the first step has a slot on
    for step, office, options in zip(order, offices, chosen, strict=True):
        if parts:
            previous = parts[-1]
            index = bisect_left(options.starts, previous.end + travel(previous.office, office))
        else:
            index = bisect_left(options.days, day)
        if index == len(options.slots):
            return None
        start, end = options.slots[index]
        parts.append(Part(step.key, office, start, end))
        last = options.days[index]
    days = (last - day).days + 1
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
