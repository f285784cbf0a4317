"""The availability engine: slots are derived from rules minus claims, never stored."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rathaus.offices.rules import ClosureRule, Interval


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    counters: tuple[int, ...]  # free counters able to serve it, in preference order


def cells(start: datetime, span: timedelta, step: timedelta) -> list[datetime]:
    """The grid cells an appointment of `span` starting at `start` occupies (the last one partly)."""
    count = -(-span // step)  # ceiling division of timedeltas
    return [start + step * i for i in range(count)]


def free_slots(
    *,
    open_intervals: Sequence[Interval],
    closures: Sequence[ClosureRule],
    step: timedelta,
    length: timedelta,
    claim_span: timedelta,
    counters: Sequence[int],
    busy: Mapping[int, AbstractSet[datetime]],
) -> list[Slot]:
    """Every start on the grid where an appointment of `length` fits into opening hours, outside closures,
    and on at least one of `counters` whose cells for `claim_span` (length + buffer) are not busy."""
    slots: list[Slot] = []
    if not counters:
        return slots
    for opens, closes in open_intervals:
        start = opens
        while start + length <= closes:
            end = start + length
            if not any(c.start < end and start < c.end for c in closures):
                needed = cells(start, claim_span, step)
                free = tuple(
                    counter for counter in counters if not any(cell in busy.get(counter, ()) for cell in needed)
                )
                if free:
                    slots.append(Slot(start, end, free))
            start += step
    return slots


@dataclass(frozen=True, slots=True)
class DaySlots:
    """A day's free slots in order, with their start instants as epoch seconds for cheap windowing."""

    slots: tuple[Slot, ...]
    starts: tuple[float, ...]
    # Answers already encoded for a window (first, last index): a cached day is read far more often than
    # it changes, and encoding is most of what a read costs.
    encoded: dict[tuple[int, int], bytes] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, slots: Sequence[Slot]) -> DaySlots:
        """Wrap slots given in order of their start."""
        return cls(tuple(slots), tuple(slot.start.timestamp() for slot in slots))

    def window(self, earliest: datetime, latest: datetime) -> tuple[int, int]:
        """The index range of the slots whose start lies in [earliest, latest]."""
        return bisect_left(self.starts, earliest.timestamp()), bisect_right(self.starts, latest.timestamp())

    def between(self, earliest: datetime, latest: datetime) -> list[Slot]:
        """The slots whose start lies in [earliest, latest]."""
        low, high = self.window(earliest, latest)
        return list(self.slots[low:high])


def within_booking_window(slots: Sequence[Slot], *, earliest: datetime, latest: datetime) -> list[Slot]:
    """The slots (in order of their start) whose start lies in [earliest, latest]."""
    return DaySlots.of(slots).between(earliest, latest)
