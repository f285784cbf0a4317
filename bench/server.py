"""The real rathaus app for benchmarks, plus one baseline route that does a bare single-row INSERT.

Run by bench.booking_bench under uvicorn (or Granian: `serve_command`) in a subprocess:
    uvicorn bench.server:create_bench_app --factory
Settings come from the usual RATHAUS_* variables. Two bench-only variables:
    BENCH_SLOT_CACHE=off  bypass the per-day availability cache (the catalog snapshot stays cached), so every
                          availability request runs the claims query: the database's share becomes visible.
    BENCH_NOW=<ISO time>  freeze the app's clock there (the queue benchmark plays an office day at 08:00).
The baseline table `bench_row` lives in its own metadata (not in rathaus' models or migrations); the benchmark
creates it in the bench database with `create_bench_tables`.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any

from litestar import Litestar, post
from sqlalchemy import Integer, MetaData, String
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rathaus.app import create_app
from rathaus.booking.service import AvailabilityCache
from rathaus.clock import ManualClock
from rathaus.db import UTCDateTime
from rathaus.offices.catalog import Catalog
from rathaus.settings import Settings
from rathaus.web import DbSession, Now, runtime_of


class BenchBase(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map = {datetime: UTCDateTime}


class BenchRow(BenchBase):
    """One row per baseline request."""

    __tablename__ = "bench_row"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


async def create_bench_tables(engine: AsyncEngine) -> None:
    """Create the baseline table in a bench database."""
    async with engine.begin() as conn:
        await conn.run_sync(BenchBase.metadata.create_all)


# A JSON endpoint like the booking API, which the CSRF protection of forms leaves alone too.
@post("/bench/insert", include_in_schema=False, exclude_from_csrf=True)
async def bare_insert(db_session: DbSession, now: Now) -> dict[str, int]:
    """The baseline for booking creation: one ORM INSERT through the app's session; the request commits it."""
    row = BenchRow(note="bench", created_at=now)
    db_session.add(row)
    await db_session.flush()
    return {"id": row.id}


class UncachedSlots(AvailabilityCache):
    """An availability cache that never answers: every request recomputes the day from the database."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def peek(self, *args: Any, **kwargs: Any) -> Any:
        return None


def create_bench_app() -> Litestar:
    """The rathaus app from RATHAUS_* settings with the baseline route (and optionally no slot cache)."""
    frozen = os.environ.get("BENCH_NOW")
    app = create_app(Settings.from_env(), clock=ManualClock(datetime.fromisoformat(frozen)) if frozen else None)
    app.register(bare_insert)
    if os.environ.get("BENCH_SLOT_CACHE", "on") == "off":
        runtime = runtime_of(app.state)
        runtime.components[AvailabilityCache] = UncachedSlots(runtime.get(Catalog))
    return app


# The ASGI servers a benchmark can start an app under (bench/server_bench.py compares them).
SERVERS = ("uvicorn", "granian")


def serve_command(server: str, app: str, *, port: int, workers: int = 1) -> list[str]:
    """The command line serving `app` ("module:attribute", a factory if it names `create_bench_app`) on 127.0.0.1.

    Both servers with no access log, log level warning and their own defaults otherwise (uvicorn picks uvloop and
    httptools, Granian its Rust HTTP stack with uvloop); `rathaus serve` adds to Granian the wrappers of
    rathaus.serving (the end of the grace, proxy headers) and a higher bound on connections.
    """
    factory = ["--factory"] if app.endswith("create_bench_app") else []
    common = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", app, *factory, *common, "--no-access-log"]
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", app, *factory, *common, "--no-access-log"]
    raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
