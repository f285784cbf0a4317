"""The stretch of time a report covers: one local day, an ISO week (Monday to Sunday) or a calendar month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rathaus.errors import RathausError
from rathaus.offices.rules import OfficeRules, day_bounds

KINDS = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Period:
    kind: str
    first: date  # local days, both included
    last: date
    start: datetime  # UTC, from local midnight of `first` to local midnight after `last`
    end: datetime

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def period_of(office: OfficeRules, *, kind: str, anchor: date) -> Period:
    """The day, week or month of the office's calendar that contains `anchor`."""
    if kind == "day":
        first = last = anchor
    elif kind == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
    elif kind == "month":
        first = anchor.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    else:
        raise RathausError("invalid_input", reason=f"period must be one of {', '.join(KINDS)}")
    return Period(kind, first, last, day_bounds(first, office.tz)[0], day_bounds(last, office.tz)[1])
