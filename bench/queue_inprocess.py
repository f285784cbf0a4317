"""The queue benchmark's day in process: CPU time and SQL statements per counter turn with N live streams.

    .venv/bin/python -m bench.queue_inprocess [--db sqlite|postgres] [--clients 200] [--turns 120] [--concurrent]

The app (`create_app`, lifespan included) runs on this process's event loop; requests go through httpx's ASGI
transport and the streams are ASGI calls whose `send` only counts what arrives, so nothing here is a socket: what is
measured is the app's own Python (and aiosqlite's threads), not uvicorn's writes. The office and the day are
`queue_bench`'s: 100 early appointments and 50 walk-ins wait, half the clients watch the board, half the ticket
pages of the early appointments. A turn is one counter's walk-in, complete and call-next, then a wait until every
stream has received what the turn changed. Reported per turn (the first 10 dropped): CPU time of the process
(`time.process_time`; also by step: walk-in, complete, call-next, the streams' updates after the last answer),
statements (a cursor hook on both engines; BEGIN counts, COMMIT does not; statements run in one call on aiosqlite's
thread past SQLAlchemy are not seen), waits for the database (`bench.inprocess.Waits`: hand-overs to aiosqlite's
thread, round trips to PostgreSQL; each a turn of the event loop; also by step), stream updates, and the median
call-next latency. The CPU includes the client's side (httpx),
the same in every run.

With `--concurrent` the turns are `queue_bench`'s instead: the 8 counters at once, each turn every 0.8 s (10 calls/s),
so that changes of several counters fall into one read and the writers meet at SQLite's write lock. Reported over
the whole run: CPU, statements, waits and stream updates per turn, call-next and walk-in latency in process,
the time each transaction's BEGIN took to return (a writer's BEGIN IMMEDIATE waits there for the write lock; a
reader's plain BEGIN is one thread hop, the comparison; the counters' and the desk's writes send theirs on aiosqlite's
thread with their statements, where the hook does not see it), and the event loop's lag: how late a task sleeping 1 ms
is woken, i.e. how long a request ready to go on waits behind whatever runs on the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar

from bench.booking_inprocess import _drop, _pg_database
from bench.inprocess import LoopLag, Statements, Waits, http_scope
from bench.queue_bench import NOW, PASSWORD, Day, Plan, office_toml, percentile, prepare, run_counters
from rathaus.app import create_app
from rathaus.clock import ManualClock
from rathaus.settings import Settings
from rathaus.web import runtime_of

WARM_UP = 10


class Stream:
    """One open event stream, as a browser's EventSource holds it."""

    def __init__(self) -> None:
        self.updates = 0
        self.shown = asyncio.Event()  # the first view has arrived
        self._gone = asyncio.Event()

    async def run(self, app: Litestar, path: str) -> None:
        scope = http_scope(path, host="bench")
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and b"event: update" in message.get("body", b""):
                self.updates += 1
                self.shown.set()

        await app(scope, receive, send)  # type: ignore[arg-type]

    def close(self) -> None:
        self._gone.set()


async def settled(streams: list[Stream]) -> None:
    """Wait until no stream has received anything for two looks 30 ms apart (longer than the hub's settle time)."""
    quiet, last = 0, -1
    while quiet < 2:
        await asyncio.sleep(0.03)
        total = sum(s.updates for s in streams)
        quiet = quiet + 1 if total == last else 0
        last = total


async def run(url: str, clients: int, turns: int, concurrent: bool = False) -> dict[str, Any]:
    plan = Plan.full()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "office.toml"
        config.write_text(office_toml(plan))
        await prepare(url, config)
    settings = Settings(
        database_url=url,
        environment="test",
        secret_key="b" * 40,
        scheduler=False,
        altcha=False,
        booking_rate_limit_per_minute=0,
        lookup_rate_limit_per_minute=0,
        availability_rate_limit_per_minute=0,
    ).validated()
    app = create_app(settings, clock=ManualClock(NOW))
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=60) as client,
    ):
        token = (await client.post("/api/v1/auth/token", json={"username": "desk", "password": PASSWORD})).json()
        day = Day(client, token["token"], plan)
        tickets = await day.issue_tickets()
        early = tickets[plan.appointments - clients // 2 : plan.appointments] if clients else []
        paths = [f"/api/v1/tickets/{t['public_id']}/events" for t in early]
        paths += ["/api/v1/offices/amt/board/events"] * (clients - len(paths))
        streams = [Stream() for _ in paths]
        tasks = [asyncio.create_task(s.run(app, p)) for s, p in zip(streams, paths, strict=True)]
        await asyncio.gather(*(s.shown.wait() for s in streams))
        await settled(streams)
        runtime = runtime_of(app.state)
        counts = Counts(Statements([runtime.engine, runtime.read_engine]), Waits(runtime.engine.dialect.name))
        measure = _concurrent_turns if concurrent else _turns_one_by_one
        with counts.waits.counting():
            found = await measure(day, streams, counts, turns)
        for s in streams:
            s.close()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"clients": clients, **found}


class Counts:
    """The statements sent through the engines, and the waits for the database (`Waits`)."""

    def __init__(self, statements: Statements, waits: Waits) -> None:
        self.statements = statements
        self.waits = waits

    def now(self) -> tuple[int, int]:
        return self.statements.count, self.waits.count


async def _turns_one_by_one(day: Day, streams: list[Stream], counts: Counts, turns: int) -> dict[str, Any]:
    """Each turn alone: the CPU, statements and waits of each request kind (and of the streams' updates after
    the last answer)."""
    steps = ("walk_in", "complete", "call_next", "stream_updates")
    cpu: dict[str, list[float]] = {step: [] for step in (*steps, "turn")}
    by_step: dict[str, list[tuple[int, int]]] = {step: [] for step in steps}
    updates: list[int] = []
    calls: list[float] = []
    for i in range(turns):
        counter = f"Schalter {i % day.plan.counters + 1}"
        began_updates = sum(s.updates for s in streams)
        marks = [(time.process_time(), counts.now())]
        await day.walk_in(i)
        marks.append((time.process_time(), counts.now()))
        if counter in day.open_calls:
            await day.post(f"/api/v1/tickets/{day.open_calls.pop(counter)}/complete")
        marks.append((time.process_time(), counts.now()))
        await day.call_and_complete(counter, calls)
        marks.append((time.process_time(), counts.now()))
        await settled(streams)
        marks.append((time.process_time(), counts.now()))
        for step, began, ended in zip(steps, marks, marks[1:], strict=False):
            cpu[step].append(ended[0] - began[0])
            by_step[step].append((ended[1][0] - began[1][0], ended[1][1] - began[1][1]))
        cpu["turn"].append(marks[-1][0] - marks[0][0])
        updates.append(sum(s.updates for s in streams) - began_updates)
    median = {step: round(statistics.median(values[WARM_UP:]) * 1000, 2) for step, values in cpu.items()}
    counted = {step: [sum(pair) for pair in zip(*values[WARM_UP:], strict=True)] for step, values in by_step.items()}
    return {
        "turns": turns - WARM_UP,
        "cpu_ms_per_turn": median.pop("turn"),
        "cpu_ms_per_turn_mean": round(statistics.fmean(cpu["turn"][WARM_UP:]) * 1000, 2),
        "cpu_ms_by_step": median,
        "statements_per_turn": round(sum(n for n, _ in counted.values()) / (turns - WARM_UP), 2),
        "statements_waits_by_step": {
            step: [round(n / (turns - WARM_UP), 2) for n in totals] for step, totals in counted.items()
        },
        "stream_updates_per_turn": statistics.median(updates[WARM_UP:]),
        "call_next_median_ms": round(statistics.median(calls[WARM_UP:]) * 1000, 2),
    }


async def _concurrent_turns(day: Day, streams: list[Stream], counts: Counts, turns: int) -> dict[str, Any]:
    """The counters at `queue_bench`'s pace (8 counters, a walk-in before each call, 10 calls/s), all at once: CPU,
    statements and waits per turn over the whole run, how long each transaction's BEGIN waited, and how late
    the event loop came back to a task ready to go on (its lag)."""
    warm: list[float] = []
    await run_counters(day, WARM_UP, day.plan.interval, warm, [])
    statements = counts.statements
    statements.begins.clear()
    began_cpu, began_counts, began_updates = time.process_time(), counts.now(), sum(s.updates for s in streams)
    calls: list[float] = []
    walk_ins: list[float] = []
    lag = LoopLag()
    lag.start()
    await run_counters(day, turns, day.plan.interval, calls, walk_ins)
    loop_lag = await lag.stop()
    await settled(streams)
    ended = counts.now()
    return {
        "turns": turns,
        "concurrent": True,
        "cpu_ms_per_turn": round((time.process_time() - began_cpu) / turns * 1000, 2),
        "statements_per_turn": round((ended[0] - began_counts[0]) / turns, 2),
        "waits_per_turn": round((ended[1] - began_counts[1]) / turns, 2),
        "loop_lag": loop_lag,
        "stream_updates_per_turn": round((sum(s.updates for s in streams) - began_updates) / turns, 1),
        "call_next_p50_p99_ms": [round(percentile(calls, share) * 1000, 2) for share in (0.5, 0.99)],
        "walk_in_p50_p99_ms": [round(percentile(walk_ins, share) * 1000, 2) for share in (0.5, 0.99)],
        "begin_wait": statements.begin_waits(),
    }


async def _with_database(db: str, work: Callable[[str], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        if db == "sqlite":
            return await work(f"sqlite+aiosqlite:///{tmp}/queue.db")
        name = f"rathaus_bench_queue_{Path(tmp).name.lower()}"
        try:
            return await work(await _pg_database(name))
        finally:
            await _drop(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument("--concurrent", action="store_true", help="the 8 counters at once, at queue_bench's pace")
    args = parser.parse_args(argv)
    result = asyncio.run(_with_database(args.db, lambda url: run(url, args.clients, args.turns, args.concurrent)))
    print(json.dumps({"db": args.db, **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
