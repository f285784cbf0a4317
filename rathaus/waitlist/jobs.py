"""Scheduled work of the waiting list."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.jobs import run_unit
from rathaus.runtime import Runtime
from rathaus.waitlist import service
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


async def expire_wishes(runtime: Runtime) -> object:
    """End wishes past their last day and wishes never confirmed; erase the contacts of long-ended ones."""
    now = runtime.clock.now()
    retention = timedelta(days=runtime.settings.personal_data_retention_days)

    async def work(session: AsyncSession) -> int:
        ended = await service.expire_wishes(session, now=now)
        await service.purge_wishes(session, retention=retention, now=now)
        return ended

    return await run_unit(runtime, work)
