"""Scheduled work of the booking domain."""

from __future__ import annotations

from datetime import timedelta

from rathaus.booking import service
from rathaus.booking.deps import booking_context
from rathaus.jobs import run_unit
from rathaus.runtime import Runtime


async def expire_holds(runtime: Runtime) -> object:
    """Free the slots of unverified holds that ran out."""
    now = runtime.clock.now()
    return await run_unit(runtime, lambda s: service.expire_holds(s, ctx=booking_context(runtime), now=now))


async def purge_personal_data(runtime: Runtime) -> object:
    """Erase names and contacts of appointments past the retention period."""
    now = runtime.clock.now()
    retention = timedelta(days=runtime.settings.personal_data_retention_days)
    return await run_unit(runtime, lambda s: service.purge_personal_data(s, retention=retention, now=now))
