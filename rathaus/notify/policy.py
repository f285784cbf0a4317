"""Reminder policy: when reminders go out, and the quiet hours in which no SMS is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.notify.models import NotifyPolicy
from rathaus.offices.catalog import Catalog, CatalogSnapshot
from rathaus.offices.rules import wall_to_utc


@dataclass(frozen=True, slots=True)
class Policy:
    offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    turn_near_ahead: int = 3


DEFAULT = Policy()


def parse_offsets(raw: str) -> tuple[timedelta, ...]:
    """ "1440,120" -> (24 h, 2 h); largest first, duplicates removed."""
    minutes = {int(part) for part in raw.replace(" ", "").split(",") if part}
    if any(m <= 0 or m > 60 * 24 * 30 for m in minutes):
        raise ValueError("reminder offsets must be between 1 minute and 30 days")
    return tuple(timedelta(minutes=m) for m in sorted(minutes, reverse=True))


def parse_time(raw: str) -> time:
    """ "21:00" -> time(21, 0)."""
    hours, _, minutes = raw.partition(":")
    return time(int(hours), int(minutes or 0))


def policy_of(row: NotifyPolicy | None) -> Policy:
    """The policy an office's row describes, or the default."""
    if row is None:
        return DEFAULT
    return Policy(
        offsets=parse_offsets(row.reminder_offsets),
        quiet_start=parse_time(row.quiet_start),
        quiet_end=parse_time(row.quiet_end),
        turn_near_ahead=row.turn_near_ahead,
    )


def in_quiet_hours(instant: datetime, policy: Policy, tz: ZoneInfo) -> bool:
    """True if `instant` falls into the office's quiet hours (which may span midnight)."""
    wall = instant.astimezone(tz).time()
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def outside_quiet_hours(instant: datetime, policy: Policy, tz: ZoneInfo) -> datetime:
    """`instant`, or the end of the quiet hours it falls into (office time): SMS are moved, never dropped."""
    if not in_quiet_hours(instant, policy, tz):
        return instant
    local = instant.astimezone(tz)
    day = local.date()
    if local.time() >= policy.quiet_end:  # evening part of a span over midnight: the quiet hours end tomorrow
        day += timedelta(days=1)
    return wall_to_utc(day, policy.quiet_end, tz)


def reminder_times(
    *, start: datetime, now: datetime, policy: Policy, tz: ZoneInfo, channel: str
) -> list[tuple[timedelta, datetime]]:
    """(offset, due) for every reminder still worth sending: due after now and before the appointment."""
    planned: list[tuple[timedelta, datetime]] = []
    for offset in policy.offsets:
        due = start - offset
        if due <= now:
            continue
        if channel == "sms":
            due = outside_quiet_hours(due, policy, tz)
            if due >= start or any(due == earlier for _, earlier in planned):
                continue
        planned.append((offset, due))
    return planned


class Policies:
    """Every office's policy and time zone, read once per catalogue snapshot.

    A policy changes only through `service.set_policy`, which records it as a change of the catalogue. The
    policies are read again with every snapshot the catalogue serves (a new one after every check of its version
    against the database), so they are exactly as fresh as the office rules they go with, on every instance, and
    planning a booking's reminders reads neither its office's time zone nor its policy.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # Keyed by the snapshot itself (held here, so its identity is not reused): a transaction's own snapshot
        # of changes it has not committed yet never passes for the shared one.
        self._read: tuple[CatalogSnapshot, dict[int, Policy]] | None = None

    async def of(self, session: AsyncSession, *, office_id: int, now: datetime) -> tuple[Policy, ZoneInfo]:
        """The office's policy and time zone."""
        snapshot = await self.catalog.get(session, now=now)
        if self._read is None or self._read[0] is not snapshot:
            # Read after the snapshot was checked, so the policies are at least as new as its version.
            rows = (await session.scalars(select(NotifyPolicy))).all()
            self._read = (snapshot, {row.office_id: policy_of(row) for row in rows})
        return self._read[1].get(office_id, DEFAULT), snapshot.office_by_id(office_id).tz
