"""Every scheduled job, registered in one place; each opens its own session and commits its own work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from litestar import Litestar

from rathaus.booking import service as booking
from rathaus.db import finish
from rathaus.web import Services, services_of

log = logging.getLogger("rathaus.jobs")

Job = Callable[[Services], Awaitable[object]]


async def run_unit(services: Services, work: Callable[..., Awaitable[object]]) -> object:
    """Run `work(session)` as one transaction."""
    session = services.session_maker()
    try:
        try:
            result = await work(session)
        except BaseException as error:
            await finish(session, error)
            raise
        await finish(session, None)
        return result
    finally:
        await session.close()


async def expire_holds(services: Services) -> object:
    """Free the slots of unverified holds that ran out."""
    now = services.clock.now()
    return await run_unit(services, lambda s: booking.expire_holds(s, ctx=services.booking, now=now))


# (job, seconds between runs); the database decides what each run claims, so several instances are safe.
JOBS: list[tuple[Job, int]] = [(expire_holds, 60)]


async def _guarded(job: Job, services: Services) -> None:
    try:
        await job(services)
    except Exception as error:  # a failed tick must not stop the scheduler; the next one retries
        log.error("job %s failed: %s", getattr(job, "__name__", job), type(error).__name__)


@asynccontextmanager
async def scheduler_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Run JOBS on an APScheduler inside the app's event loop (unless disabled in settings)."""
    services = services_of(app.state)
    if not services.settings.scheduler:
        yield
        return
    scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
    for job, seconds in JOBS:
        scheduler.add_job(_guarded, "interval", seconds=seconds, args=[job, services], id=job.__name__, jitter=2)
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
