"""Scheduled work of the booking domain."""

from __future__ import annotations

from rathaus.booking import service
from rathaus.jobs import run_unit
from rathaus.web import Services


async def expire_holds(services: Services) -> object:
    """Free the slots of unverified holds that ran out."""
    now = services.clock.now()
    return await run_unit(services, lambda s: service.expire_holds(s, ctx=services.booking, now=now))
