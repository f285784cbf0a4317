"""The scheduler names jobs by what they do and keeps their routine runs out of the log."""

import logging
import threading
from datetime import UTC, datetime

import anyio
import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.app import JOBS
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from tests.conftest import Harness, open_harness

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


@pytest.mark.anyio
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
async def test_a_unit_the_database_aborted_to_let_another_through_runs_again(harness: Harness, sqlstate: str) -> None:
    if not harness.runtime.engine.url.drivername.startswith("postgresql"):
        pytest.skip("deadlocks and serialization failures are PostgreSQL's")
    runs = 0

    async def work(session: AsyncSession) -> int:
        nonlocal runs
        runs += 1
        await session.execute(text("CREATE TABLE IF NOT EXISTS unit_probe (state text, n int)"))
        await session.execute(text("INSERT INTO unit_probe VALUES (:state, :n)"), {"state": sqlstate, "n": runs})
        if runs == 1:  # a real error of that kind from the server, as a deadlock would raise it
            await session.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'gave way' USING ERRCODE = '{sqlstate}'; END $$"))
        return runs

    try:
        assert await run_unit(harness.runtime, work) == 2
        async with harness.session() as s:
            kept = await s.scalars(text("SELECT n FROM unit_probe WHERE state = :state"), {"state": sqlstate})
            assert kept.all() == [2]  # the first run left nothing
    finally:
        async with harness.session() as s:  # the database outlives the test: leave no table the models lack
            await s.execute(text("DROP TABLE IF EXISTS unit_probe"))
            await s.commit()


@pytest.mark.anyio
async def test_other_failures_are_not_run_again(harness: Harness) -> None:
    runs = 0

    async def work(session: AsyncSession) -> None:
        nonlocal runs
        runs += 1
        await session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(DBAPIError):
        await run_unit(harness.runtime, work)
    assert runs == 1
