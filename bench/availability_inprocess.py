"""CPU per availability request in process (no server, no HTTP): the app called as an ASGI app, one request after
the other, beside the app's /health and the bare Litestar hello-world (`bench/hello.py`).

    .venv/bin/python -m bench.availability_inprocess [--db sqlite|postgres] [--requests N] [--rounds R] [--uvicorn]

The demo catalogue (`rathaus/demo/buergeramt.toml`) on a fresh database, the app built as the benchmark server
runs it (production settings, rate limits off unless `--limits`), its lifespan run (the availability warm-up
included) and its clock frozen, so that no cached day goes stale during a round. Each round calls every endpoint
`N` times in a row (the order alternates per round) and takes `time.process_time` over them: CPU per request is
less sensitive to other people's load than wall time. Every answer's status is checked, so that a refused or
failing request cannot pass for a fast one.

With `--uvicorn` every request goes through uvicorn's own HTTP protocol (httptools, on uvloop, the app wrapped as
uvicorn wraps it) as the benchmark server runs it, on a stand-in transport: the request's bytes parsed, the
scope built, a task per request, the answer's head encoded header by header; only the socket and its system
calls are left out. What the server spends beyond the app shows there (and differs between answers with few and
with many headers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import date, timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any

import uvloop
from litestar import Litestar
from litestar.types import Message
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from bench.booking_inprocess import _drop, _pg_database
from bench.feed_bench import DEMO, prepare
from bench.hello import app as hello_app
from bench.inprocess import http_scope
from rathaus.app import create_app
from rathaus.clock import ManualClock, SystemClock
from rathaus.settings import Settings

OFFICE, SERVICES = "mitte", "anmeldung,personalausweis"
BROWSER = [(b"accept-encoding", b"gzip, deflate, br, zstd"), (b"accept-language", b"de-DE,de;q=0.9")]
NO_LIMITS = {
    "booking_rate_limit_per_minute": 0,
    "wish_rate_limit_per_minute": 0,
    "availability_rate_limit_per_minute": 0,
    "lookup_rate_limit_per_minute": 0,
}
# Counted but never refused, as bench/page_bench.py's counting server.
COUNTING = {"availability_rate_limit_per_minute": 10**9, "lookup_rate_limit_per_minute": 10**9}


class Caller:
    """GETs of `path` through the ASGI app, as uvicorn would pass them; a status other than 200 stops the run.
    The last answer's body is kept (`body`)."""

    def __init__(self, app: Any, path: str, query: bytes = b"") -> None:
        self.app, self.body = app, b""
        self.scope = http_scope(path, query=query, headers=BROWSER)

    async def receive(self) -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"{self.scope['path']} answered {message['status']}")
        if message["type"] == "http.response.body":
            self.body = message["body"]

    async def __call__(self) -> None:
        await self.app({**self.scope, "state": {}}, self.receive, self.send)


class _Transport(asyncio.Transport):
    """Where uvicorn writes the answer instead of a socket: kept, not sent."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 40000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        """uvicorn's flow control: nothing to pause here."""

    def resume_reading(self) -> None:
        """uvicorn's flow control: nothing to resume here."""

    def close(self) -> None:
        """One keep-alive connection for the whole run: never closed."""


class Served(Caller):
    """The same GET as its bytes through uvicorn's HTTP protocol on one keep-alive connection."""

    def __init__(self, app: Any, path: str, query: bytes = b"") -> None:
        super().__init__(app, path, query)
        config = Config(app, access_log=False, log_level="warning", lifespan="off")
        config.load()
        self.server = ServerState()
        self.server.default_headers = [(b"date", formatdate(usegmt=True).encode()), *config.encoded_headers]
        self.protocol = HttpToolsProtocol(config, self.server, app_state={}, _loop=asyncio.get_running_loop())
        self.transport = _Transport()
        self.protocol.connection_made(self.transport)
        head = [f"GET {path}{'?' if query else ''}{query.decode()} HTTP/1.1", "host: 127.0.0.1:8000"]
        head += [f"{name.decode()}: {value.decode()}" for name, value in BROWSER]
        self.request = ("\r\n".join(head) + "\r\n\r\n").encode()

    async def __call__(self) -> None:
        self.transport.written.clear()
        self.protocol.data_received(self.request)
        while self.server.tasks:
            await asyncio.wait(set(self.server.tasks))
        head, self.body = self.transport.written
        status = head.split(b"\r\n", 1)[0]
        if status != b"HTTP/1.1 200 OK":
            raise RuntimeError(f"{self.scope['path']} answered {status!r}")


async def cpu_per_call(call: Caller, count: int) -> float:
    """Microseconds of CPU per call, over `count` calls in a row."""
    began = time.process_time()
    for _ in range(count):
        await call()
    return (time.process_time() - began) / count * 1e6


def bookable_day(today: date) -> date:
    """A weekday a few days ahead: inside the demo's booking window, with opening hours."""
    day = today + timedelta(days=3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


async def measure(app: Litestar, *, requests: int, rounds: int, day: date, call: type[Caller]) -> dict[str, Any]:
    query = f"services={SERVICES}&date={day}".encode()
    calls = {
        "hello": call(hello_app, "/health"),
        "health": call(app, "/health"),
        "availability": call(app, f"/api/v1/offices/{OFFICE}/availability", query),
    }
    for call in calls.values():  # warm: caches filled, first-call costs paid
        for _ in range(200):
            await call()
    per_round: dict[str, list[float]] = {name: [] for name in calls}
    for r in range(rounds):
        for name in list(calls)[:: 1 if r % 2 == 0 else -1]:
            per_round[name].append(await cpu_per_call(calls[name], requests))
    median = {name: statistics.median(values) for name, values in per_round.items()}
    answer = json.loads(calls["availability"].body)
    return {
        "slots_in_answer": len(answer["slots"]),
        "cpu_us_per_request": {name: round(value, 1) for name, value in median.items()},
        "per_round": {name: [round(v, 1) for v in values] for name, values in per_round.items()},
        "hello / availability (cpu)": round(median["hello"] / median["availability"], 2),
        "health / availability (cpu)": round(median["health"] / median["availability"], 2),
    }


def production_settings(url: str, **extra: Any) -> Settings:
    """The settings the benchmark server runs with (scheduler off, no mail or SMS sent), plus `extra`."""
    return Settings(
        database_url=url,
        secret_key="b" * 40,
        environment="production",
        scheduler=False,
        email_channel="file",
        sms_channel="file",
        log_level="WARNING",
        **extra,
    ).validated()


async def run(kind: str, *, requests: int, rounds: int, limits: bool, uvicorn: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        name = f"rathaus_bench_avail_{Path(folder).name.lower()}"
        url = await _pg_database(name) if kind == "postgres" else f"sqlite+aiosqlite:///{folder}/avail.db"
        try:
            await prepare(url, DEMO)
            now = SystemClock().now()
            settings = production_settings(url, **(COUNTING if limits else NO_LIMITS))
            app = create_app(settings, clock=ManualClock(now))
            async with app.lifespan():
                day = bookable_day(now.date())
                call = Served if uvicorn else Caller
                found = await measure(app, requests=requests, rounds=rounds, day=day, call=call)
            through = "uvicorn" if uvicorn else "asgi"
            limited = "counting" if limits else "off"
            return {"kind": kind, "limits": limited, "through": through, "day": str(day), **found}
        finally:
            if kind == "postgres":
                await _drop(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limits", action="store_true", help="rate limits counting (never refusing)")
    parser.add_argument("--uvicorn", action="store_true", help="through uvicorn's HTTP protocol, on uvloop")
    args = parser.parse_args(argv)
    measured = run(args.db, requests=args.requests, rounds=args.rounds, limits=args.limits, uvicorn=args.uvicorn)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if args.uvicorn else None) as runner:
        found = runner.run(measured)
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
