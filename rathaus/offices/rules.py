"""An office's rules as plain immutable values: what availability, booking and the queue evaluate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from rathaus.i18n import N_
from rathaus.localized import Localized

Interval = tuple[datetime, datetime]
_INSTANT = timedelta(microseconds=1)
_WEEK = timedelta(weeks=1)
_FORTNIGHT = timedelta(days=14)

# How an appointment takes place: at the office, by a call to the citizen, or in a video meeting.
Mode = Literal["on_site", "phone", "video"]
MODES: tuple[Mode, ...] = ("on_site", "phone", "video")
ON_SITE = frozenset({"on_site"})
# How each mode reads in a sentence ("… held {mode}"), and as a choice.
MODE_PHRASES: Mapping[str, str] = {"on_site": N_("on site"), "phone": N_("by phone"), "video": N_("by video")}
MODE_NAMES: Mapping[str, str] = {
    "on_site": N_("At the office"),
    "phone": N_("By phone (we call you)"),
    "video": N_("By video meeting"),
}


def in_mode_order(modes: Iterable[str]) -> list[Mode]:
    """The known modes among `modes`, each once, in the order of MODES (as stored and written)."""
    given = set(modes)
    return [mode for mode in MODES if mode in given]


@dataclass(frozen=True, slots=True)
class ServiceRule:
    id: int
    slug: str
    name: Localized
    duration: timedelta
    bring: Localized
    fee_cents: int | None
    bookable_online: bool
    walk_ins_allowed: bool
    walk_in_cutoff: timedelta | None
    # Search words per language code, beside the names (see offices/search.py); not part of a rule's identity,
    # so rules stay hashable.
    keywords: Mapping[str, Sequence[str]] = field(default_factory=dict, compare=False)
    modes: frozenset[str] = ON_SITE


@dataclass(frozen=True, slots=True)
class Facilities:
    """What an office's building offers; None where the office declared nothing."""

    step_free: bool | None = None
    parking: bool | None = None
    bicycle_stands: bool | None = None
    quiet_room: bool | None = None
    note: Localized = field(default_factory=Localized)


@dataclass(frozen=True, slots=True)
class CounterRule:
    id: int
    name: str
    walk_in_only: bool
    services: frozenset[int]
    modes: frozenset[str] = ON_SITE


@dataclass(frozen=True, slots=True)
class ClosureRule:
    id: int
    start: datetime
    end: datetime
    all_day: bool
    reason: Localized
    public: bool


@dataclass(frozen=True, slots=True)
class Window:
    opens: time
    closes: time
    note: Localized = field(default_factory=Localized)


@dataclass(frozen=True, slots=True)
class ReleaseSchedule:
    """New slots released in batches: on `weekdays` (0 Monday) at local time `at`, the day `days_ahead` on opens."""

    weekdays: frozenset[int]
    at: time
    days_ahead: int

    def instants(self, tz: ZoneInfo, *, after: datetime, until: datetime) -> list[datetime]:
        """The release instants in (after, until], earliest first (08:00 local stays 08:00 across DST)."""
        found = []
        day = after.astimezone(tz).date()
        while (instant := wall_to_utc(day, self.at, tz)) <= until:
            if day.weekday() in self.weekdays and instant > after:
                found.append(instant)
            day += timedelta(days=1)
        return found

    def last(self, tz: ZoneInfo, *, now: datetime) -> datetime | None:
        """The latest release instant at or before `now` (within a fortnight), or None."""
        due = self.instants(tz, after=now - timedelta(days=14), until=now)
        return due[-1] if due else None

    def day_of(self, instant: datetime, tz: ZoneInfo) -> date:
        """The day that the release at `instant` opens."""
        return instant.astimezone(tz).date() + timedelta(days=self.days_ahead)


@dataclass(frozen=True, slots=True)
class OfficeRules:
    id: int
    slug: str
    name: Localized
    tz: ZoneInfo
    slot: timedelta
    lead: timedelta
    horizon: timedelta
    buffer: timedelta
    walk_in_cutoff: timedelta | None
    verification: str
    hold: timedelta
    weekly: Mapping[int, Sequence[Window]]
    special: Mapping[date, Sequence[Window]]
    closures: Sequence[ClosureRule]
    counters: Sequence[CounterRule]
    extra: Mapping[str, object] = field(default_factory=dict)
    agenda_shows_names: bool = False
    check_in_grace: timedelta = timedelta(minutes=10)
    facilities: Facilities = field(default_factory=Facilities)
    releases: ReleaseSchedule | None = None
    # The last day a scheduled release opened (after its offers to waiting wishes), None before the first.
    released_through: date | None = None

    def booking_window(self, now: datetime) -> Interval:
        """The first and the last instant at which a bookable appointment may start.

        From the lead time on; up to the horizon, or where slots are released on a schedule, up to the end of the
        last day released (never further than the releases made, whatever the clock says).
        """
        earliest = now + self.lead
        if self.releases is None:
            return earliest, now + self.horizon
        if self.released_through is None:
            return earliest, earliest - _INSTANT
        return earliest, day_bounds(self.released_through, self.tz)[1] - _INSTANT

    def closed_all_day(self, day: date) -> bool:
        """Whether closures (a public holiday, a closure of the office) take up the whole local `day`."""
        pieces = [day_bounds(day, self.tz)]
        for closure in self.closures_between(*pieces[0]):
            pieces = [part for piece in pieces for part in subtract(piece, closure.start, closure.end)]
        return not pieces

    def release_instants(self, *, after: datetime, until: datetime) -> list[datetime]:
        """The releases to make in (after, until], earliest first: the schedule's instants, except on days the
        office is closed all day. Nobody is there to answer for a release on a public holiday and citizens do not
        wait for one then; the days it would have opened open with the next release made (see `booking_window`),
        so the window never shrinks and no day is left out."""
        if self.releases is None:
            return []
        instants = self.releases.instants(self.tz, after=after, until=until)
        return [at for at in instants if not self.closed_all_day(self.local_day(at))]

    def last_release(self, now: datetime) -> datetime | None:
        """The latest release to make at or before `now` (within a fortnight), or None."""
        due = self.release_instants(after=now - _FORTNIGHT, until=now)
        return due[-1] if due else None

    def next_release(self, now: datetime) -> datetime | None:
        """The first release to make after `now`; None if the office is closed on every release day for a year."""
        begin = now
        for _ in range(53):
            found = self.release_instants(after=begin, until=begin + _WEEK)
            if found:
                return found[0]
            begin += _WEEK
        return None

    def local_day(self, instant: datetime) -> date:
        """The office's calendar date at `instant`."""
        return instant.astimezone(self.tz).date()

    def windows_on(self, day: date) -> list[Window]:
        """Weekly and dated windows of `day`, in local wall time, sorted."""
        return sorted([*self.weekly.get(day.weekday(), ()), *self.special.get(day, ())], key=lambda w: w.opens)

    def open_intervals(self, day: date) -> list[Interval]:
        """The real instants the office is open on local `day`, overlapping windows merged."""
        spans = [
            (wall_to_utc(day, w.opens, self.tz), wall_to_utc(day, w.closes, self.tz)) for w in self.windows_on(day)
        ]
        return merge(span for span in spans if span[0] < span[1])

    def open_after_closures(self, day: date) -> list[Interval]:
        """The real instants the office is open on local `day`, with its closures cut out."""
        pieces = self.open_intervals(day)
        for closure in self.closures:
            pieces = [part for piece in pieces for part in subtract(piece, closure.start, closure.end)]
        return pieces

    def closures_between(self, start: datetime, end: datetime) -> list[ClosureRule]:
        """Closures overlapping [start, end)."""
        return [c for c in self.closures if c.start < end and start < c.end]

    def walk_in_cutoff_for(self, service: ServiceRule) -> timedelta:
        """How long before closing walk-ins for `service` stop: the service's, else the office's, else its duration."""
        if service.walk_in_cutoff is not None:
            return service.walk_in_cutoff
        if self.walk_in_cutoff is not None:
            return self.walk_in_cutoff
        return service.duration

    def able_counters(self, service_ids: Iterable[int], *, online: bool, mode: str = "on_site") -> list[CounterRule]:
        """Counters that serve all the services in `mode`; for online bookings walk-in-only counters are left out.

        Counters serving fewer services (then taking fewer modes) come first, so the versatile ones stay free
        longest.
        """
        wanted = frozenset(service_ids)
        able = [
            c for c in self.counters if wanted <= c.services and mode in c.modes and not (online and c.walk_in_only)
        ]
        return sorted(able, key=lambda c: (len(c.services), len(c.modes), c.id))

    def modes_for(self, services: Sequence[ServiceRule]) -> list[str]:
        """The modes in which all of `services` can be booked here: every service allows it, a counter takes it."""
        return [mode for mode in MODES if self.takes(services, mode)]

    def takes(self, services: Sequence[ServiceRule], mode: str) -> bool:
        """Whether all of `services` can be booked here in `mode` (one of `modes_for`)."""
        return all(mode in s.modes for s in services) and bool(
            self.able_counters((s.id for s in services), online=True, mode=mode)
        )


def wall_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The first instant at which the office's clock shows `wall` (or later, if the clock skips it)."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # The wall time falls into a spring-forward gap: the clock first shows a later time at the jump.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.replace(second=0, microsecond=0)


def subtract(piece: Interval, start: datetime, end: datetime) -> list[Interval]:
    """`piece` without [start, end): nothing, itself, or one or two parts."""
    if end <= piece[0] or piece[1] <= start:
        return [piece]
    return [part for part in ((piece[0], start), (end, piece[1])) if part[0] < part[1]]


def merge(spans: Iterable[Interval]) -> list[Interval]:
    """Union of intervals, sorted, touching ones joined."""
    merged: list[Interval] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def day_bounds(day: date, tz: ZoneInfo) -> Interval:
    """The instants from local midnight of `day` to the next local midnight."""
    return wall_to_utc(day, time(0), tz), wall_to_utc(day + timedelta(days=1), time(0), tz)
