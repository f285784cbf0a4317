"""The waiting list's own cost, in process (no HTTP): a cancellation whose slot goes to the first of N waiting
wishes, against the same cancellation with nobody waiting (whose slot the cool-down then holds back); one sweep
over N wishes; and one scheduled release of a day to N wishes.

Reports CPU time (process time, so other engineers' load matters less than for wall time) and SQL statements per
operation, as ratios to the cancellation without wishes. Run: `.venv/bin/python -m bench.waitlist_bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from rathaus import migrate
from rathaus.booking import service as bookings
from rathaus.booking.deps import booking_context
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog
from rathaus.packages import WIRINGS
from rathaus.runtime import Runtime, build_runtime
from rathaus.settings import Settings, WaitlistSettings
from rathaus.waitlist import _releases as releases
from rathaus.waitlist import service
from rathaus.waitlist.deps import waitlist_context
from rathaus.waitlist.models import Wish, WishOffice, WishService
from tests.factories import make_config

NOW = datetime(2027, 1, 11, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin, before opening


async def _runtime(path: Path, *, cooldown: int, **office: Any) -> Runtime:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}",
        environment="test",
        secret_key="b" * 40,
        scheduler=False,
        waitlist=WaitlistSettings(cooldown_minutes=cooldown),
    ).validated()
    runtime = build_runtime(settings, WIRINGS, clock=ManualClock(NOW))
    await migrate.upgrade(runtime.engine)
    catalog = runtime.get(Catalog)
    await run_unit(runtime, lambda s: load_config(s, catalog=catalog, config=make_config(**office), now=NOW))
    return runtime


async def _wishes(runtime: Runtime, count: int) -> None:
    """`count` confirmed wishes for service a at the office, any time in the next four weeks, oldest first."""
    first, last = date(2027, 1, 11), date(2027, 2, 5)

    async def work(session: Any) -> None:
        for start in range(0, count, 1000):
            rows = [
                {
                    "id": i + 1,
                    "code": f"W{i:07d}",
                    "token_hash": f"{i:064d}",
                    "status": "active",
                    "name": "Bench",
                    "email": f"w{i}@example.org",
                    "phone": None,
                    "channel": "email",
                    "language": "de",
                    "first_day": first,
                    "last_day": last,
                    "verification_code_hash": None,
                    "verification_attempts": 0,
                    "booking_id": None,
                    "created_at": NOW - timedelta(days=1, seconds=count - i),
                    "updated_at": NOW,
                }
                for i in range(start, min(count, start + 1000))
            ]
            await session.execute(insert(Wish), rows)
            await session.execute(
                insert(WishService), [{"wish_id": r["id"], "service_id": 1, "position": 0} for r in rows]
            )
            await session.execute(insert(WishOffice), [{"wish_id": r["id"], "office_id": 1} for r in rows])

    if count:
        await run_unit(runtime, work)


async def _measure(runtime: Runtime, op: Any) -> tuple[float, int]:
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        started = time.process_time()
        await run_unit(runtime, op)
        return time.process_time() - started, statements
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)


async def _scenario(wishes: int, rounds: int, cooldown: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        runtime = await _runtime(Path(folder) / "bench.db", cooldown=cooldown)
        try:
            await _wishes(runtime, wishes)
            ctx = booking_context(runtime)
            cancels: list[tuple[float, int]] = []
            for i in range(rounds):
                start = datetime(2027, 1, 12 + i // 16, 7, 0, tzinfo=UTC) + timedelta(minutes=15 * (i % 16))
                request = bookings.BookingRequest(
                    office="amt", services=["a"], start=start, name="Bench", email=f"b{i}@example.org"
                )
                booked = await run_unit(
                    runtime, lambda s, r=request: bookings.book(s, ctx=ctx, request=r, idempotency_key=None, now=NOW)
                )
                code, token = booked.booking.code, booked.manage_token
                cancels.append(
                    await _measure(
                        runtime, lambda s, c=code, t=token: bookings.cancel(s, ctx=ctx, code=c, token=t, now=NOW)
                    )
                )
            sweep = await _measure(runtime, lambda s: service.sweep(s, ctx=waitlist_context(runtime), now=NOW))
        finally:
            await runtime.dispose()
    return {
        "wishes": wishes,
        "cancel_cpu_ms": round(1000 * statistics.median(c for c, _ in cancels), 2),
        "cancel_statements": statistics.median(n for _, n in cancels),
        "sweep_cpu_ms": round(1000 * sweep[0], 1),
        "sweep_statements": sweep[1],
    }


async def _release(wishes: int) -> dict[str, Any]:
    """Monday 08:00's release (day +14) of an office releasing every weekday, to `wishes` waiting wishes."""
    at = NOW + timedelta(hours=1)
    with tempfile.TemporaryDirectory() as folder:
        runtime = await _runtime(Path(folder) / "bench.db", cooldown=30, releases={"at": "08:00", "days_ahead": 14})
        try:
            await _wishes(runtime, wishes)
            ctx = waitlist_context(runtime)
            made: list[int | None] = []

            async def work(session: Any) -> None:
                made.append(await releases.release(session, ctx=ctx, office_id=1, at=at, now=at))

            cpu, statements = await _measure(runtime, work)
        finally:
            await runtime.dispose()
    return {"wishes": wishes, "release_cpu_ms": round(1000 * cpu, 1), "statements": statements, "offers": made[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wishes", type=int, nargs="+", default=[0, 500, 2000])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--cooldown", type=int, default=30, help="RATHAUS_WAITLIST_COOLDOWN_MINUTES")
    args = parser.parse_args()
    results = [asyncio.run(_scenario(n, args.rounds, args.cooldown)) for n in args.wishes]
    base = results[0]["cancel_cpu_ms"] or 1
    for r in results:
        r["cancel_cpu_ratio"] = round(r["cancel_cpu_ms"] / base, 2)
    print(json.dumps(results, indent=2))
    print(json.dumps([asyncio.run(_release(n)) for n in args.wishes], indent=2))


if __name__ == "__main__":
    main()
