"""The queue benchmark's day in process: CPU time and SQL statements per counter turn with N live streams.

    .venv/bin/python -m bench.queue_inprocess [--db sqlite|postgres] [--clients 200] [--turns 120]

The app (`create_app`, lifespan included) runs on this process's event loop; requests go through httpx's ASGI
transport and the streams are ASGI calls whose `send` only counts what arrives, so nothing here is a socket: what is
measured is the app's own Python (and aiosqlite's threads), not uvicorn's writes. The office and the day are
`queue_bench`'s: 100 early appointments and 50 walk-ins wait, half the clients watch the board, half the ticket
pages of the early appointments. A turn is one counter's walk-in, complete and call-next, then a wait until every
stream has received what the turn changed. Reported per turn (the first 10 dropped): CPU time of the process
(`time.process_time`), statements (a cursor hook on both engines; BEGIN counts, COMMIT does not), stream updates,
and the median call-next latency.
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
from sqlalchemy import event

from bench.booking_inprocess import _drop, _pg_database
from bench.queue_bench import NOW, PASSWORD, Day, Plan, office_toml, prepare
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
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"bench")],
            "client": ("127.0.0.1", 40000),
            "server": ("bench", 80),
        }
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


def _counting(app: Litestar) -> Callable[[], int]:
    runtime = runtime_of(app.state)
    seen = [0]

    def count(*_args: object) -> None:
        seen[0] += 1

    for engine in {runtime.engine, runtime.read_engine}:
        event.listen(engine.sync_engine, "before_cursor_execute", count)
    return lambda: seen[0]


async def run(url: str, clients: int, turns: int) -> dict[str, Any]:
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
        statements = _counting(app)
        cpu: list[float] = []
        counted: list[int] = []
        updates: list[int] = []
        calls: list[float] = []
        for i in range(turns):
            began_cpu, began_statements = time.process_time(), statements()
            began_updates = sum(s.updates for s in streams)
            await day.walk_in(i)
            await day.call_and_complete(f"Schalter {i % plan.counters + 1}", calls)
            await settled(streams)
            cpu.append(time.process_time() - began_cpu)
            counted.append(statements() - began_statements)
            updates.append(sum(s.updates for s in streams) - began_updates)
        for s in streams:
            s.close()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": clients,
        "turns": turns - WARM_UP,
        "cpu_ms_per_turn": round(statistics.median(cpu[WARM_UP:]) * 1000, 2),
        "cpu_ms_per_turn_mean": round(statistics.fmean(cpu[WARM_UP:]) * 1000, 2),
        "statements_per_turn": statistics.median(counted[WARM_UP:]),
        "stream_updates_per_turn": statistics.median(updates[WARM_UP:]),
        "call_next_median_ms": round(statistics.median(calls[WARM_UP:]) * 1000, 2),
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
    args = parser.parse_args(argv)
    result = asyncio.run(_with_database(args.db, lambda url: run(url, args.clients, args.turns)))
    print(json.dumps({"db": args.db, **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
