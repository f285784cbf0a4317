"""Scheduled work of the booking domain."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar

from rathaus.booking import service
from rathaus.booking.deps import booking_context
from rathaus.jobs import run_unit
from rathaus.runtime import Runtime
from rathaus.web import runtime_of

log = logging.getLogger("rathaus.booking.jobs")


async def expire_holds(runtime: Runtime) -> object:
    """Free the slots of unverified holds that ran out."""
    now = runtime.clock.now()
    return await run_unit(runtime, lambda s: service.expire_holds(s, ctx=booking_context(runtime), now=now))


async def purge_personal_data(runtime: Runtime) -> object:
    """Erase names and contacts of appointments past the retention period."""
    now = runtime.clock.now()
    retention = timedelta(days=runtime.settings.personal_data_retention_days)
    return await run_unit(runtime, lambda s: service.purge_personal_data(s, retention=retention, now=now))


@asynccontextmanager
async def warm_availability(app: Litestar) -> AsyncIterator[None]:
    """Before the server takes requests: read the catalogue and every office's claims of its bookable days, so
    that the first readers of a fresh instance are answered from memory instead of all at once from the
    database."""
    runtime = runtime_of(app.state)
    try:
        await runtime.get(service.AvailabilityCache).warm(runtime.read_session_maker, clock=runtime.clock.now)
    except Exception as error:  # e.g. a database not migrated yet: the caches then fill on first use
        log.warning("availability warm-up skipped: %s", type(error).__name__)
    yield
