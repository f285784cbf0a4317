"""Running units of work and the scheduler that ticks every package's jobs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from litestar import Litestar
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import end_unit

if TYPE_CHECKING:
    from rathaus.runtime import Runtime
    from rathaus.wiring import Job

log = logging.getLogger("rathaus.jobs")
# APScheduler writes two INFO lines for every run of every job ("Running job", "executed successfully"): routine
# ticks every few seconds that drown what matters. Its warnings (a missed run) and errors still show.
ROUTINE_LOGGERS = ("apscheduler.executors.default", "apscheduler.scheduler")


# PostgreSQL's deadlock_detected and serialization_failure: the database chose this transaction to give way.
_GIVE_WAY = frozenset({"40P01", "40001"})
_ATTEMPTS = 3


def _gave_way(error: BaseException) -> bool:
    """Whether the database aborted the transaction only to let a concurrent one through (rerunning it is safe)."""
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in _GIVE_WAY


async def run_unit(runtime: Runtime, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """Run `work(session)` as one transaction: committed if it returns, rolled back if it raises.

    Jobs that hold many rows in one transaction (a sweep offering slots to many wishes, on several instances at
    once) can deadlock with each other; the one PostgreSQL aborts runs again, up to three times in all.
    """
    attempt = 1
    while True:
        try:
            return await _once(runtime, work)
        except DBAPIError as error:
            if attempt == _ATTEMPTS or not _gave_way(error):
                raise
            log.info("unit gave way to a concurrent one (attempt %d), running it again", attempt)
            attempt += 1


async def _once(runtime: Runtime, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    session = runtime.session_maker()
    try:
        try:
            result = await work(session)
        except BaseException as error:
            await end_unit(session, error)
            raise
        await end_unit(session, None)
        return result
    finally:
        await session.close()


async def _guarded(job: Job, runtime: Runtime) -> None:
    log.debug("job %s runs", job.__name__)
    try:
        await job(runtime)
    except Exception as error:  # a failed tick must not stop the scheduler; the next one retries
        log.error("job %s failed: %s", getattr(job, "__name__", job), type(error).__name__)


def scheduler_lifespan(jobs: Sequence[tuple[Job, int]]) -> Callable[[Litestar], Any]:
    """A lifespan running `jobs` on an APScheduler inside the app's event loop (unless disabled)."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        from rathaus.web import runtime_of

        runtime = runtime_of(app.state)
        if not runtime.settings.scheduler:
            yield
            return
        if runtime.settings.log_level != "DEBUG":
            for name in ROUTINE_LOGGERS:
                logging.getLogger(name).setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
        for job, seconds in jobs:
            # Named after what the job does: APScheduler's own lines would otherwise all say "_guarded".
            name = job.__name__
            scheduler.add_job(_guarded, "interval", seconds=seconds, args=[job, runtime], id=name, name=name, jitter=2)
        scheduler.start()
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)

    return lifespan
