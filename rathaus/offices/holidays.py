"""Public holidays stay known ahead: each new year's are loaded without waiting for the next `rathaus load`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import operation
from rathaus.offices._closures import add_closure
from rathaus.offices._load import WantedClosure, holiday_closures
from rathaus.offices.catalog import Catalog
from rathaus.offices.models import Closure, Office


async def _missing(session: AsyncSession, offices: list[Office], now: datetime) -> list[tuple[Office, WantedClosure]]:
    missing = []
    for office in offices:
        assert office.holidays_country is not None
        have = set(
            (
                await session.execute(
                    select(Closure.start_at, Closure.end_at).where(
                        Closure.office_id == office.id, Closure.source == "holidays"
                    )
                )
            ).tuples()
        )
        wanted = holiday_closures(
            country=office.holidays_country,
            subdivision=office.holidays_subdivision,
            public=office.holidays_public is not False,
            tz=ZoneInfo(office.timezone),
            now=now,
        )
        missing += [(office, w) for w in wanted if (w.start, w.end) not in have]
    return missing


@operation
async def load_new_holidays(session: AsyncSession, *, catalog: Catalog, now: datetime) -> list[int]:
    """Add this year's and next year's public holidays that an office observes and does not have yet; returns the
    new closures' ids (bookings on those days are cancelled as for any closure)."""
    offices = list((await session.scalars(select(Office).where(Office.holidays_country.is_not(None)))).all())
    if not await _missing(session, offices, now):
        return []
    # Announcing the change first takes the catalogue version's row lock (on SQLite the writer lock is held
    # already): instances running this at the same moment add each holiday once.
    await catalog.changed(session, now=now)
    added = []
    for office, wanted in await _missing(session, offices, now):
        closure = await add_closure(
            session,
            catalog=catalog,
            office_id=office.id,
            start=wanted.start,
            end=wanted.end,
            reason=wanted.reason,
            public=wanted.public,
            source="holidays",
            actor="holidays",
            now=now,
            all_day=True,
        )
        added.append(closure.id)
    return added
