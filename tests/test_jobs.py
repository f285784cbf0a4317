"""The scheduler names jobs by what they do and keeps their routine runs out of the log."""

import logging
import threading
from datetime import UTC, datetime

import anyio
import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from rathaus.app import JOBS
from rathaus.clock import ManualClock
from tests.conftest import open_harness

pytestmark = pytest.mark.anyio


async def test_jobs_carry_their_own_names_and_routine_runs_stay_out_of_the_log(
    sqlite_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with open_harness(sqlite_url, clock, scheduler=True) as harness:
        scheduler: AsyncIOScheduler = harness.app.state.scheduler
        jobs = scheduler.get_jobs()
        assert sorted(job.name for job in jobs) == sorted(job.__name__ for job, _ in JOBS)
        assert all(job.name == job.id and job.name != "_guarded" for job in jobs)

        done = threading.Event()

        def executed(event: JobExecutionEvent) -> None:
            if event.job_id == "export_feed_files":
                done.set()

        scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
        scheduler.get_job("export_feed_files").modify(next_run_time=datetime.now(UTC))
        scheduler.wakeup()
        assert await anyio.to_thread.run_sync(done.wait, 10)

    routine = [r for r in caplog.records if r.name.startswith("apscheduler") and r.levelno < logging.WARNING]
    assert routine == []
    assert not any("_guarded" in r.getMessage() for r in caplog.records)
