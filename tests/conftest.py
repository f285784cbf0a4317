"""Shared fixtures: real databases (SQLite file and PostgreSQL), the app with an injected clock, a live server.

PostgreSQL, Chromium and the calendar clients are required when RATHAUS_TEST_REQUIRE_PG / _BROWSER / _CALENDAR
are set (CI sets them); otherwise their tests skip with the reason.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FunctionType

import asyncpg
import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.utils.signature import ParsedSignature
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rathaus import migrate
from rathaus.app import create_app
from rathaus.clock import ManualClock
from rathaus.db import create_engine, create_session_maker
from rathaus.jobs import run_unit
from rathaus.models import Base
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog
from rathaus.offices.config import Config
from rathaus.runtime import Runtime
from rathaus.settings import Settings, WaitlistSettings
from rathaus.web import runtime_of
from tests.altcha_client import SolvingClient

PG_ADMIN_URL = os.environ.get("RATHAUS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_SECRET = "test-secret-" + "x" * 40
# A Monday in winter (CET, +01:00), 07:00 local: before opening.
DEFAULT_NOW = datetime(2027, 1, 11, 6, 0, tzinfo=UTC)


def required(kind: str) -> bool:
    """True when CI demands that tests of `kind` (PG, BROWSER, CALENDAR) run instead of skipping."""
    return os.environ.get(f"RATHAUS_TEST_REQUIRE_{kind}", "") in {"1", "true", "yes"}


def skip_or_fail(kind: str, reason: str) -> None:
    """Skip with `reason`, or fail when CI requires this kind of test."""
    if required(kind):
        pytest.fail(f"{reason} (required: RATHAUS_TEST_REQUIRE_{kind} is set)")
    pytest.skip(reason)


def _parse_each_handler_once() -> None:
    """Tests build an app for nearly every test (about a thousand a run), and Litestar parses the signature of each
    of the app's ~460 handlers and dependencies again for every app: half of an app's 0.22 s of CPU. A parse
    depends only on the function and the names its annotations are resolved with, and Litestar itself shares one
    parse between the copies of a handler and between apps (dependencies), so one parse per process serves every
    app."""
    parse: Callable[..., ParsedSignature] = ParsedSignature.from_fn.__func__  # type: ignore[attr-defined]
    parsed: dict[object, tuple[ParsedSignature, tuple[object, ...]]] = {}

    def from_fn(cls: type[ParsedSignature], fn: Callable[..., object], namespace: dict[str, object]) -> ParsedSignature:
        function = getattr(fn, "__func__", fn)
        kept: tuple[object, ...] = (function, *namespace.values())
        if "<locals>" not in getattr(function, "__qualname__", "<locals>"):
            identity: object = function
        elif isinstance(function, FunctionType) and not (
            function.__defaults__
            or function.__kwdefaults__
            or hasattr(function, "__wrapped__")
            or hasattr(function, "__signature__")
        ):
            # Made per app (each route's OPTIONS handler, a plugin's dependency): the same code with the same
            # annotations has the same signature.
            identity = (function.__code__, tuple((k, id(v)) for k, v in function.__annotations__.items()))
            kept += tuple(function.__annotations__.values())
        else:
            return parse(cls, fn, namespace)
        # What the key names by id is kept with the parse, so that no id in a key is ever reused.
        key = (identity, inspect.ismethod(fn), frozenset((k, id(v)) for k, v in namespace.items()))
        found = parsed.get(key)
        if found is None:
            found = parsed[key] = (parse(cls, fn, namespace), kept)
        return found[0]

    ParsedSignature.from_fn = classmethod(from_fn)  # type: ignore[assignment, method-assign]


_parse_each_handler_once()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


# --- databases -----------------------------------------------------------------------------------------


async def _migrate(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test process, dropped at the end."""
    name = f"rathaus_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as error:
        skip_or_fail("PG", f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {type(error).__name__}: {error}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Children before parents, so that no row is left pointing at a deleted one.
_TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]
_FILLED_TABLES = text(" UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT FROM \"{t}\")" for t in _TABLES))
# The sequences TRUNCATE … RESTART IDENTITY would restart (those owned by the tables' columns), where used.
_RESTART_USED_SEQUENCES = text(
    """
    SELECT setval(s.oid, p.start_value, false)
    FROM pg_class s
    JOIN pg_namespace n ON n.oid = s.relnamespace
    JOIN pg_sequences p ON p.schemaname = n.nspname AND p.sequencename = s.relname
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE s.relkind = 'S' AND t.relname = ANY(:tables) AND p.last_value IS NOT NULL
    """
)


async def _truncate_pg(url: str) -> None:
    """Empty every table and restart their sequences, as TRUNCATE … RESTART IDENTITY would. TRUNCATE gives each of
    the ~50 tables new files (0.3-1 s a test on a busy machine); deleting the few rows a test left costs
    milliseconds, and setval restarts a sequence in place."""
    engine = create_engine(url, pool_size=0)
    try:
        async with engine.begin() as conn:
            filled = set((await conn.scalars(_FILLED_TABLES)).all())
            for table in _TABLES:
                if table in filled:
                    await conn.execute(text(f'DELETE FROM "{table}"'))
            await conn.execute(_RESTART_USED_SEQUENCES, {"tables": _TABLES})
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a SQLite file, then a real PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "rathaus.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    asyncio.run(_truncate_pg(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """An empty, migrated SQLite file (for tests where the database kind does not matter)."""
    path = tmp_path / "rathaus.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


# --- the app -------------------------------------------------------------------------------------------


def test_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test app: no scheduler, a fixed secret.

    Caches only expire through changes committed by the app itself (as on a single instance); the test
    harness shares them but runs on another event loop than the app, where background refreshes must not
    start. Tests of several instances set `availability_cache_seconds` themselves.
    """
    values: dict[str, object] = {
        "database_url": database_url,
        "environment": "test",
        "secret_key": TEST_SECRET,
        "scheduler": False,
        "public_base_url": "http://testserver",
        "availability_cache_seconds": 3600.0,
        "booking_rate_limit_per_minute": 0,
        "wish_rate_limit_per_minute": 0,
        "availability_rate_limit_per_minute": 0,
        "lookup_rate_limit_per_minute": 0,
        # The proof of work is checked for real (tests.altcha_client solves it), at a difficulty solved in ms.
        "altcha_difficulty": 1000,
        # A cancelled slot opens at once unless a test is about the cool-down (tests/waitlist/test_cooldown.py).
        "waitlist": WaitlistSettings(cooldown_minutes=0),
    }
    values.update(overrides)
    return Settings(**values).validated()  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DEFAULT_NOW)


@dataclass
class Harness:
    """An app under test with its clock, and a runtime for the test's own database work.

    The test client runs the app on its own event loop, so `runtime` (used from the test) has a separate
    engine; caches are shared with the app, so changes made here invalidate them as they would in the app.
    """

    app: Litestar
    client: AsyncTestClient[Litestar]
    clock: ManualClock
    runtime: Runtime

    async def load(self, config: Config) -> None:
        """Apply a configuration as `rathaus load` would."""
        now = self.clock.now()
        catalog = self.runtime.get(Catalog)
        await run_unit(self.runtime, lambda s: load_config(s, catalog=catalog, config=config, now=now))

    def session(self) -> AsyncSession:
        return self.runtime.session_maker()

    @property
    def engine(self) -> AsyncEngine:
        return self.runtime.engine


@asynccontextmanager
async def open_harness(database_url: str, clock: ManualClock, **settings: object) -> AsyncIterator[Harness]:
    """Start the app (lifespan included) on `database_url` with `clock`."""
    app = create_app(test_settings(database_url, **settings), clock=clock)
    engine = create_engine(database_url, pool_size=0 if database_url.startswith("postgresql") else 2)
    app_runtime = runtime_of(app.state)
    runtime = replace(
        app_runtime,
        engine=engine,
        read_engine=engine,
        session_maker=create_session_maker(engine, info=app_runtime.events.session_info()),
        read_session_maker=create_session_maker(engine, read_only=True, info=app_runtime.events.session_info()),
    )
    try:
        async with SolvingClient(app=app) as client:
            yield Harness(app, client, clock, runtime)
    finally:
        await engine.dispose()


@pytest.fixture
async def harness(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """The app on each database kind, with a manual clock, through Litestar's test client."""
    async with open_harness(db_url, clock) as h:
        yield h


@pytest.fixture
async def sqlite_harness(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """The app on SQLite only."""
    async with open_harness(sqlite_url, clock) as h:
        yield h


# --- a live server over real sockets --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: Litestar
    clock: ManualClock


@pytest.fixture
def live_server_factory() -> Iterator[object]:
    """Start the app under uvicorn in a thread on a free port: `start(db_url, clock) -> LiveServer`."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(database_url: str, clock: ManualClock, **settings: object) -> LiveServer:
        app = create_app(test_settings(database_url, **settings), clock=clock)
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        else:
            raise RuntimeError("the live server did not start")
        servers.append((server, thread))
        return LiveServer(f"http://127.0.0.1:{port}", app, clock)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
