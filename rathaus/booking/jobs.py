"""Scheduled work of the booking domain."""

from __future__ import annotations

from datetime import timedelta

from rathaus.booking import service
from rathaus.jobs import run_unit
from rathaus.web import Services


async def expire_holds(services: Services) -> object:
    """Free the slots of unverified holds that ran out."""
    now = services.clock.now()
    return await run_unit(services, lambda s: service.expire_holds(s, ctx=services.booking, now=now))


async def purge_personal_data(services: Services) -> object:
    """Erase names and contacts of appointments past the retention period."""
    now = services.clock.now()
    retention = timedelta(days=services.settings.personal_data_retention_days)
    return await run_unit(services, lambda s: service.purge_personal_data(s, retention=retention, now=now))
