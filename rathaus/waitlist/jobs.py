"""Scheduled work of the waiting list."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.jobs import run_unit
from rathaus.runtime import Runtime
from rathaus.waitlist import service
from rathaus.waitlist._cooldown import end_cooldowns
from rathaus.waitlist._releases import due_releases, release
from rathaus.waitlist.deps import waitlist_context


async def expire_offers(runtime: Runtime) -> object:
    """Pass the slots of offers nobody answered in time on to the next wishes."""
    now = runtime.clock.now()
    ctx = waitlist_context(runtime)
    return await run_unit(runtime, lambda s: service.expire_offers(s, ctx=ctx, now=now))


async def offer_free_slots(runtime: Runtime) -> object:
    """Offer free slots that match waiting wishes (new hours, lifted closures, new wishes)."""
    now = runtime.clock.now()
    ctx = waitlist_context(runtime)
    return await run_unit(runtime, lambda s: service.sweep(s, ctx=ctx, now=now))


async def publish_releases(runtime: Runtime) -> object:
    """Make every scheduled release that is due (catching up on those a pause missed), each in its own
    transaction; another instance making the same release at once leaves it to whichever records it first."""
    now = runtime.clock.now()
    ctx = waitlist_context(runtime)
    due: list[tuple[int, datetime]] = await run_unit(runtime, lambda s: due_releases(s, ctx=ctx, now=now))
    made = 0
    for office_id, at in due:
        made += await run_unit(runtime, functools.partial(release, ctx=ctx, office_id=office_id, at=at, now=now)) or 0
    return made


async def reopen_cooled_slots(runtime: Runtime) -> object:
    """Give back freed slots whose cool-down is over (or that a wish registered since may take)."""
    now = runtime.clock.now()
    ctx = waitlist_context(runtime)
    return await run_unit(runtime, lambda s: end_cooldowns(s, ctx=ctx, now=now))


async def expire_wishes(runtime: Runtime) -> object:
    """End wishes past their last day and wishes never confirmed; erase the contacts of long-ended ones."""
    now = runtime.clock.now()
    retention = timedelta(days=runtime.settings.personal_data_retention_days)

    async def work(session: AsyncSession) -> int:
        ended = await service.expire_wishes(session, now=now)
        await service.purge_wishes(session, retention=retention, now=now)
        return ended

    return await run_unit(runtime, work)
