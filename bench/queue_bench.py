"""Queue benchmark (issue 3): a simulated office day with live boards and ticket pages.

    .venv/bin/python -m bench.queue_bench [--quick] [--db sqlite|postgres] [--output FILE]

8 counters work through a day of 600 tickets while 200 clients (100 boards, 100 ticket pages) hold event
streams open. At opening, 100 booked citizens have checked in early (their appointments are later in the day)
and 50 walk-ins wait; then the front desk issues a walk-in for every call, so the room stays about as full.
Measured, in interleaved rounds against the same server:
  * call-next latency (8 counters each pressing "complete" and "next" every 0.8 s, the desk issuing a walk-in
    before each call: the day at 600 times its real pace) vs hello-world (GET /health) from the same client at the
    same pace, with the 200 streams open;
  * fan-out: from the call-next answer until every one of the 200 clients has received the change.
The app runs under uvicorn in a subprocess with its clock frozen at Monday 08:00 (BENCH_NOW).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bench import feed_bench, sse_clients
from bench.booking_bench import ROOT, Server, start_server, stop_server, tree_cpu_seconds, wait_ready
from rathaus.offices import service as offices_service
from rathaus.staff import service as staff

NOW = datetime(2027, 1, 11, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
PASSWORD = "benchmark password 1234"


@dataclass(frozen=True)
class Plan:
    counters: int
    appointments: int
    walk_ins: int
    clients: int
    rounds: int
    calls_per_round: int
    fanout_samples: int
    interval: float  # seconds between two calls of one counter: 8 counters every 0.8 s = 10 calls/s

    @classmethod
    def full(cls) -> Plan:
        return cls(
            counters=8,
            appointments=100,
            walk_ins=50,
            clients=200,
            rounds=3,
            calls_per_round=150,
            fanout_samples=39,
            interval=0.8,
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            counters=2,
            appointments=10,
            walk_ins=8,
            clients=10,
            rounds=1,
            calls_per_round=10,
            fanout_samples=4,
            interval=0.05,
        )


def office_toml(plan: Plan) -> str:
    counters = "\n".join(
        f'[[offices.counters]]\nname = "Schalter {i}"\nservices = ["anmeldung", "ausweis"]\n'
        for i in range(1, plan.counters + 1)
    )
    hours = ", ".join(f'{day} = ["07:00-21:00"]' for day in ("mon", "tue", "wed", "thu", "fri"))
    return f"""
[[services]]
slug = "anmeldung"
name = {{ de = "Anmeldung", en = "Registration" }}
duration_minutes = 10

[[services]]
slug = "ausweis"
name = {{ de = "Personalausweis", en = "ID card" }}
duration_minutes = 20

[[offices]]
slug = "amt"
name = {{ de = "Bürgeramt", en = "Citizens' office" }}
slot_minutes = 10
lead_time_minutes = 0
hours = {{ {hours} }}
{counters}"""


async def prepare(url: str, config_path: Path) -> None:
    """The office and a desk account in a fresh database."""

    async def desk(session: AsyncSession) -> object:
        office_ids = await offices_service.office_ids(session, slugs=["amt"])
        return await staff.create_user(
            session, username="desk", password=PASSWORD, role="desk", office_ids=office_ids, now=NOW
        )

    await feed_bench.prepare(url, config_path, then=desk)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


class Day:
    def __init__(self, client: httpx.AsyncClient, token: str, plan: Plan) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.plan = plan
        self.open_calls: dict[str, int] = {}  # counter -> ticket id it has called

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        answer = await self.client.post(path, json=body or {}, headers=self.headers)
        if answer.status_code >= 400:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")
        return answer

    async def issue_tickets(self) -> list[dict[str, Any]]:
        tickets = []
        for i in range(self.plan.appointments):
            start = NOW + timedelta(minutes=10 * (1 + i // self.plan.counters))
            body = {
                "office": "amt",
                "services": ["anmeldung"],
                "start": start.isoformat(),
                "name": f"Person {i}",
                "email": f"person{i}@example.org",
            }
            code = (await self.client.post("/api/v1/bookings", json=body)).json()["code"]
            tickets.append((await self.post("/api/v1/offices/amt/queue/check-in", {"code": code})).json())
        for i in range(self.plan.walk_ins):
            tickets.append(await self.walk_in(i))
        return tickets

    async def walk_in(self, i: int, latencies: list[float] | None = None) -> dict[str, Any]:
        body = {"services": ["anmeldung"] if i % 3 else ["ausweis"], "override_note": "benchmark"}
        started = time.monotonic()
        ticket: dict[str, Any] = (await self.post("/api/v1/offices/amt/queue/walk-ins", body)).json()
        if latencies is not None:
            latencies.append(time.monotonic() - started)
        return ticket

    async def call_and_complete(self, counter: str, latencies: list[float]) -> str | None:
        """One turn of a counter: complete what it called before, call the next; the call is timed."""
        if counter in self.open_calls:
            await self.post(f"/api/v1/tickets/{self.open_calls.pop(counter)}/complete")
        started = time.monotonic()
        answer = await self.client.post(
            "/api/v1/offices/amt/queue/call-next", json={"counter": counter}, headers=self.headers
        )
        latencies.append(time.monotonic() - started)
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise RuntimeError(f"call-next: {answer.status_code} {answer.text}")
        self.open_calls[counter] = answer.json()["id"]
        return str(answer.json()["number"])


async def paced(workers: int, requests: int, interval: float, action: Callable[[int], Awaitable[None]]) -> None:
    """Open loop: each worker starts a request every `interval` seconds (or at once if it fell behind)."""
    remaining = [requests]

    async def worker(index: int) -> None:
        next_at = time.monotonic() + interval * index / workers  # spread the workers over one interval
        while remaining[0] > 0:
            remaining[0] -= 1
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            await action(index)

    await asyncio.gather(*(worker(i) for i in range(workers)))


async def run_counters(day: Day, calls: int, interval: float, latencies: list[float], issued: list[float]) -> None:
    """The counters call at their pace; before each call the desk issues one walk-in.

    The walk-in comes first in each turn, so the room never runs out of walk-ins, however slow either request is
    on a loaded machine: otherwise the counters would call the watched early appointments.
    """

    async def turn(index: int) -> None:
        await day.walk_in(len(issued), issued)
        await day.call_and_complete(f"Schalter {index + 1}", latencies)

    await paced(day.plan.counters, calls, interval, turn)


async def run_hello(
    client: httpx.AsyncClient, requests: int, workers: int, interval: float, latencies: list[float]
) -> None:
    async def hello(_index: int) -> None:
        started = time.monotonic()
        answer = await client.get("/health")
        latencies.append(time.monotonic() - started)
        assert answer.status_code == 200

    await paced(workers, requests, interval, hello)


class Streams:
    """The board and ticket-page clients, held open by a process of their own (bench.sse_clients)."""

    def __init__(self, url: str, streams: list[tuple[str, str]]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=sse_clients.run, args=(url, streams, child), daemon=True)
        self._process.start()

    async def answer(self, wait_seconds: float = 60) -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, self._pipe.poll, wait_seconds)
        if not ready:
            raise RuntimeError("the stream clients did not answer")
        reply: tuple[Any, ...] = self._pipe.recv()
        if reply[0] == "error":
            raise RuntimeError(f"stream clients: {reply[1]}")
        return reply

    async def fan_out(self, day: Day) -> float:
        """Seconds from a call-next answer until every client has the change."""
        self._pipe.send(("mark",))
        await self.answer()
        number = await day.call_and_complete("Schalter 1", [])
        answered = time.monotonic()
        self._pipe.send(("wait", number, 10.0))
        _, last = await self.answer()
        return float(last) - answered

    def stop(self) -> None:
        self._pipe.send(("stop",))
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()


async def play(server: Server, plan: Plan) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=plan.clients + plan.counters + 8, max_keepalive_connections=plan.counters + 8)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
        token = (await client.post("/api/v1/auth/token", json={"username": "desk", "password": PASSWORD})).json()[
            "token"
        ]
        day = Day(client, token, plan)
        issued_at = time.monotonic()
        tickets = await day.issue_tickets()
        issue_seconds = time.monotonic() - issued_at
        # Ticket pages of early appointments: they wait behind every walk-in, and each call moves them up.
        early = tickets[plan.appointments - plan.clients // 2 : plan.appointments]
        pages = [("ticket", f"/api/v1/tickets/{t['public_id']}/events") for t in early]
        boards = [("board", "/api/v1/offices/amt/board/events")] * (plan.clients - len(pages))
        streams = Streams(server.url, boards + pages)
        await streams.answer()
        calls: list[list[float]] = []
        hello: list[list[float]] = []
        fan_out: list[float] = []
        issued: list[float] = []
        # Server CPU per turn of a phase: a counter's complete and call, the desk's walk-in and the 200 clients'
        # updates they cause; or one hello-world request.
        cpu_ms: dict[str, list[float]] = {"calls": [], "hello": []}
        for round_number in range(plan.rounds):
            order = ["calls", "hello"] if round_number % 2 == 0 else ["hello", "calls"]
            for phase in order:
                began = tree_cpu_seconds(server.process.pid)
                if phase == "calls":
                    calls.append([])
                    await run_counters(day, plan.calls_per_round, plan.interval, calls[-1], issued)
                else:
                    hello.append([])
                    await run_hello(client, plan.calls_per_round, plan.counters, plan.interval, hello[-1])
                cpu_ms[phase].append((tree_cpu_seconds(server.process.pid) - began) / plan.calls_per_round * 1000)
            for counter in list(day.open_calls):
                await day.post(f"/api/v1/tickets/{day.open_calls.pop(counter)}/complete")
            for _ in range(plan.fanout_samples // plan.rounds or 1):
                fan_out.append(await streams.fan_out(day))
        streams.stop()
    all_calls = [x for r in calls for x in r]
    all_hello = [x for r in hello for x in r]
    return {
        "tickets": len(tickets) + len(issued),
        "walk_in": summary(issued),
        "issue_seconds": round(issue_seconds, 2),
        "clients": plan.clients,
        "call_next": summary(all_calls),
        "hello_world": summary(all_hello),
        "fan_out": summary(fan_out),
        "server_cpu_ms_per_turn": {k: [round(v, 2) for v in values] for k, values in cpu_ms.items()},
        "per_round_p99_ratio": [
            round(percentile(c, 0.99) / percentile(h, 0.99), 2) for c, h in zip(calls, hello, strict=True)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny day (smoke test)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan.full()
    # Walk-ins must never run out, or the watched early appointments would be called.
    assert plan.fanout_samples < plan.walk_ins and plan.clients // 2 <= plan.appointments
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        config = tmp / "office.toml"
        config.write_text(office_toml(plan), encoding="utf-8")
        if args.db == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp / 'queue.db'}"
        else:
            from bench.booking_bench import _pg_admin, _pg_url

            name = f"rathaus_queue_bench_{int(time.time())}"
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
            url = _pg_url(name)
        try:
            asyncio.run(prepare(url, config))
            server = start_server("queue", url, tmp, slot_cache=True, extra={"BENCH_NOW": NOW.isoformat()})
            try:
                wait_ready(server)
                result = asyncio.run(play(server, plan))
            except BaseException:
                print(f"server log (last lines):\n{server.log.read_text()[-6000:]}")
                raise
            finally:
                stop_server(server)
        finally:
            if args.db == "postgres":
                asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    calls, hello, fan = result["call_next"], result["hello_world"], result["fan_out"]
    result["ratios"] = {
        "call-next p50 / hello-world p50": round(calls["p50_ms"] / hello["p50_ms"], 2),
        "walk-in p99 / hello-world p99": round(result["walk_in"]["p99_ms"] / hello["p99_ms"], 2),
        "call-next p99 / hello-world p99 (goal <= 3)": round(calls["p99_ms"] / hello["p99_ms"], 2),
        "fan-out p99 / hello-world p99": round(fan["p99_ms"] / hello["p99_ms"], 2),
    }
    print(f"\n{args.db}: {result['tickets']} tickets issued in {result['issue_seconds']} s, {plan.clients} clients")
    for label in ("call_next", "walk_in", "hello_world", "fan_out"):
        numbers = result[label]
        print(
            f"  {label:<12} n={numbers['count']:<5} p50 {numbers['p50_ms']:>8.2f} ms  p99 {numbers['p99_ms']:>8.2f} ms"
        )
    for name_, value in result["ratios"].items():
        print(f"  {name_:<45} {value}")
    print(f"  per-round call-next/hello p99: {result['per_round_p99_ratio']}")
    print(f"  server CPU ms per turn (per round): {result['server_cpu_ms_per_turn']}")
    output = args.output or (ROOT / "bench" / "results" / f"queue-{args.db}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
