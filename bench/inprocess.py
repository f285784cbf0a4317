"""What the in-process benchmarks share: an ASGI request as uvicorn passes it, and a count of the SQL each engine
sends with the time every transaction's BEGIN took (on SQLite a writer's BEGIN IMMEDIATE waits for the write lock)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import aiosqlite
import asyncpg
from asyncpg.prepared_stmt import PreparedStatement
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def http_scope(
    path: str, *, query: bytes = b"", headers: Iterable[tuple[bytes, bytes]] = (), host: str = "127.0.0.1:8000"
) -> dict[str, Any]:
    """The scope of a GET as uvicorn hands it to the app (add a fresh `state` per call where the app keeps one)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", host.encode()), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


class DatabaseCpu:
    """CPU time of the PostgreSQL server processes that serve an engine's connections (the server runs on this
    machine, as in every benchmark here): what the statements cost the database, beside what they cost the app.
    Read from the kernel's scheduler statistics (nanoseconds), not from the database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._pids: set[int] = set()
        event.listen(engine.sync_engine, "connect", self._note_pid)

    def _note_pid(self, dbapi_connection: Any, _record: Any) -> None:
        self._pids.add(dbapi_connection.driver_connection.get_server_pid())

    def seconds(self) -> float:
        """On-CPU seconds of every server process that has served the engine so far (those still running)."""
        total = 0
        for pid in self._pids:
            try:
                with open(f"/proc/{pid}/schedstat") as stats:
                    total += int(stats.read().split()[0])
            except FileNotFoundError:  # a connection the pool has closed
                continue
        return total / 1e9


class Statements:
    """Statements sent through the engines (BEGIN counts, COMMIT is no cursor statement), and the wall time each
    BEGIN took from being sent until it returned: for a writer on SQLite (BEGIN IMMEDIATE) that is the wait for the
    write lock plus one thread hop; a reader's plain BEGIN is the hop alone."""

    def __init__(self, engines: Iterable[AsyncEngine]) -> None:
        self.count = 0
        self.begins: dict[str, list[float]] = {}
        for engine in set(engines):
            event.listen(engine.sync_engine, "before_cursor_execute", self._before)
            event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, statement: str, *_args: object) -> None:
        self.count += 1
        if statement.startswith("BEGIN"):
            conn.info["bench_begin"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: object) -> None:
        began = conn.info.pop("bench_begin", None)
        if began is not None:
            self.begins.setdefault(statement, []).append(time.perf_counter() - began)

    def begin_waits(self) -> dict[str, dict[str, float]]:
        """Per kind of BEGIN: how many, and their p50 / p99 / max in ms."""
        found = {}
        for statement, waits in sorted(self.begins.items()):
            ordered = sorted(waits)
            found[statement] = {
                "count": len(ordered),
                "p50_ms": round(statistics.median(ordered) * 1000, 2),
                "p99_ms": round(ordered[round(0.99 * (len(ordered) - 1))] * 1000, 2),
                "max_ms": round(ordered[-1] * 1000, 2),
            }
        return found


class Waits:
    """How often the app waits outside its event loop for the database: each a turn of the loop before it goes on.
    On SQLite a hand-over to aiosqlite's thread (any function it runs there); on PostgreSQL a round trip to the
    server (asyncpg's simple queries, e.g. BEGIN and COMMIT, the pool's ping, prepared statements run or made)."""

    def __init__(self, dialect: str) -> None:
        self.count = 0
        pg = [(asyncpg.Connection, name) for name in ("execute", "fetchrow", "prepare")]
        self._targets: list[tuple[type[Any], str]] = (
            [(aiosqlite.Connection, "_execute")] if dialect == "sqlite" else [*pg, (PreparedStatement, "fetch")]
        )

    @contextmanager
    def counting(self) -> Iterator[None]:
        originals = [(owner, name, getattr(owner, name)) for owner, name in self._targets]
        for owner, name, original in originals:
            setattr(owner, name, self._counted(cast(Callable[..., Awaitable[Any]], original)))
        try:
            yield
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)

    def _counted(self, original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(*args, **kwargs)

        return counted


class LoopLag:
    """How late the event loop wakes a task that asked to sleep 1 ms: how long whatever runs on the loop keeps a
    resumed request (a statement's answer, a thread's result) waiting."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._probe())

    async def _probe(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.001)
            self.samples.append(time.perf_counter() - began - 0.001)

    async def stop(self) -> dict[str, float]:
        """Stop probing: the lag's p50 / p99 / max in ms."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        ordered = sorted(self.samples) or [0.0]
        return {
            "count": len(self.samples),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[round(0.99 * (len(ordered) - 1))] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
        }
