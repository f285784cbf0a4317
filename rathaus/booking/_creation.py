# ruff: noqa: S608 -- the SQL here is assembled from constants and counts only; every value is a bound parameter.
"""The statements that write a new booking: few, built once, sent back to back.

A new booking is a row in `booking`, its services, its claims on one counter's cells, its first history event and
the rows the reactions to it handed over (`NewRows`: notify's outbox messages). On PostgreSQL that is one statement
(data-modifying CTEs: one round trip); SQLite has no INSERT inside WITH and gets one INSERT per table, all run in
one call on aiosqlite's thread (it holds the writer lock from BEGIN IMMEDIATE to COMMIT, so the fewer turns of the
event loop in between, the shorter other writers wait). Every value is decided before the first statement.

The counter is chosen inside the booking's INSERT: the first able counter (in their order of preference) on which
no live claim holds any of the cells. A concurrent claimer that got in meanwhile makes the claims come back short;
the caller then falls back to trying the counters one by one. The SQL text depends only on the dialect and on the
numbers of services, counters, cells and handed-over rows, so it is built and compiled for the driver once per
shape (SQLAlchemy's dialect upserts, `[no key]` in its log, were compiled anew on every execution); a booking then
only puts its values in order and converts them, where SQLAlchemy would look the compiled form up by a key over
every parameter and build the driver's parameters from a dictionary again (PostgreSQL: ~0.1 ms of a booking's CPU).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, String, Table, TextClause, bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.events import NEW_BOOKING_ID, CreationProbe, NewRows, WithBookingId
from rathaus.booking.models import Booking, BookingEvent, BookingService, SlotClaim
from rathaus.db import DriverStatement, on_sqlite_thread

# The booking's columns that the caller gives, in the INSERT's order (code and counter_id are added here).
COLUMNS = (
    "office_id",
    "start_at",
    "end_at",
    "status",
    "language",
    "name",
    "email",
    "phone",
    "mode",
    "call_number",
    "meeting_url",
    "token_hash",
    "verification_code_hash",
    "verification_attempts",
    "hold_expires_at",
    "ical_sequence",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class NewBooking:
    """Everything the statements write, decided before the first one."""

    values: dict[str, Any]  # the booking's COLUMNS
    service_ids: list[int]  # in their order
    counters: list[int]  # the able counters, preferred first
    cells: list[datetime]  # the grid cells the appointment claims
    action: str  # the first history event's action and actor
    actor: str
    probes: tuple[CreationProbe, ...] = ()  # asked in the same statement; their answers come back with it
    rows: tuple[NewRows, ...] = ()  # other packages' rows, written with the booking (only if it is written)


@dataclass(frozen=True, slots=True)
class Written:
    id: int
    counter_id: int
    claimed: int  # how many of the cells the claims got: fewer than asked means a concurrent claimer came first
    answers: dict[str, int]  # the probes' answers by their names


async def write(session: AsyncSession, new: NewBooking, *, code: str, now: datetime) -> Written | None:
    """Write the booking under `code`; None (and nothing written) if that code is taken."""
    dialect = session.get_bind().dialect
    shape = (len(new.service_ids), len(new.counters), len(new.cells))
    extra, params = _handed_over(new.rows)
    params.update(new.values)
    params.update(
        {
            "code": code,
            "now": now,
            "action": new.action,
            "actor": new.actor,
            **{f"k{i}": c for i, c in enumerate(new.counters)},
            **{f"s{i}": s for i, s in enumerate(new.service_ids)},
            **{f"t{i}": t for i, t in enumerate(new.cells)},
        }
    )
    if dialect.name == "postgresql":
        statement = _postgresql(dialect, *shape, new.probes, extra)
        args = statement.args(params)
        # One hand-over to SQLAlchemy's greenlet, and the driver's SQL as it is (events and error wrapping stay).
        row = await session.run_sync(lambda sync: sync.connection().exec_driver_sql(statement.sql, args).first())
        return None if row is None else Written(row[0], row[1], row[2], _answers(new.probes, row))
    batch = _sqlite(dialect, *shape, new.probes, extra)
    values = batch.converted(params)

    def run(connection: sqlite3.Connection) -> Written | None:
        cursor = connection.cursor()
        try:
            inserted = cursor.execute(batch.booking.sql, batch.booking.args(values)).fetchone()
            if inserted is None:
                return None
            values.update(booking_id=inserted[0], counter_id=inserted[1])
            cursor.execute(batch.services.sql, batch.services.args(values))
            claimed = len(cursor.execute(batch.claims.sql, batch.claims.args(values)).fetchall())
            cursor.execute(batch.event.sql, batch.event.args(values))
            for rows in batch.rows:
                cursor.execute(rows.sql, rows.args(values))
            return Written(inserted[0], inserted[1], claimed, _answers(new.probes, inserted))
        finally:
            cursor.close()

    # One hand-over to aiosqlite's thread for the statements (and the BEGIN IMMEDIATE that opens the transaction)
    # instead of three or four for each: the writer lock is held for one turn of the event loop less per statement.
    return await on_sqlite_thread(session, run)


def _answers(probes: tuple[CreationProbe, ...], row: Any) -> dict[str, int]:
    return {probe.name: int(row[3 + i]) for i, probe in enumerate(probes)}


@dataclass(frozen=True, slots=True)
class _RowsShape:
    """What the SQL of a `NewRows` depends on: its table, its columns and where the booking's id goes."""

    table: Table
    columns: tuple[str, ...]
    kinds: tuple[tuple[str, ...], ...]  # per row and column: "value", "id" or "text" (a text around the id)

    def values(self, id_sql: str, j: int) -> list[str]:
        """Each row's values as SQL, with the booking's id as `id_sql`."""
        expressions = {
            "value": ":o{j}_{r}_{c}",
            "id": id_sql,
            "text": f"(:o{{j}}_{{r}}_{{c}}b || {id_sql} || :o{{j}}_{{r}}_{{c}}a)",
        }
        return [
            ", ".join(expressions[kind].format(j=j, r=r, c=c) for c, kind in enumerate(kinds))
            for r, kinds in enumerate(self.kinds)
        ]

    def binds(self, j: int) -> list[BindParameter[Any]]:
        text_type = String()
        found = []
        for r, kinds in enumerate(self.kinds):
            for c, kind in enumerate(kinds):
                if kind == "value":
                    found.append(_typed(f"o{j}_{r}_{c}", self.table.c[self.columns[c]]))
                elif kind == "text":
                    found += [bindparam(f"o{j}_{r}_{c}{end}", type_=text_type) for end in ("b", "a")]
        return found


def _handed_over(handed: tuple[NewRows, ...]) -> tuple[tuple[_RowsShape, ...], dict[str, Any]]:
    """The shapes of the handed-over rows and their values as the statement's parameters, in one pass."""
    shapes = []
    params: dict[str, Any] = {}
    for j, new in enumerate(handed):
        columns = tuple(new.rows[0])
        kinds = []
        for r, row in enumerate(new.rows):
            if tuple(row) != columns:
                raise ValueError(f"rows for {new.table.name} must name the same columns in the same order")
            row_kinds = []
            for c, value in enumerate(row.values()):
                if not isinstance(value, WithBookingId):
                    row_kinds.append("value")
                    params[f"o{j}_{r}_{c}"] = value
                elif value == NEW_BOOKING_ID:
                    row_kinds.append("id")
                else:
                    row_kinds.append("text")
                    params[f"o{j}_{r}_{c}b"], params[f"o{j}_{r}_{c}a"] = value.before, value.after
            kinds.append(tuple(row_kinds))
        shapes.append(_RowsShape(new.table, columns, tuple(kinds)))
    return tuple(shapes), params


# --- SQL, built once per dialect and shape -------------------------------------------------------------------


def _typed(name: str, column: Any) -> BindParameter[Any]:
    return bindparam(name, type_=column.type)


def _binds(services: int, counters: int, cells: int, extra: tuple[_RowsShape, ...]) -> list[BindParameter[Any]]:
    table, claim = Booking.__table__.c, SlotClaim.__table__.c
    event = BookingEvent.__table__.c
    return [
        *(_typed(name, table[name]) for name in COLUMNS),
        _typed("code", table.code),
        _typed("now", claim.expires_at),
        _typed("action", event.action),
        _typed("actor", event.actor),
        *(_typed(f"k{i}", claim.counter_id) for i in range(counters)),
        *(_typed(f"s{i}", BookingService.__table__.c.service_id) for i in range(services)),
        *(_typed(f"t{i}", claim.cell_start) for i in range(cells)),
        *(bind for j, shape in enumerate(extra) for bind in shape.binds(j)),
    ]


def _first_free(counters: int, cells: int) -> str:
    """The first able counter on which no live claim (a booking, or a hold not yet expired) holds any cell."""
    candidates = " UNION ALL ".join(f"SELECT :k{i} AS counter_id, {i} AS preference" for i in range(counters))
    wanted = ", ".join(f":t{i}" for i in range(cells))
    return (
        f"(SELECT k.counter_id FROM ({candidates}) AS k WHERE NOT EXISTS (SELECT 1 FROM slot_claim AS s"
        f" WHERE s.counter_id = k.counter_id AND s.cell_start IN ({wanted})"
        " AND (s.expires_at IS NULL OR s.expires_at > :now)) ORDER BY k.preference LIMIT 1)"
    )


def _asked(services: int, probes: tuple[CreationProbe, ...]) -> str:
    """The probes as further result columns (after id, counter_id and the count of claims)."""
    return "".join(f", ({probe.sql(services)}) AS probe_{i}" for i, probe in enumerate(probes))


def _insert_booking(counters: int, cells: int) -> str:
    columns = ", ".join(("code", "counter_id", *COLUMNS))
    # No counter looks free: the first one stands in, its claims come back short and the caller takes over.
    values = ", ".join((":code", f"COALESCE({_first_free(counters, cells)}, :k0)", *(f":{c}" for c in COLUMNS)))
    return f"INSERT INTO booking ({columns}) VALUES ({values}) ON CONFLICT (code) DO NOTHING RETURNING id, counter_id"


# A claimed cell gives way only to an expired hold.
_TAKE_EXPIRED = (
    "ON CONFLICT (counter_id, cell_start) DO UPDATE SET booking_id = excluded.booking_id,"
    " expires_at = excluded.expires_at WHERE slot_claim.expires_at <= :now RETURNING cell_start"
)
_EVENT_COLUMNS = "booking_id, at, action, actor, from_status, to_status, detail"


def _statement(sql: str, binds: list[BindParameter[Any]]) -> TextClause:
    """`sql` with the types of the parameters it names (so that values are converted as by the ORM)."""
    return text(sql).bindparams(*(b for b in binds if re.search(rf":{b.key}\b", sql)))


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A statement as the sqlite3 module takes it: its SQL and the order of its parameters."""

    sql: str
    names: tuple[str, ...]

    def args(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(values[name] for name in self.names)


@dataclass(frozen=True, slots=True)
class _SqliteBatch:
    """SQLite's four statements, compiled for the sqlite3 module itself (they run in one call on its thread, past
    SQLAlchemy), with the conversions SQLAlchemy would apply to their parameters."""

    booking: _Prepared
    services: _Prepared
    claims: _Prepared
    event: _Prepared
    rows: tuple[_Prepared, ...]
    converters: dict[str, Callable[[Any], Any]]

    def converted(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            name: convert(value) if (convert := self.converters.get(name)) else value for name, value in params.items()
        }


@functools.lru_cache(maxsize=64)  # per engine's dialect and shape
def _sqlite(
    dialect: Dialect,
    services: int,
    counters: int,
    cells: int,
    probes: tuple[CreationProbe, ...],
    extra: tuple[_RowsShape, ...],
) -> _SqliteBatch:
    binds = [
        *_binds(services, counters, cells, extra),
        _typed("booking_id", SlotClaim.__table__.c.booking_id),
        _typed("counter_id", SlotClaim.__table__.c.counter_id),
    ]
    converters: dict[str, Callable[[Any], Any]] = {}

    def prepared(sql: str) -> _Prepared:
        compiled = _statement(sql, binds).compile(dialect=dialect)
        for name, bind in compiled.binds.items():
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                converters[name] = convert
        return _Prepared(str(compiled), tuple(compiled.positiontup or ()))

    # The count column only keeps the probes' places alike on both databases (the claims are not written yet).
    booking = _insert_booking(counters, cells) + ", 0 AS claimed" + _asked(services, probes)
    service_rows = ", ".join(f"(:booking_id, :s{i}, {i})" for i in range(services))
    claim_rows = ", ".join(f"(:counter_id, :t{i}, :booking_id, :hold_expires_at)" for i in range(cells))
    return _SqliteBatch(
        booking=prepared(booking),
        services=prepared(f"INSERT INTO booking_service (booking_id, service_id, position) VALUES {service_rows}"),
        claims=prepared(
            f"INSERT INTO slot_claim (counter_id, cell_start, booking_id, expires_at) VALUES {claim_rows} "
            + _TAKE_EXPIRED
        ),
        event=prepared(
            f"INSERT INTO booking_event ({_EVENT_COLUMNS})"
            " VALUES (:booking_id, :created_at, :action, :actor, NULL, :status, '')"
        ),
        rows=tuple(
            prepared(
                f"INSERT INTO {shape.table.name} ({', '.join(shape.columns)}) VALUES "
                + ", ".join(f"({row})" for row in shape.values(":booking_id", j))
            )
            for j, shape in enumerate(extra)
        ),
        converters=converters,
    )


@functools.lru_cache(maxsize=64)  # per engine's dialect and shape
def _postgresql(
    dialect: Dialect,
    services: int,
    counters: int,
    cells: int,
    probes: tuple[CreationProbe, ...],
    extra: tuple[_RowsShape, ...],
) -> DriverStatement:
    service_rows = " UNION ALL ".join(f"SELECT :s{i} AS service_id, {i} AS position" for i in range(services))
    cell_rows = " UNION ALL ".join(f"SELECT :t{i} AS cell_start" for i in range(cells))
    other_rows = "".join(
        f", o{j} AS (INSERT INTO {shape.table.name} ({', '.join(shape.columns)}) "
        + " UNION ALL ".join(f"SELECT {row} FROM b" for row in shape.values("b.id", j))
        + ")"
        for j, shape in enumerate(extra)
    )
    sql = (
        f"WITH b AS ({_insert_booking(counters, cells)}),"
        " s AS (INSERT INTO booking_service (booking_id, service_id, position)"
        f" SELECT b.id, v.service_id, v.position FROM b CROSS JOIN ({service_rows}) AS v),"
        " c AS (INSERT INTO slot_claim (counter_id, cell_start, booking_id, expires_at)"
        f" SELECT b.counter_id, w.cell_start, b.id, :hold_expires_at FROM b CROSS JOIN ({cell_rows}) AS w "
        + _TAKE_EXPIRED
        + "),"
        f" e AS (INSERT INTO booking_event ({_EVENT_COLUMNS})"
        " SELECT b.id, :created_at, :action, :actor, NULL, :status, '' FROM b)"
        + other_rows
        + " SELECT b.id, b.counter_id, (SELECT count(*) FROM c) AS claimed"
        + _asked(services, probes)
        + " FROM b"
    )
    return DriverStatement.of(_statement(sql, _binds(services, counters, cells, extra)), dialect)
