"""Booking creation against a bare ORM INSERT in process (no server): CPU time and SQL statements each.

    .venv/bin/python -m bench.booking_inprocess --db sqlite|postgres|both [--count N] [--http] [--rows-apart]

One office with three counters (the test factory's), bookings of one 15-minute service at distinct starts, one
after the other, each its own transaction as a request would run it; after each booking one bare INSERT of the
benchmark's baseline row. Reported: the median CPU time (`time.process_time`: less sensitive to other people's load
than wall time) and the statements each sends: on PostgreSQL a cursor hook sees them; on SQLite sqlite3's own trace
(the booking's INSERTs run past SQLAlchemy's cursor), where BEGIN counts and COMMIT and the pool's ROLLBACK do not;
on SQLite also the hand-overs to aiosqlite's thread (each one a turn of the event loop). On PostgreSQL also the CPU
of the server processes behind the engine, and app and database together: under load both share this machine's
cores, so the HTTP ratio follows the sum.
`booking_bench` runs it for each database beside the HTTP rounds.

`--http` calls the app as an ASGI app instead (`POST /api/v1/bookings` against the benchmark server's
`POST /bench/insert`, the bodies `booking_bench` sends, rate limits and proof of work off, test settings): the whole
request path in process. `--rows-apart` lets notify write its outbox rows with its own INSERT after the booking's
statement, as before they were handed to the booking's statement (to measure that step alone).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from litestar import Litestar
from litestar.types import Message
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.inprocess import DatabaseCpu, Waits
from bench.server import BenchRow, bare_insert, create_bench_tables
from rathaus import migrate
from rathaus.app import create_app
from rathaus.booking import service as bookings
from rathaus.booking.deps import booking_context
from rathaus.booking.events import CreationProbes
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog
from rathaus.packages import WIRINGS
from rathaus.runtime import Runtime, build_runtime
from rathaus.settings import Settings
from rathaus.web import runtime_of
from tests.factories import make_config

NOW = datetime(2027, 1, 11, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# Test settings; no rate limit and no proof of work for the HTTP calls, as in booking_bench (wrk solves none).
SETTINGS: dict[str, Any] = {
    "environment": "test",
    "secret_key": "b" * 40,
    "scheduler": False,
    "log_level": "WARNING",
    "altcha": False,
    "booking_rate_limit_per_minute": 0,
}


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
    settings = Settings(database_url=url, **SETTINGS).validated()
    runtime = build_runtime(settings, WIRINGS, clock=ManualClock(NOW))
    await migrate.upgrade(runtime.engine)
    await create_bench_tables(runtime.engine)
    counters = [{"name": f"Counter {i}", "services": ["a", "b"]} for i in range(3)]
    config = make_config(counters=counters, horizon_days=count // 16 * 7 // 5 + 14)
    await run_unit(runtime, lambda s: load_config(s, catalog=runtime.get(Catalog), config=config, now=NOW))
    return runtime


class Recorder:
    """The statements one unit of work sends (see the module's doc) and, on SQLite, its hand-overs to aiosqlite's
    thread. Counting is on only inside `recording()`; the SQLite trace is set on every new connection, so the
    engine's pool is emptied once to start."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine, self.sqlite = engine, engine.dialect.name == "sqlite"
        self.statements: list[str] = []
        self.hand_overs = 0
        self.on = False
        # On PostgreSQL the server's processes do part of the work: their CPU counts beside the app's.
        self.database = None if self.sqlite else DatabaseCpu(engine)

    async def start(self) -> None:
        if self.sqlite:
            event.listen(self.engine.sync_engine, "connect", self._trace_new)
        else:
            event.listen(self.engine.sync_engine, "before_cursor_execute", self._cursor)
        await self.engine.dispose()  # connections made from now on are traced (SQLite) or their server known

    def database_seconds(self) -> float:
        return 0.0 if self.database is None else self.database.seconds()

    def _note(self, statement: str) -> None:
        if self.on and not statement.startswith(("COMMIT", "ROLLBACK")):
            self.statements.append(" ".join(statement.split())[:50])

    def _cursor(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self._note(statement)

    def _trace_new(self, dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.await_(record.driver_connection.set_trace_callback(self._note))

    @contextmanager
    def recording(self) -> Iterator[None]:
        self.statements, self.on = [], True
        counted = Waits("sqlite")
        try:
            with counted.counting():
                yield
        finally:
            self.hand_overs = counted.count
            self.on = False

    def seen(self) -> dict[str, Any]:
        return {"statements": self.statements, **({"hand_overs": self.hand_overs} if self.sqlite else {})}


Work = Callable[[], Awaitable[Any]]


async def _compare(recorder: Recorder, units: list[tuple[Work, Work]]) -> dict[str, Any]:
    """CPU of each (booking, bare INSERT) pair, one after the other; the last pair is recorded, untimed."""
    cpu: dict[str, list[float]] = {"booking": [], "insert": []}
    database: dict[str, list[float]] = {"booking": [], "insert": []}
    for booking, insert in units[:-1]:
        for label, work in (("booking", booking), ("insert", insert)):
            began, began_database = time.process_time(), recorder.database_seconds()
            await work()
            cpu[label].append(time.process_time() - began)
            database[label].append(recorder.database_seconds() - began_database)
    seen = {}
    for label, work in zip(("booking", "insert"), units[-1], strict=True):
        with recorder.recording():
            await work()
        seen[label] = recorder.seen()
    booking_ms = 1000 * statistics.median(cpu["booking"])
    insert_ms = 1000 * statistics.median(cpu["insert"])
    both = {
        f"{label}_cpu_with_database_ms": round(
            1000 * statistics.median(map(sum, zip(cpu[label], database[label], strict=True))), 3
        )
        for label in ("booking", "insert")
    }
    with_database = (
        {
            "booking_database_cpu_ms": round(1000 * statistics.median(database["booking"]), 3),
            "insert_database_cpu_ms": round(1000 * statistics.median(database["insert"]), 3),
            **both,
            "insert/booking cpu with the database": round(
                both["insert_cpu_with_database_ms"] / both["booking_cpu_with_database_ms"], 3
            ),
        }
        if recorder.database is not None
        else {}
    )
    return {
        "count": len(units) - 1,
        "booking_cpu_ms": round(booking_ms, 3),
        "insert_cpu_ms": round(insert_ms, 3),
        "insert/booking cpu": round(insert_ms / booking_ms, 3),
        **with_database,
        "booking": seen["booking"],  # statements (and hand-overs) of one booking (all were alike) and bare INSERT
        "insert": seen["insert"],
    }


async def _measure(runtime: Runtime, count: int) -> dict[str, Any]:
    ctx = booking_context(runtime)
    recorder = Recorder(runtime.engine)
    await recorder.start()

    async def bare(session: AsyncSession) -> None:
        session.add(BenchRow(note="bench", created_at=NOW))
        await session.flush()

    def book(start: datetime, i: int) -> Callable[[AsyncSession], Awaitable[Any]]:
        request = bookings.BookingRequest(
            office="amt", services=["a"], start=start, name="Bench", email=f"b{i}@example.org"
        )
        return lambda s: bookings.book(s, ctx=ctx, request=request, idempotency_key=None, now=NOW)

    def unit(work: Callable[[AsyncSession], Awaitable[Any]]) -> Work:
        return lambda: run_unit(runtime, work)

    return await _compare(recorder, [(unit(book(start, i)), unit(bare)) for i, start in enumerate(_starts(count + 1))])


class _Post:
    """A POST of a JSON body through the ASGI app, as uvicorn would pass it; any answer but 200/201 stops the run."""

    def __init__(self, app: Litestar, path: str, body: bytes) -> None:
        self.app, self.body, self.status = app, body, 0
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and self.status not in {200, 201}:
            raise RuntimeError(f"{self.scope['path']} answered {self.status}: {message['body'][:300]!r}")

    async def __call__(self) -> None:
        await self.app({**self.scope, "state": {}}, self.receive, self.send)  # type: ignore[arg-type]


async def _measure_http(settings: Settings, count: int) -> dict[str, Any]:
    app = create_app(settings, clock=ManualClock(NOW))
    app.register(bare_insert)
    async with app.lifespan():
        recorder = Recorder(runtime_of(app.state).engine)
        await recorder.start()
        insert = _Post(app, "/bench/insert", b"{}")
        body = {"office": "amt", "services": ["a"], "name": "Erika Mustermann", "email": "erika@example.org"}
        return await _compare(
            recorder,
            [
                (_Post(app, "/api/v1/bookings", json.dumps({**body, "start": start.isoformat()}).encode()), insert)
                for start in _starts(count + 1)
            ],
        )


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


async def measure(kind: str, count: int, *, http: bool = False, rows_apart: bool = False) -> dict[str, Any]:
    """CPU and statements per booking and per bare INSERT on a fresh database of `kind` (sqlite, postgres)."""
    with tempfile.TemporaryDirectory() as folder:
        name = f"rathaus_bench_inprocess_{Path(folder).name.lower()}"
        url = await _pg_database(name) if kind == "postgres" else f"sqlite+aiosqlite:///{folder}/inprocess.db"
        try:
            if rows_apart:
                _rows_apart()
            runtime = await _runtime(url, count)
            try:
                measured = await (_measure_http(runtime.settings, count) if http else _measure(runtime, count))
            finally:
                await runtime.dispose()
            return {"kind": kind, "http": http, "rows_apart": rows_apart, **measured}
        finally:
            if kind == "postgres":
                await _drop(name)


def _rows_apart() -> None:
    """Every runtime built from now on lets notify write its rows itself, after the booking's statement."""
    original = CreationProbes.add_rows
    CreationProbes.add_rows = lambda self, builder: None  # type: ignore[method-assign]
    atexit.register(setattr, CreationProbes, "add_rows", original)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--http", action="store_true", help="the whole request path, through the ASGI app")
    parser.add_argument("--rows-apart", action="store_true", help="notify writes its outbox rows itself")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    found = [asyncio.run(measure(k, args.count, http=args.http, rows_apart=args.rows_apart)) for k in kinds]
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
