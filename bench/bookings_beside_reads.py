"""Bookings beside many cached readers, in process (issue 15 item 3): do the bookings still commit, and where do
they wait?

    .venv/bin/python -m bench.bookings_beside_reads [--db sqlite|postgres] [--readers N] [--bookers M] [--seconds S]

The database of `availability_bench` (40 offices, bench/population.py); the app built as the benchmark server runs
it (production settings, rate limits and proofs of work off, the real clock, 1 s cache setting), its lifespan run,
called as an ASGI app on uvloop (as uvicorn runs it). `--readers` tasks ask for the availability of one day in a
loop (answered from memory, yielding once between requests as a socket read would), beside `--bookers` tasks that
book distinct starts of that office through the booking API, for `--seconds` seconds; beside that the readers
alone and the bookers alone, for as long. `--per-turn 1000000000,2` runs the readers beside the bookers once per
admission limit of `rathaus.writes_first` (SQLite), so a limit that admits every read stands for none, in the
same run.

Reported per phase: reads and bookings per second and their latency (p50 / p99), CPU per request, and for
SQLite what a booking waits for: how long each write transaction holds the write lock (`BEGIN IMMEDIATE` to
commit) and, per hop to aiosqlite's thread, the wait until the thread starts the statement, the statement itself,
and the wait from its end until the caller runs again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import uvloop
from sqlalchemy import event

from bench.availability_bench import burst_starts, measured_days
from bench.availability_inprocess import NO_LIMITS, Caller, production_settings
from bench.booking_bench import BOOKED_SERVICE, Plan, availability_path, create_databases
from bench.population import MEASURED_OFFICE
from rathaus.app import create_app
from rathaus.web import runtime_of
from rathaus.writes_first import ReadAdmission


class Poster(Caller):
    """POSTs of a JSON body through the ASGI app; keeps the status."""

    def __init__(self, app: Any, path: str) -> None:
        super().__init__(app, path)
        self.scope = {**self.scope, "method": "POST"}
        self.scope["headers"] = [*self.scope["headers"], (b"content-type", b"application/json")]
        self.payload, self.status = b"", 0

    async def receive(self) -> Any:
        return {"type": "http.request", "body": self.payload, "more_body": False}

    async def send(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]


class Hops:
    """Times of every statement sent to aiosqlite's thread: queued → started, started → ended, ended → resumed."""

    def __init__(self) -> None:
        self.waits: dict[str, list[float]] = {"to_thread": [], "in_thread": [], "back": []}
        self._original = aiosqlite.Connection._execute

    def __enter__(self) -> Hops:
        original, waits = self._original, self.waits

        async def timed(connection: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            marks: list[float] = [time.perf_counter()]

            def run() -> Any:
                marks.append(time.perf_counter())
                try:
                    return fn(*args, **kwargs)
                finally:
                    marks.append(time.perf_counter())

            result = await original(connection, run)
            back = time.perf_counter()
            if len(marks) == 3:
                waits["to_thread"].append(marks[1] - marks[0])
                waits["in_thread"].append(marks[2] - marks[1])
                waits["back"].append(back - marks[2])
            return result

        aiosqlite.Connection._execute = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        aiosqlite.Connection._execute = self._original  # type: ignore[method-assign]


def _ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(ordered[len(ordered) // 2] * 1e3, 2),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1e3, 2),
    }


async def _loop(call: Callable[[], Awaitable[None]], until: float, latencies: list[float]) -> None:
    while time.perf_counter() < until:
        began = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - began)
        await asyncio.sleep(0)  # the next request arrives through the socket


async def phase(
    app: Any, path: str, bodies: list[bytes], *, readers: int, bookers: int, seconds: float
) -> dict[str, Any]:
    """Readers and bookers side by side for `seconds`."""
    engine = runtime_of(app.state).engine
    holds: list[float] = []
    began_at: dict[int, float] = {}

    def on_begin(conn: Any) -> None:
        began_at[id(conn)] = time.perf_counter()

    def on_end(conn: Any) -> None:
        started = began_at.pop(id(conn), None)
        if started is not None:
            holds.append(time.perf_counter() - started)

    listeners = [("begin", on_begin), ("commit", on_end), ("rollback", on_end)]
    for name, listener in listeners:
        event.listen(engine.sync_engine, name, listener)
    statuses: dict[int, int] = {}
    read_ms: list[float] = []
    book_ms: list[float] = []
    path_only, _, query = path.partition("?")

    def booker() -> Callable[[], Awaitable[None]]:
        poster = Poster(app, "/api/v1/bookings/")

        async def book() -> None:
            poster.payload = bodies.pop()
            await poster()
            statuses[poster.status] = statuses.get(poster.status, 0) + 1

        return book

    until = time.perf_counter() + seconds
    cpu = time.process_time()
    with Hops() as hops:
        await asyncio.gather(
            *(_loop(Caller(app, path_only, query.encode()), until, read_ms) for _ in range(readers)),
            *(_loop(booker(), until, book_ms) for _ in range(bookers)),
        )
    cpu = time.process_time() - cpu
    for name, listener in listeners:
        event.remove(engine.sync_engine, name, listener)
    booked = statuses.get(201, 0)
    return {
        "readers": readers,
        "bookers": bookers,
        "reads_per_s": round(len(read_ms) / seconds, 1),
        "read_ms": _ms(read_ms),
        "bookings_per_s": round(booked / seconds, 1),
        "statuses": statuses,
        "booking_ms": _ms(book_ms),
        "cpu_us_per_request": round(cpu / max(1, len(read_ms) + len(book_ms)) * 1e6, 1),
        "write_lock_held_ms": _ms(holds),
        "hops_per_booking": round(len(hops.waits["to_thread"]) / max(1, len(book_ms)), 1),
        "hop_ms": {name: _ms(values) for name, values in hops.waits.items()},
    }


async def run(url: str, path: str, starts: tuple[str, ...], args: argparse.Namespace) -> list[dict[str, Any]]:
    settings = production_settings(url, altcha=False, **NO_LIMITS)
    bodies = [
        json.dumps(
            {
                "office": MEASURED_OFFICE,
                "services": [BOOKED_SERVICE],
                "start": start,
                "name": "Erika Mustermann",
                "email": "erika@example.org",
                "language": "de",
            }
        ).encode()
        for start in reversed(starts)
    ]
    app = create_app(settings)
    admission = runtime_of(app.state).components.get(ReadAdmission)
    # Each round: readers alone, then beside the bookers once per admission limit asked for, then the bookers
    # alone (the order alternating between rounds).
    limits: list[int | None] = [int(n) for n in args.per_turn.split(",")] if args.per_turn else [None]
    phases = [("reads", args.readers, 0, None)]
    phases += [("both", args.readers, args.bookers, limit) for limit in limits]
    phases += [("bookings", 0, args.bookers, None)]
    found = []
    async with app.lifespan():
        for r in range(args.rounds):
            for label, readers, bookers, limit in phases[:: 1 if r % 2 == 0 else -1]:
                if limit and isinstance(admission, ReadAdmission):
                    admission.per_turn = limit
                result = await phase(app, path, bodies, readers=readers, bookers=bookers, seconds=args.seconds)
                found.append({"phase": label, "per_turn": limit, **result})
                print(json.dumps(found[-1]), flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--readers", type=int, default=64)
    parser.add_argument("--bookers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--offices", type=int, default=40)
    parser.add_argument(
        "--per-turn", help="reads admitted per loop turn while writes run (SQLite); several, comma-separated"
    )
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval (seconds) for this run")
    args = parser.parse_args(argv)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    now = datetime.now(UTC)
    plan = Plan(
        rounds=1, duration=args.seconds, connections=args.readers, threads=1, offices=args.offices, bookings=0, warmup=0
    )
    with tempfile.TemporaryDirectory() as directory:
        dbs, snapshot, _ = create_databases(args.db, Path(directory), plan, now)
        try:
            day = measured_days(snapshot, now, 1)[0]
            # On uvloop, as uvicorn serves the app: the pure-Python loop's cost per turn would count for the reads.
            found = uvloop.run(run(dbs.base_url, availability_path(day), burst_starts(snapshot, now, day), args))
        finally:
            for undo in dbs.cleanup:
                undo()
    kinds = sorted({(r["phase"], r["per_turn"] or 0) for r in found})
    summary = {
        f"{phase} (per turn {limit}): {key}": statistics.median(
            r[key] for r in found if (r["phase"], r["per_turn"] or 0) == (phase, limit)
        )
        for phase, limit in kinds
        for key in ("reads_per_s", "bookings_per_s", "cpu_us_per_request")
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
