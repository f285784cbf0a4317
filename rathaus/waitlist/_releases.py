"""Published releases: at each instant of an office's schedule the next day opens, waiting wishes first.

The release is one transaction: it records the release (the database lets only the first of several instances
or restarted jobs do so), makes the offers to the matching wishes in the office's order (first come first served,
or a lottery among the wishes registered before the instant), and commits; the day becomes visible to open booking
with that commit, never before the wishes got their offers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.offices import service as offices
from rathaus.offices.rules import OfficeRules, day_bounds
from rathaus.waitlist._offers import _distribute, _new_release
from rathaus.waitlist._wishes import WaitlistContext

SCHEDULED = "scheduled"


async def due_releases(session: AsyncSession, *, ctx: WaitlistContext, now: datetime) -> list[tuple[int, datetime]]:
    """(office id, instant) of every scheduled release due by `now` and not made yet, earliest first."""
    snapshot = await ctx.booking.catalog.get(session, now=now)
    due = []
    for office in snapshot.offices.values():
        due += [(office.id, at) for at in await offices.due_releases(session, office=office, now=now)]
    return sorted(due, key=lambda item: (item[1], item[0]))


async def release(
    session: AsyncSession, *, ctx: WaitlistContext, office_id: int, at: datetime, now: datetime
) -> int | None:
    """Make the office's release of instant `at`: offers to matching wishes, then the day opens with the commit.
    Returns the offers made, or None if the release was made already."""
    catalog = ctx.booking.catalog
    before = (await catalog.get(session, now=now)).office_by_id(office_id)
    day = await offices.record_release(session, catalog=catalog, office=before, at=at, now=now)
    if day is None:
        return None
    office = (await catalog.own(session, now=now)).office_by_id(office_id)
    start, end = _opened(before, office, now=now)
    if start >= end:
        return 0
    made = await _new_release(
        session, ctx=ctx, office_id=office_id, start=start, end=end, cause=SCHEDULED, now=now, at=at
    )
    if made is None:
        return 0
    return await _distribute(session, ctx=ctx, release=made, start=start, end=end, now=now)


def _opened(before: OfficeRules, after: OfficeRules, *, now: datetime) -> tuple[datetime, datetime]:
    """What the release opened: from the end of the booking window before it to the end of the day released."""
    earliest = after.booking_window(now)[0]
    start = max(earliest, before.booking_window(now)[1]) if before.released_through is not None else earliest
    if after.released_through is None:  # cannot happen: the snapshot holds the release just recorded
        return start, start
    return start, day_bounds(after.released_through, after.tz)[1]
