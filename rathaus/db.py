"""Engine and session setup, the declarative base, shared column types and after-commit hooks."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import aiosqlite
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import ReturnsRows
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored in UTC; SQLite hands back naive values, which are UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


def personal(*, retained_because: str = "", **info: Any) -> dict[str, Any]:
    """Column `info` marking personal data, so the purge finds every such column.

    `retained_because` names why a column must outlive the retention period (e.g. an SMS opt-out); the purge
    leaves such columns alone.
    """
    return {"personal": True, "retained_because": retained_because, **info}


def create_engine(url: str, *, pool_size: int = 5, pool_timeout: float | None = None) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE for every transaction.

    `pool_timeout`: how long a checkout waits for a free connection before `sqlalchemy.exc.TimeoutError` (the
    app answers it 503); None: 60 s on SQLite, 30 s on PostgreSQL.
    """
    if url.startswith("sqlite"):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            raise ValueError("rathaus needs a SQLite file, not an in-memory database")
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout or 60
        )
        _configure_sqlite(engine)
        return engine
    if pool_size <= 0:
        return create_async_engine(url, poolclass=NullPool)
    # No overflow: a connection opened beyond the pool under load is closed again as soon as it is handed back to
    # a full pool, so a busy instance started and ended dozens of PostgreSQL server processes a second (a fork each,
    # and every statement prepared again on the new connection). Requests beyond the pool wait for one instead.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout or 30)
    _begin_on_checkout(engine)
    return engine


def _begin_on_checkout(engine: AsyncEngine) -> None:
    """Check every connection the pool hands out, as `pool_pre_ping` does, with the transaction's own BEGIN.

    The pre-ping costs three round trips on asyncpg (SQLAlchemy wraps its `;` in BEGIN and ROLLBACK for pgbouncer's
    transaction mode), and the first statement then sends BEGIN as one more. Every checkout here is used for a
    transaction (sessions never run in autocommit), so BEGIN is sent now: one round trip checks the connection and
    starts its transaction. SQLAlchemy's asyncpg adapter then finds the transaction begun (`_start_transaction` is
    the adapter's own way to begin, which it otherwise calls before the first statement). A connection later set
    to autocommit rolls this transaction back first, as the adapter does whenever it changes isolation level.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _begin(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            dbapi_connection.await_(dbapi_connection._start_transaction())
        except Exception as error:  # whatever the reason, this connection cannot serve
            raise DisconnectionError from error  # the pool drops it and checks out another


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Stop sqlite3's legacy implicit BEGIN so that the "begin" hook below decides.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: SQLite cannot upgrade a read lock safely under contention, and
        # this makes every writing transaction serialisable, which the booking races rely on. Readers
        # (READ_ONLY sessions) take a snapshot instead and never wait for writers in WAL mode.
        options = conn.get_execution_options()
        begin = "BEGIN" if options.get(READ_ONLY_OPTION, False) else "BEGIN IMMEDIATE"
        if options.get(_BEGIN_ON_THREAD_OPTION, False):
            conn.info[_PENDING_BEGIN] = begin  # `on_sqlite_thread` sends it with its statements
        else:
            conn.info.pop(_PENDING_BEGIN, None)
            conn.exec_driver_sql(begin)


READ_ONLY_OPTION = "rathaus_read_only"
_BEGIN_ON_THREAD_OPTION = "rathaus_begin_on_thread"
_PENDING_BEGIN = "rathaus_pending_begin"


def create_session_maker(
    engine: AsyncEngine, *, read_only: bool = False, info: dict[str, object] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit; read-only ones must not write.

    `info` is given to every session (the runtime puts its event bus there).
    """
    bind = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
    return async_sessionmaker(bind, expire_on_commit=False, info=dict(info or {}))


Insert = sqlite.Insert | postgresql.Insert


P = ParamSpec("P")
R = TypeVar("R")


async def on_sqlite_thread(session: AsyncSession, work: Callable[[sqlite3.Connection], R]) -> R:
    """Run `work` with the sqlite3 connection of the session's transaction, in one call on aiosqlite's thread.

    Through SQLAlchemy every statement is three or four hand-overs to that thread and back (cursor, execute, fetch,
    close), each a turn of the event loop; several statements that must run back to back (inside the writer lock)
    are one hand-over here. aiosqlite has no public call for it: `_execute` queues a function on its thread, as
    its own methods do. `work` gets what SQLAlchemy would pass the driver (`DriverStatement` converts). If the
    session has no transaction yet, its BEGIN goes in the same call, before `work`.
    """
    fresh = not session.in_transaction()
    # A session in a transaction already has its connection, and that connection's BEGIN has been sent.
    options = {_BEGIN_ON_THREAD_OPTION: True} if fresh else None
    connection = await session.connection(execution_options=options)
    raw = await connection.get_raw_connection()
    begin = raw.info.pop(_PENDING_BEGIN, None) if fresh else None
    driver = cast(aiosqlite.Connection, raw.driver_connection)
    execute = cast(Callable[[Callable[[], R]], Awaitable[R]], driver._execute)

    def run() -> R:
        if begin is not None:
            driver._conn.execute(begin)
        return work(driver._conn)

    return await execute(run)


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A statement compiled once for a dialect's driver itself (the sqlite3 module in `on_sqlite_thread`, asyncpg
    through `Connection.exec_driver_sql`): its SQL, the order of its parameters with the conversions SQLAlchemy
    would apply to their values (and the values the statement fixes itself), and the conversions of its result
    columns. Executing it skips what SQLAlchemy does with a statement object at every execution: looking up its
    compiled form and building the parameter list from a dictionary through the compiled form's binds."""

    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]
    converters: Mapping[str, Callable[[Any], Any]]
    results: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect) -> DriverStatement:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        converters: dict[str, Callable[[Any], Any]] = {}
        fixed: dict[str, Any] = {}
        for name, bind in compiled.binds.items():
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                converters[name] = convert
            if not bind.required:
                fixed[name] = bind.effective_value
        columns = statement.exported_columns if isinstance(statement, ReturnsRows) else ()
        results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
        return cls(str(compiled), tuple(compiled.positiontup or ()), fixed, converters, results)

    def args(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters in their order, converted (`values` before those the statement fixes)."""
        found = []
        for name in self.names:
            value = values[name] if name in values else self.fixed[name]
            convert = self.converters.get(name)
            found.append(value if convert is None else convert(value))
        return tuple(found)

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        """A result row as SQLAlchemy would give it."""
        return tuple(v if convert is None else convert(v) for v, convert in zip(raw, self.results, strict=True))


def dialect_insert(session: AsyncSession, entity: Any) -> Insert:
    """An INSERT with the dialect's ON CONFLICT clauses (SQLite and PostgreSQL speak the same upsert)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


_HOOKS_KEY = "rathaus_after_commit"


def after_commit(session: AsyncSession | Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction has committed (dropped on rollback)."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_HOOKS_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a released savepoint, not the commit that makes changes visible
    for callback in session.info.pop(_HOOKS_KEY, []):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a failed savepoint; the outer transaction may still commit
    session.info.pop(_HOOKS_KEY, None)


_KEEP_ON_ERROR_KEY = "rathaus_keep_on_error"


def keep_on_error(session: AsyncSession) -> None:
    """Commit this transaction even though the operation ends in an error (e.g. counting failed attempts)."""
    session.sync_session.info[_KEEP_ON_ERROR_KEY] = True


def operation(
    work: Callable[Concatenate[AsyncSession, P], Awaitable[R]],
) -> Callable[Concatenate[AsyncSession, P], Awaitable[R]]:
    """Make a service operation all or nothing within its caller's transaction.

    The operation runs inside a savepoint: if it raises, everything it wrote is undone, even when the caller
    catches the error and then commits (a form handler that shows the message next to the form does exactly
    that). Only what the operation asked to keep with `keep_on_error` survives its error.
    """

    @functools.wraps(work)
    async def run(session: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> R:
        info = session.sync_session.info
        kept_before = info.get(_KEEP_ON_ERROR_KEY, False)
        if _pristine(session):
            return await _first_in_transaction(session, work(session, *args, **kwargs))
        savepoint = await session.begin_nested()
        try:
            result = await work(session, *args, **kwargs)
        except BaseException:
            if savepoint.is_active:
                # Only this operation's own request to keep counts, not one left by an earlier operation.
                if info.get(_KEEP_ON_ERROR_KEY) and not kept_before:
                    await savepoint.commit()
                else:
                    await savepoint.rollback()
            raise
        await savepoint.commit()
        return result

    return run


def _pristine(session: AsyncSession) -> bool:
    """True if the session has no transaction and holds no objects: undoing the operation then means rolling
    back the whole transaction, and no savepoint (two round trips) is needed."""
    sync = session.sync_session
    return not sync.in_transaction() and not sync.identity_map and not sync.new and not sync.deleted


async def _first_in_transaction(session: AsyncSession, work: Awaitable[R]) -> R:
    """Run an operation that opens the session's transaction; on an error undo all of it unless it asked to keep
    it (then the transaction stays open for its caller to commit)."""
    info = session.sync_session.info
    try:
        return await work
    except BaseException:
        if not info.get(_KEEP_ON_ERROR_KEY):
            await session.rollback()
        raise


async def end_unit(session: AsyncSession, error: BaseException | None) -> None:
    """End a unit of work: commit on success (or when asked to keep it), roll back otherwise."""
    keep = session.sync_session.info.pop(_KEEP_ON_ERROR_KEY, False)
    if error is None or keep:
        await session.commit()
    else:
        await session.rollback()
