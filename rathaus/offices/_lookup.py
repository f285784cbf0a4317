"""Small reads of the catalogue's tables for the packages above it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.errors import RathausError
from rathaus.offices.models import Office


async def office_timezone(session: AsyncSession, *, office_id: int) -> ZoneInfo:
    """The office's time zone, or unknown_office."""
    name = await session.scalar(select(Office.timezone).where(Office.id == office_id))
    if name is None:
        raise RathausError("unknown_office", office=str(office_id))
    return ZoneInfo(name)


async def office_ids(session: AsyncSession, *, slugs: list[str]) -> list[int]:
    """The ids of the offices with these slugs, or unknown_office naming the missing ones."""
    found = dict((await session.execute(select(Office.slug, Office.id).where(Office.slug.in_(slugs)))).tuples().all())
    missing = sorted(set(slugs) - set(found))
    if missing:
        raise RathausError("unknown_office", office=", ".join(missing))
    return [found[slug] for slug in slugs]


async def office_count(session: AsyncSession) -> int:
    """How many offices there are."""
    return await session.scalar(select(func.count()).select_from(Office)) or 0
