# ruff: noqa: S608 -- the SQL here is assembled from constants and counts only; every value is a bound parameter.
"""The statements that write a new booking: few, built once, sent back to back.

A new booking is a row in `booking`, its services, its claims on one counter's cells and its first history event.
On PostgreSQL that is one statement (data-modifying CTEs: one round trip); SQLite has no INSERT inside WITH and
gets four, one right after the other (it holds the writer lock from the first, so nothing but the statements may
run until the commit). Every value is decided before the first statement.

The counter is chosen inside the booking's INSERT: the first able counter (in their order of preference) on which
no live claim holds any of the cells. A concurrent claimer that got in meanwhile makes the claims come back short;
the caller then falls back to trying the counters one by one. The SQL text depends only on the dialect and on the
numbers of services, counters and cells, so it is built once per shape; SQLAlchemy caches a text statement's
compiled form, while its dialect upserts (`[no key]` in its log) are compiled anew on every execution.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.events import CreationProbe
from rathaus.booking.models import Booking, BookingEvent, BookingService, SlotClaim

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


@dataclass(frozen=True, slots=True)
class Written:
    id: int
    counter_id: int
    claimed: int  # how many of the cells the claims got: fewer than asked means a concurrent claimer came first
    answers: dict[str, int]  # the probes' answers by their names


async def write(session: AsyncSession, new: NewBooking, *, code: str, now: datetime) -> Written | None:
    """Write the booking under `code`; None (and nothing written) if that code is taken."""
    dialect = session.get_bind().dialect.name
    shape = (len(new.service_ids), len(new.counters), len(new.cells))
    params: dict[str, Any] = {
        **new.values,
        "code": code,
        "now": now,
        "action": new.action,
        "actor": new.actor,
        **{f"k{i}": c for i, c in enumerate(new.counters)},
        **{f"s{i}": s for i, s in enumerate(new.service_ids)},
        **{f"t{i}": t for i, t in enumerate(new.cells)},
    }
    if dialect == "postgresql":
        row = (await session.execute(_postgresql(*shape, new.probes), params)).one_or_none()
        return None if row is None else Written(row.id, row.counter_id, row.claimed, _answers(new.probes, row))
    inserted = (await session.execute(_booking_sql(*shape, new.probes), params)).one_or_none()
    if inserted is None:
        return None
    params.update(booking_id=inserted.id, counter_id=inserted.counter_id)
    statements = _sqlite(*shape)
    await session.execute(statements.services, params)
    claimed = len((await session.execute(statements.claims, params)).all())
    await session.execute(statements.event, params)
    return Written(inserted.id, inserted.counter_id, claimed, _answers(new.probes, inserted))


def _answers(probes: tuple[CreationProbe, ...], row: Any) -> dict[str, int]:
    return {probe.name: int(row[3 + i]) for i, probe in enumerate(probes)}


# --- SQL, built once per dialect and shape -------------------------------------------------------------------


def _typed(name: str, column: Any) -> BindParameter[Any]:
    return bindparam(name, type_=column.type)


def _binds(services: int, counters: int, cells: int) -> list[BindParameter[Any]]:
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


@functools.cache
def _booking_sql(services: int, counters: int, cells: int, probes: tuple[CreationProbe, ...]) -> TextClause:
    # SQLite: the claims are not written yet; the count column only keeps the probes' places alike on both.
    sql = _insert_booking(counters, cells) + ", 0 AS claimed" + _asked(services, probes)
    return _statement(sql, _binds(services, counters, cells))


@dataclass(frozen=True, slots=True)
class _SqliteStatements:
    services: TextClause
    claims: TextClause
    event: TextClause


@functools.cache
def _sqlite(services: int, counters: int, cells: int) -> _SqliteStatements:
    binds = [
        *_binds(services, counters, cells),
        _typed("booking_id", SlotClaim.__table__.c.booking_id),
        _typed("counter_id", SlotClaim.__table__.c.counter_id),
    ]

    def statement(sql: str) -> TextClause:
        return _statement(sql, binds)

    service_rows = ", ".join(f"(:booking_id, :s{i}, {i})" for i in range(services))
    claim_rows = ", ".join(f"(:counter_id, :t{i}, :booking_id, :hold_expires_at)" for i in range(cells))
    return _SqliteStatements(
        services=statement(f"INSERT INTO booking_service (booking_id, service_id, position) VALUES {service_rows}"),
        claims=statement(
            f"INSERT INTO slot_claim (counter_id, cell_start, booking_id, expires_at) VALUES {claim_rows} "
            + _TAKE_EXPIRED
        ),
        event=statement(
            f"INSERT INTO booking_event ({_EVENT_COLUMNS})"
            " VALUES (:booking_id, :created_at, :action, :actor, NULL, :status, '')"
        ),
    )


@functools.cache
def _postgresql(services: int, counters: int, cells: int, probes: tuple[CreationProbe, ...]) -> TextClause:
    service_rows = " UNION ALL ".join(f"SELECT :s{i} AS service_id, {i} AS position" for i in range(services))
    cell_rows = " UNION ALL ".join(f"SELECT :t{i} AS cell_start" for i in range(cells))
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
        " SELECT b.id, b.counter_id, (SELECT count(*) FROM c) AS claimed" + _asked(services, probes) + " FROM b"
    )
    return _statement(sql, _binds(services, counters, cells))
