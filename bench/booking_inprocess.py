"""Booking creation against a bare ORM INSERT in process (no HTTP, no server): CPU time and SQL statements each.

    .venv/bin/python -m bench.booking_inprocess --db sqlite|postgres|both [--count N]

One office with three counters (the test factory's), bookings of one 15-minute service at distinct starts, one
after the other, each its own transaction as a request would run it; after each booking one bare INSERT of the
benchmark's baseline row. Reported: the median CPU time (`time.process_time`: less sensitive to other people's load
than wall time) and the statements each sends (a cursor hook; BEGIN counts, COMMIT is not a cursor statement).
`booking_bench` runs it for each database beside the HTTP rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bench.server import BenchRow, create_bench_tables
from rathaus import migrate
from rathaus.booking import service as bookings
from rathaus.booking.deps import booking_context
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog
from rathaus.packages import WIRINGS
from rathaus.runtime import Runtime, build_runtime
from rathaus.settings import Settings
from tests.factories import make_config

NOW = datetime(2027, 1, 11, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _starts(count: int) -> list[datetime]:
    """Distinct bookable starts (08:00-12:00 Berlin on working days) from the next day on."""
    starts: list[datetime] = []
    day = NOW.replace(hour=7) + timedelta(days=1)
    while len(starts) < count:
        if day.weekday() < 5:
            starts += [day + timedelta(minutes=15 * k) for k in range(16)]
        day += timedelta(days=1)
    return starts[:count]


async def _runtime(url: str, count: int) -> Runtime:
    settings = Settings(database_url=url, environment="test", secret_key="b" * 40, scheduler=False).validated()
    runtime = build_runtime(settings, WIRINGS, clock=ManualClock(NOW))
    await migrate.upgrade(runtime.engine)
    await create_bench_tables(runtime.engine)
    counters = [{"name": f"Counter {i}", "services": ["a", "b"]} for i in range(3)]
    config = make_config(counters=counters, horizon_days=count // 16 * 7 // 5 + 14)
    await run_unit(runtime, lambda s: load_config(s, catalog=runtime.get(Catalog), config=config, now=NOW))
    return runtime


async def _measure(runtime: Runtime, count: int) -> dict[str, Any]:
    statements: list[str] = []

    def hook(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    ctx = booking_context(runtime)

    async def bare(session: AsyncSession) -> None:
        session.add(BenchRow(note="bench", created_at=NOW))
        await session.flush()

    def book(start: datetime, i: int) -> Callable[[AsyncSession], Awaitable[Any]]:
        request = bookings.BookingRequest(
            office="amt", services=["a"], start=start, name="Bench", email=f"b{i}@example.org"
        )
        return lambda s: bookings.book(s, ctx=ctx, request=request, idempotency_key=None, now=NOW)

    cpu: dict[str, list[float]] = {"booking": [], "insert": []}
    sent: dict[str, list[str]] = {}
    event.listen(runtime.engine.sync_engine, "before_cursor_execute", hook)
    try:
        for i, start in enumerate(_starts(count)):
            for label, work in (("booking", book(start, i)), ("insert", bare)):
                statements.clear()
                began = time.process_time()
                await run_unit(runtime, work)
                cpu[label].append(time.process_time() - began)
                sent[label] = [" ".join(s.split())[:50] for s in statements]
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", hook)
    booking_ms = 1000 * statistics.median(cpu["booking"])
    insert_ms = 1000 * statistics.median(cpu["insert"])
    return {
        "count": count,
        "booking_cpu_ms": round(booking_ms, 3),
        "insert_cpu_ms": round(insert_ms, 3),
        "insert/booking cpu": round(insert_ms / booking_ms, 3),
        "booking_statements": sent["booking"],  # those of the last booking (all were alike) and bare INSERT
        "insert_statements": sent["insert"],
    }


async def _pg_database(name: str) -> str:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _drop(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def measure(kind: str, count: int) -> dict[str, Any]:
    """CPU and statements per booking and per bare INSERT on a fresh database of `kind` (sqlite, postgres)."""
    with tempfile.TemporaryDirectory() as folder:
        name = f"rathaus_bench_inprocess_{Path(folder).name.lower()}"
        url = await _pg_database(name) if kind == "postgres" else f"sqlite+aiosqlite:///{folder}/inprocess.db"
        try:
            runtime = await _runtime(url, count)
            try:
                return {"kind": kind, **await _measure(runtime, count)}
            finally:
                await runtime.dispose()
        finally:
            if kind == "postgres":
                await _drop(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(json.dumps([asyncio.run(measure(k, args.count)) for k in kinds], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
