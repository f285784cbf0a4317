"""Scheduled releases: which are due, and recording one exactly once (the database decides)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import dialect_insert
from rathaus.offices.catalog import Catalog, release_schedule
from rathaus.offices.models import Office, OfficeRelease
from rathaus.offices.rules import OfficeRules


async def due_releases(session: AsyncSession, *, office: OfficeRules, now: datetime) -> list[datetime]:
    """The office's release instants up to `now` not made yet, earliest first (none on days it is closed).

    After a pause (a restart, a deployment) every instant since the last release made is due, so none is skipped;
    an office that made none yet starts with the latest instant (see `open_first_release`).
    """
    if office.releases is None:
        return []
    last_made = await session.scalar(select(func.max(OfficeRelease.at)).where(OfficeRelease.office_id == office.id))
    if last_made is None:
        latest = office.last_release(now)
        return [] if latest is None else [latest]
    return office.release_instants(after=last_made, until=now)


async def record_release(
    session: AsyncSession, *, catalog: Catalog, office: OfficeRules, at: datetime, now: datetime
) -> date | None:
    """Record the office's release at instant `at` and return the day it opens; None if it was made already
    (by this or another instance: the first transaction to write the row makes the release, the others wait for
    it and step back). The day opens for everyone when the transaction commits."""
    if office.releases is None:
        return None
    day = office.releases.day_of(at, office.tz)
    statement = dialect_insert(session, OfficeRelease).values(office_id=office.id, at=at, day=day, made_at=now)
    made = await session.scalar(statement.on_conflict_do_nothing().returning(OfficeRelease.day))
    if made is None:
        return None
    await catalog.changed(session, now=now)
    return day


async def open_first_release(session: AsyncSession, *, office: Office, now: datetime) -> None:
    """When an office starts releasing on a schedule, record its latest release instant as made: the days it
    opens were open to booking before (up to the horizon), so there is nothing to offer first. Without it the
    office would take no bookings at all until the release job's first run."""
    schedule = release_schedule(office)
    made = select(OfficeRelease.at).where(OfficeRelease.office_id == office.id).limit(1)
    if schedule is None or await session.scalar(made) is not None:
        return
    tz = ZoneInfo(office.timezone)
    latest = schedule.last(tz, now=now)
    if latest is not None:
        session.add(OfficeRelease(office_id=office.id, at=latest, day=schedule.day_of(latest, tz), made_at=now))
