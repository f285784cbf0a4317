"""Issuing tickets (check-in, walk-in) and moving them through the counters: the only code that changes them."""

from __future__ import annotations

import functools
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Insert,
    Integer,
    Label,
    Select,
    String,
    Update,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.sql.dml import ReturningInsert

from rathaus import i18n
from rathaus.booking import service as bookings
from rathaus.booking.service import BookingContext
from rathaus.contact import normalise_mobile
from rathaus.db import DriverStatement, UTCDateTime, on_sqlite_thread, operation
from rathaus.errors import RathausError
from rathaus.events import publish
from rathaus.localized import Localized, joined
from rathaus.offices.catalog import resolve_services
from rathaus.offices.rules import CounterRule, Interval, OfficeRules, ServiceRule
from rathaus.queue._state import (
    ROW_COLUMNS,
    DurationsCache,
    QueueState,
    TicketRow,
    calls_from_waiting_room,
    load_state,
)
from rathaus.queue.events import QueueAdvanced, TicketCalled, TicketFinished, WaitingTicket
from rathaus.queue.models import Ticket, TicketEvent, TicketSequence, TicketService, label_of, transition
from rathaus.tokens import normalise_code

PREFIXES = {"appointment": "A", "walk_in": "W"}
# How far ahead the "accepted again from" and "next free appointment" answers look.
_LOOK_AHEAD_DAYS = 31
_NEXT_SLOT_DAYS = 14


@dataclass(frozen=True, slots=True)
class QueueContext:
    """What queue operations need besides the session."""

    booking: BookingContext
    read_sessions: async_sessionmaker[AsyncSession]
    public_base_url: str
    durations: DurationsCache


@dataclass(frozen=True, slots=True)
class WalkInRequest:
    services: list[str]
    phone: str | None = None
    language: str = "de"
    override_note: str = ""


@operation
async def check_in(
    session: AsyncSession, *, ctx: QueueContext, office: OfficeRules, code: str, actor: str, now: datetime
) -> TicketRow:
    """A ticket for a booked citizen; arriving later than the grace period puts them in the walk-in order.

    Checking in twice answers the ticket of the first check-in.
    """
    booking = await bookings.booking_by_code(session, _code_from_scan(code))
    if booking is None:
        raise RathausError("unknown_booking")
    snapshot = await ctx.booking.catalog.get(session, now=now)
    if booking.office_id != office.id:
        other = snapshot.office_by_id(booking.office_id)
        raise RathausError("booking_other_office", office=other.name)
    existing = await session.scalar(select(Ticket).where(Ticket.booking_id == booking.id))
    if existing is not None:
        return TicketRow.of(existing)
    booked_day = office.local_day(booking.start_at)
    if booked_day != office.local_day(now):
        raise RathausError("booking_other_day", day=f"{booked_day:%d.%m.%Y}")
    if booking.status != "confirmed":
        raise RathausError("booking_not_active", status=booking.status)
    late = now > booking.start_at + office.check_in_grace
    ticket = await _issue(
        session,
        office=office,
        kind="appointment",
        lane="walk_in" if late else "appointment",
        service_ids=[item.service_id for item in booking.items],
        booking_id=booking.id,
        due_at=booking.start_at,
        phone=booking.phone,
        language=booking.language,
        note="",
        actor=actor,
        now=now,
    )
    await bookings.move(session, booking_id=booking.id, status="checked_in", actor=actor, now=now)
    return ticket


@operation
async def walk_in(
    session: AsyncSession,
    *,
    ctx: QueueContext,
    office: OfficeRules,
    request: WalkInRequest,
    actor: str,
    now: datetime,
) -> TicketRow:
    """A walk-in ticket, or a refusal with the reason, when tickets are accepted again and the next free slot."""
    snapshot = await ctx.booking.catalog.get(session, now=now)
    services = resolve_services(snapshot, request.services)
    if not i18n.offers(request.language):
        raise RathausError("invalid_language", languages=i18n.OneOf(i18n.languages()))
    phone = normalise_mobile(request.phone) if request.phone else None
    names = joined(", ", (s.name for s in services))
    for s in services:
        if not s.walk_ins_allowed:
            raise RathausError("no_walk_ins", service=s.name, extra=await _alternatives(ctx, office, services, now))
    if not office.able_counters([s.id for s in services], online=False):
        raise RathausError("no_counter_for_services")
    cutoff = max(office.walk_in_cutoff_for(s) for s in services)
    current = _open_interval(office, now)
    if current is None:
        extra = await _alternatives(ctx, office, services, now)
        closures = office.closures_between(now, now + timedelta(seconds=1))
        reason = Localized({k: f": {v}" for k, v in closures[0].reason.as_dict().items()}) if closures else ""
        raise RathausError(
            "office_closed_now", reason=reason, next=_local(office, extra["next_accepted_at"]), extra=extra
        )
    if now >= current[1] - cutoff:
        extra = await _alternatives(ctx, office, services, now)
        raise RathausError(
            "after_cutoff",
            service=names,
            cutoff=f"{(current[1] - cutoff).astimezone(office.tz):%H:%M}",
            next=_local(office, extra["next_accepted_at"]),
            extra=extra,
        )
    note = " ".join(request.override_note.split())[:300]
    if not note:
        state = await load_state(
            session, office=office, services=snapshot.services_by_id, durations_cache=ctx.durations, now=now
        )
        start = state.start_for_new(services)
        if start is None or start + state.durations.of([s.id for s in services]) > current[1]:
            extra = await _alternatives(ctx, office, services, now)
            raise RathausError("queue_full", service=names, next=_local(office, extra["next_accepted_at"]), extra=extra)
    return await _issue(
        session,
        office=office,
        kind="walk_in",
        lane="walk_in",
        service_ids=[s.id for s in services],
        booking_id=None,
        due_at=None,
        phone=phone,
        language=request.language,
        note=note,
        actor=actor,
        now=now,
    )


async def call_next(
    session: AsyncSession,
    *,
    ctx: QueueContext,
    office: OfficeRules,
    counter_ref: str,
    actor: str,
    now: datetime,
) -> TicketRow:
    """Call the next ticket this counter can serve; two counters calling at once never get the same one.

    A counter that has called someone must finish first: the database refuses a second call (a unique index).
    A counter that only phones or meets by video calls nobody from the waiting room.
    """
    counter = find_counter(office, counter_ref)
    if not calls_from_waiting_room(counter):
        raise RathausError("counter_not_on_site", counter=counter.name)
    return await _call_first(session, ctx=ctx, office=office, counter=counter, actor=actor, now=now)


@operation
async def _call_first(
    session: AsyncSession, *, ctx: QueueContext, office: OfficeRules, counter: CounterRule, actor: str, now: datetime
) -> TicketRow:
    """Claim the first waiting ticket in call order that this counter can serve, in one statement."""
    claimed = await _claim(session, ctx=ctx, office=office, counter=counter, actor=actor, now=now)
    if claimed is None:
        raise RathausError("nothing_to_call", counter=counter.name)
    ticket, booking_id, phone, language, sms_expected = claimed
    if booking_id is not None:
        await bookings.move(session, booking_id=booking_id, status="serving", actor=actor, now=now)
    await publish(
        session,
        TicketCalled(
            office_id=office.id,
            office_day=office.local_day(now).isoformat(),
            ticket_id=ticket.id,
            label=ticket.label,
            counter=counter.name,
            phone=phone,
            language=language,
            booking_id=booking_id,
            actor=actor,
            at=now,
        ),
    )
    if sms_expected:
        await _announce_advance(session, ctx, office, actor, now)
    return ticket


@operation
async def finish(
    session: AsyncSession, *, office: OfficeRules, ticket: Ticket, outcome: str, actor: str, now: datetime
) -> Ticket:
    """Complete a called ticket, or record that its citizen did not come (outcome completed | no_show)."""
    _require_status(ticket, "called")
    ticket.status = outcome
    ticket.finished_at = now
    _record(session, ticket, outcome, actor, "called", now, counter_id=ticket.counter_id)
    await _finished(session, office.id, ticket.day, TicketRow.of(ticket), ticket, actor=actor, at=now)
    return ticket


@operation
async def finish_called(
    session: AsyncSession,
    *,
    ctx: QueueContext,
    ticket_id: int,
    outcome: str,
    check_office: Callable[[int], None],
    actor: str,
    now: datetime,
) -> tuple[TicketRow, OfficeRules]:
    """`finish` for a ticket known by its id, written with its record in one go (no read before): the ticket and
    its office. `check_office` refuses a ticket of an office the caller may not act for (the write is undone)."""
    params = {"ticket": ticket_id, "outcome": outcome, "now": now, "actor": actor}
    row = await _change_and_record(session, _FINISH, params)
    if row is None:  # unknown, or not called (any more): say which, to those who may know
        ticket = await staff_ticket(session, ticket_id)
        check_office(ticket.office_id)
        raise RathausError("ticket_state", ticket=ticket.label, status=ticket.status)
    *columns, services, booking_id, phone, language, day = row
    make: Any = TicketRow  # positional: the columns come in field order
    finished: TicketRow = make(*columns, _service_ids(services))
    check_office(finished.office_id)
    contact = _Contact(booking_id, phone, language)
    await _finished(session, finished.office_id, day, finished, contact, actor=actor, at=now)
    return finished, (await ctx.booking.catalog.get(session, now=now)).office_by_id(finished.office_id)


@dataclass(frozen=True, slots=True)
class _Contact:
    booking_id: int | None
    phone: str | None
    language: str


async def _finished(
    session: AsyncSession,
    office_id: int,
    day: date,
    ticket: TicketRow,
    contact: Ticket | _Contact,
    *,
    actor: str,
    at: datetime,
) -> None:
    """What follows a finished ticket: its booking moves along, and the others hear of it."""
    if contact.booking_id is not None:
        await bookings.move(session, booking_id=contact.booking_id, status=ticket.status, actor=actor, now=at)
    await publish(
        session,
        TicketFinished(
            actor=actor,
            at=at,
            office_id=office_id,
            office_day=day.isoformat(),
            ticket_id=ticket.id,
            outcome=ticket.status,
            phone=contact.phone,
            language=contact.language,
            booking_id=contact.booking_id,
            service_ids=ticket.service_ids,
        ),
    )


@operation
async def recall(session: AsyncSession, *, office: OfficeRules, ticket: Ticket, actor: str, now: datetime) -> Ticket:
    """Call a called ticket once more (the board shows it again)."""
    _require_status(ticket, "called")
    ticket.recalls += 1
    _record(session, ticket, "recall", actor, "called", now, counter_id=ticket.counter_id)
    return ticket


@operation
async def transfer(
    session: AsyncSession,
    *,
    ctx: QueueContext,
    office: OfficeRules,
    ticket: Ticket,
    counter_ref: str | None,
    service_slugs: list[str] | None,
    actor: str,
    now: datetime,
) -> Ticket:
    """Send a ticket on to another counter and/or other services; it waits ahead of new arrivals."""
    if counter_ref is None and not service_slugs:
        raise RathausError("nothing_to_transfer")
    _require_status(ticket, "called", "waiting")
    if service_slugs:
        snapshot = await ctx.booking.catalog.get(session, now=now)
        services = resolve_services(snapshot, service_slugs)
        ticket.items = [TicketService(service_id=s.id, position=i) for i, s in enumerate(services)]
    service_ids = frozenset(item.service_id for item in ticket.items)
    target = find_counter(office, counter_ref) if counter_ref is not None else None
    if target is not None and not service_ids <= target.services:
        raise RathausError("counter_cannot_serve", counter=target.name)
    if target is None and not office.able_counters(service_ids, online=False):
        raise RathausError("no_counter_for_services")
    previous = ticket.status
    ticket.status = "waiting"
    ticket.lane = "transfer"
    ticket.queued_at = now
    ticket.target_counter_id = target.id if target is not None else None
    ticket.counter_id = None
    ticket.called_at = None
    detail = ",".join(sorted(str(i) for i in service_ids))
    _record(session, ticket, "transfer", actor, previous, now, counter_id=ticket.target_counter_id, detail=detail)
    return ticket


async def staff_ticket(session: AsyncSession, ticket_id: int) -> Ticket:
    """A ticket by its id with its services in one statement, for the staff API (the caller checks the office)."""
    ticket = await session.get(Ticket, ticket_id, options=[joinedload(Ticket.items)])
    if ticket is None:
        raise RathausError("unknown_ticket")
    return ticket


async def public_ticket(session: AsyncSession, public_id: str) -> Ticket:
    """A ticket by the id on the citizen's ticket page."""
    ticket = await session.scalar(select(Ticket).where(Ticket.public_id == public_id[:32]))
    if ticket is None:
        raise RathausError("unknown_ticket")
    return ticket


async def queue_state(session: AsyncSession, *, ctx: QueueContext, office: OfficeRules, now: datetime) -> QueueState:
    """Today's tickets of the office with positions and estimates."""
    snapshot = await ctx.booking.catalog.get(session, now=now)
    return await load_state(
        session, office=office, services=snapshot.services_by_id, durations_cache=ctx.durations, now=now
    )


def find_counter(office: OfficeRules, ref: str) -> CounterRule:
    """A counter of the office by name (case-insensitive) or id."""
    wanted = ref.strip()
    for counter in office.counters:
        if counter.name.casefold() == wanted.casefold() or str(counter.id) == wanted:
            return counter
    raise RathausError("unknown_counter", counter=wanted[:100])


# --- helpers -------------------------------------------------------------------------------------------


async def _issue(
    session: AsyncSession,
    *,
    office: OfficeRules,
    kind: str,
    lane: str,
    service_ids: list[int],
    booking_id: int | None,
    due_at: datetime | None,
    phone: str | None,
    language: str,
    note: str,
    actor: str,
    now: datetime,
) -> TicketRow:
    """A new waiting ticket with the day's next number, its services and its record, written together: one
    statement on PostgreSQL; on SQLite one hand-over to aiosqlite's thread (with the transaction's BEGIN IMMEDIATE
    if it has not begun), so the writer lock is held for one turn of the event loop.

    The number's row is bumped in the ticket's transaction, so a rollback gives the number back and concurrent
    requests queue on the row (no gaps, no duplicates)."""
    params: dict[str, Any] = {
        "sequence_office": office.id,
        "sequence_day": office.local_day(now),
        "sequence_prefix": PREFIXES[kind],
        "public_id": secrets.token_urlsafe(16),
        "kind": kind,
        "lane": lane,
        "booking_id": booking_id,
        "due_at": due_at,
        "now": now,
        "language": language,
        "phone": phone,
        "note": note,
        "actor": actor,
    }
    params.update((f"service_{i}", service_id) for i, service_id in enumerate(service_ids))
    dialect = session.get_bind().dialect
    make: Any = TicketRow  # positional: the columns come in field order
    if dialect.name != "sqlite":
        row = (await session.execute(_issue_in_one_statement(len(service_ids)), params)).one()
        issued: TicketRow = make(*row, tuple(service_ids))
        return issued
    upsert, issuing, listing, recording = _issue_for_sqlite(dialect, len(service_ids))

    def run(connection: sqlite3.Connection) -> tuple[Any, ...]:
        cursor = connection.cursor()
        try:
            (number,) = cursor.execute(upsert.sql, upsert.args(params)).fetchone()
            raw = cursor.execute(issuing.sql, issuing.args({**params, "number": number})).fetchone()
            known = {**params, "issued_ticket": raw[0]}
            cursor.execute(listing.sql, listing.args(known))
            cursor.execute(recording.sql, recording.args(known))
            return issuing.row(raw)
        finally:
            cursor.close()

    issued = make(*await on_sqlite_thread(session, run), tuple(service_ids))
    return issued


# A new ticket's statements, built once per dialect (and number of services) with every value a parameter.
_ISSUED = bindparam("issued_ticket", type_=Integer)
_NOTE = bindparam("note", type_=String)  # the ticket's note is its record's detail too


def _next_number(insert_of: Callable[[type[TicketSequence]], Any]) -> ReturningInsert[tuple[int]]:
    """The day's next number for an office and prefix (an upsert of its `ticket_sequence` row)."""
    statement: ReturningInsert[tuple[int]] = (
        insert_of(TicketSequence)
        .values(
            office_id=bindparam("sequence_office", type_=Integer),
            day=bindparam("sequence_day", type_=Date),
            prefix=bindparam("sequence_prefix", type_=String),
            last_number=1,
        )
        .on_conflict_do_update(
            index_elements=[TicketSequence.office_id, TicketSequence.day, TicketSequence.prefix],
            set_={"last_number": TicketSequence.last_number + 1},
        )
        .returning(TicketSequence.last_number)
    )
    return statement


def _new_ticket(number: ColumnElement[int]) -> ReturningInsert[Any]:
    """The ticket with this number, answering its `TicketRow` columns."""
    return (
        insert(Ticket)
        .values(
            public_id=bindparam("public_id", type_=String),
            office_id=bindparam("sequence_office", type_=Integer),
            day=bindparam("sequence_day", type_=Date),
            prefix=bindparam("sequence_prefix", type_=String),
            number=number,
            kind=bindparam("kind", type_=String),
            lane=bindparam("lane", type_=String),
            status="waiting",
            booking_id=bindparam("booking_id", type_=Integer),
            due_at=bindparam("due_at", type_=UTCDateTime),
            arrived_at=_NOW,
            queued_at=_NOW,
            recalls=0,
            language=bindparam("language", type_=String),
            phone=bindparam("phone", type_=String),
            turn_near_sent=False,
            note=_NOTE,
        )
        .returning(*ROW_COLUMNS)
    )


def _ticket_services(ticket_id: ColumnElement[int], services: int) -> Insert:
    """The ticket's services (`service_0`, … in their order)."""
    rows = [select(ticket_id, bindparam(f"service_{i}", type_=Integer), literal(i, Integer)) for i in range(services)]
    listed = rows[0] if len(rows) == 1 else union_all(*rows)
    return insert(TicketService).from_select(["ticket_id", "service_id", "position"], listed)


def _issue_record(ticket_id: ColumnElement[int]) -> Insert:
    """The record of the issue in `ticket_event`."""
    values: dict[str, ColumnElement[Any]] = {
        "ticket_id": ticket_id,
        "at": _NOW,
        "action": literal("issue"),
        "actor": _ACTOR,
        "from_status": null(),
        "to_status": literal("waiting"),
        "counter_id": null(),
        "detail": _NOTE,
    }
    return insert(TicketEvent).from_select(list(values), select(*values.values()))


@functools.lru_cache(maxsize=16)
def _issue_in_one_statement(services: int) -> Select[Any]:
    """PostgreSQL: the number, the ticket, its services and its record in one statement (data-modifying WITHs)."""
    number = _next_number(postgresql.insert).cte("number")
    issued = _new_ticket(select(number.c.last_number).scalar_subquery()).cte("issued")
    listed = _ticket_services(issued.c.id, services).cte("listed")
    return select(*issued.c).add_cte(listed, _issue_record(issued.c.id).cte("recorded"))


@functools.lru_cache(maxsize=64)  # per engine's dialect and number of services
def _issue_for_sqlite(
    dialect: Dialect, services: int
) -> tuple[DriverStatement, DriverStatement, DriverStatement, DriverStatement]:
    """SQLite (no INSERT inside WITH): the four statements, compiled for the sqlite3 module."""
    return (
        DriverStatement.of(_next_number(sqlite.insert), dialect),
        DriverStatement.of(_new_ticket(bindparam("number", type_=Integer)), dialect),
        DriverStatement.of(_ticket_services(_ISSUED, services), dialect),
        DriverStatement.of(_issue_record(_ISSUED), dialect),
    )


# The claim's statements are built once per kind of counter and take the office, day and instant as parameters:
# building the statement and its cache key cost more than half of a call-next's CPU.
_OFFICE = bindparam("claim_office", type_=Integer)
_DAY = bindparam("claim_day", type_=Date)
_NOW = bindparam("now", type_=UTCDateTime)
_COUNTER = bindparam("claim_counter", type_=Integer)


def _claim_parameters(office: OfficeRules, now: datetime, counter: CounterRule) -> dict[str, Any]:
    day = office.local_day(now)
    return {"claim_office": office.id, "claim_day": day, "now": now, "claim_counter": counter.id}


def _first_callable(office: OfficeRules, counter: CounterRule, now: datetime) -> Select[tuple[int]]:
    """The id of the ticket `ordering.next_for` picks for this counter among today's waiting tickets, in SQL."""
    return _callable_query(counter.services, counter.walk_in_only).params(_claim_parameters(office, now, counter))


@functools.lru_cache(maxsize=256)
def _callable_query(services: frozenset[int], walk_in_only: bool) -> Select[tuple[int]]:
    """`_first_callable` for a counter that offers `services`, with the office, day and instant as parameters.

    The same rule as `ordering.next_for` (tests/queue/test_call_order_sql.py compares both): the counter offers
    every service of the ticket, the ticket is meant for no other counter (`claim_counter`), a walk-in-only counter
    takes no appointment lane; then the rank of `ordering.order_key` (transfers, due appointments, walk-ins and late
    arrivals, early appointments), its instant, the id. On PostgreSQL a ticket another counter is claiming right now
    is skipped, not waited for.
    """
    # The counter's services as fixed values, not one list parameter expanded anew at every execution (which the
    # statement compiled once for the sqlite3 module could not take either).
    offered = [literal(service_id, Integer) for service_id in sorted(services)]
    foreign_service = (
        select(TicketService.ticket_id)
        .where(TicketService.ticket_id == Ticket.id, TicketService.service_id.not_in(offered))
        .exists()
    )
    booked = (Ticket.lane == "appointment") & Ticket.due_at.is_not(None)
    rank = case((Ticket.lane == "transfer", 0), (booked & (Ticket.due_at <= _NOW), 1), (booked, 3), else_=2)
    instant = case((booked, Ticket.due_at), else_=Ticket.queued_at)
    query = select(Ticket.id).where(
        Ticket.office_id == _OFFICE,
        Ticket.day == _DAY,
        Ticket.status == "waiting",
        or_(Ticket.target_counter_id.is_(None), Ticket.target_counter_id == _COUNTER),
        ~foreign_service,
    )
    if walk_in_only:
        query = query.where(Ticket.lane != "appointment")
    return query.order_by(rank, instant, Ticket.id).limit(1).with_for_update(skip_locked=True)


@functools.lru_cache(maxsize=256)
def _claim_statement(services: frozenset[int], walk_in_only: bool) -> Update:
    """Mark the first callable ticket called by the counter `claim_counter`, returning what `_claim` answers."""
    return (
        update(Ticket)
        .where(Ticket.id == _callable_query(services, walk_in_only).scalar_subquery(), Ticket.status == "waiting")
        .values(status="called", counter_id=_COUNTER, called_at=_NOW, target_counter_id=None)
        .returning(*ROW_COLUMNS, _SERVICES, Ticket.booking_id, Ticket.phone, Ticket.language, _SMS_EXPECTED)
        .execution_options(synchronize_session=False)
    )


_ACTOR = bindparam("actor", type_=String)
_CHANGED = bindparam("changed_ticket", type_=Integer)


@dataclass(frozen=True, slots=True, eq=False)  # cached by identity: `==` on SQL expressions builds SQL
class _Change:
    """A change of one ticket by one `UPDATE … RETURNING` (the `TicketRow` columns first), recorded as `action`
    from the status `previous` to the one it sets (see `models.transition`)."""

    update: Update
    action: ColumnElement[str]
    previous: str


def _recording(changed: FromClause, change: _Change, *where: ColumnElement[bool]) -> Insert:
    """The change's row in `ticket_event`, from the changed ticket's columns in `changed`."""
    values = {
        "ticket_id": changed.c.id,
        "at": _NOW,
        "action": change.action,
        "actor": _ACTOR,
        "from_status": literal(change.previous),
        "to_status": changed.c.status,
        "counter_id": changed.c.counter_id,
        "detail": literal(""),
    }
    return insert(TicketEvent).from_select(list(values), select(*values.values()).where(*where))


@functools.lru_cache(maxsize=256)
def _in_one_statement(change: _Change) -> Select[Any]:
    """PostgreSQL: the change and its record in one statement (a data-modifying WITH), so one round trip."""
    changed = change.update.cte("changed")
    return select(*changed.c).add_cte(_recording(changed, change).cte("recorded"))


@functools.lru_cache(maxsize=256)  # per engine's dialect and change
def _for_sqlite(dialect: Dialect, change: _Change) -> tuple[DriverStatement, DriverStatement]:
    """SQLite (no INSERT inside WITH): the change and its record, compiled for the sqlite3 module."""
    ticket = Ticket.__table__
    return (
        DriverStatement.of(change.update, dialect),
        DriverStatement.of(_recording(ticket, change, ticket.c.id == _CHANGED), dialect),
    )


async def _change_and_record(session: AsyncSession, change: _Change, params: dict[str, Any]) -> Sequence[Any] | None:
    """Change one ticket and record it together, answering the `UPDATE`'s row (None: no ticket matched). One
    statement on PostgreSQL; on SQLite both statements, with the transaction's BEGIN IMMEDIATE, in one hand-over to
    aiosqlite's thread, so the writer lock is held for one turn of the event loop instead of a dozen."""
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        return (await session.execute(_in_one_statement(change), params)).first()
    changing, recording = _for_sqlite(dialect, change)

    def run(connection: sqlite3.Connection) -> tuple[Any, ...] | None:
        cursor = connection.cursor()
        try:
            raw = cursor.execute(changing.sql, changing.args(params)).fetchone()
            if raw is None:
                return None
            cursor.execute(recording.sql, recording.args({**params, "changed_ticket": raw[0]}))
            return changing.row(raw)
        finally:
            cursor.close()

    return await on_sqlite_thread(session, run)


@functools.lru_cache(maxsize=256)
def _claim_change(services: frozenset[int], walk_in_only: bool) -> _Change:
    return _Change(_claim_statement(services, walk_in_only), literal("call"), "waiting")


_TICKET = bindparam("ticket", type_=Integer)
_OUTCOME = bindparam("outcome", type_=String)


def _finish_change() -> _Change:
    finish = (
        update(Ticket)
        .where(Ticket.id == _TICKET, Ticket.status == "called")
        .values(status=_OUTCOME, finished_at=_NOW)
        .returning(*ROW_COLUMNS, _SERVICES, Ticket.booking_id, Ticket.phone, Ticket.language, Ticket.day)
        .execution_options(synchronize_session=False)
    )
    return _Change(finish, _OUTCOME, "called")


async def _claim(
    session: AsyncSession, *, ctx: QueueContext, office: OfficeRules, counter: CounterRule, actor: str, now: datetime
) -> tuple[TicketRow, int | None, str | None, str, bool] | None:
    """Mark the first callable ticket called by this counter and record the call: the ticket, its booking id,
    phone and language, and whether anyone waiting still expects the "your turn is near" SMS; None if nobody
    waits whom the counter can serve."""
    try:
        change = _claim_change(counter.services, counter.walk_in_only)
        row = await _change_and_record(session, change, {**_claim_parameters(office, now, counter), "actor": actor})
    except (IntegrityError, sqlite3.IntegrityError) as error:
        if not _unique_violation(error):
            raise
        # This counter has called someone already (perhaps a moment ago, in a parallel request).
        async with ctx.read_sessions() as reader:
            current = await reader.scalar(
                select(Ticket).where(Ticket.counter_id == counter.id, Ticket.status == "called")
            )
        raise RathausError("counter_busy", counter=counter.name, ticket=current.label if current else "?") from None
    if row is None:
        return None
    *columns, services, booking_id, phone, language, sms_expected = row
    make: Any = TicketRow  # positional: the columns come in field order
    return make(*columns, _service_ids(services)), booking_id, phone, language, bool(sms_expected)


def _unique_violation(error: Exception) -> bool:
    """Whether the claim failed on a unique index: the only one it can break is "one called ticket per counter"."""
    cause = error.orig if isinstance(error, IntegrityError) else error
    return (
        getattr(cause, "pgcode", None) == "23505"
        or getattr(cause, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_UNIQUE"
    )


# The ticket's services as "position:id,…" (RETURNING cannot join; the order of an aggregate is not given).
_SERVICES = (
    select(
        func.aggregate_strings(cast(TicketService.position, String) + ":" + cast(TicketService.service_id, String), ",")
    )
    .where(TicketService.ticket_id == Ticket.id)
    .scalar_subquery()
    .label("service_list")
)


def _service_ids(aggregated: str | None) -> tuple[int, ...]:
    pairs = sorted(tuple(int(n) for n in pair.split(":")) for pair in (aggregated or "").split(",") if pair)
    return tuple(service_id for _position, service_id in pairs)


def _sms_expected() -> Label[bool]:
    """Whether a ticket of the office's day (the claim's parameters) still waits for its "your turn is near" SMS."""
    other = aliased(Ticket)
    return (
        select(other.id)
        .where(other.office_id == _OFFICE, other.day == _DAY, other.status == "waiting")
        .where(other.phone.is_not(None), other.turn_near_sent.is_(False))
        .exists()
        .label("sms_expected")
    )


_SMS_EXPECTED = _sms_expected()
_FINISH = _finish_change()


def _record(
    session: AsyncSession,
    ticket: Ticket | TicketRow,
    action: str,
    actor: str,
    previous: str | None,
    now: datetime,
    *,
    counter_id: int | None = None,
    detail: str = "",
) -> None:
    session.add(
        transition(
            ticket.id,
            action=action,
            actor=actor,
            previous=previous,
            status=ticket.status,
            at=now,
            counter_id=counter_id,
            detail=detail,
        )
    )


def _require_status(ticket: Ticket, *allowed: str) -> None:
    if ticket.status not in allowed:
        raise RathausError("ticket_state", ticket=ticket.label, status=ticket.status)


async def _announce_advance(
    session: AsyncSession, ctx: QueueContext, office: OfficeRules, actor: str, now: datetime
) -> None:
    """Announce the new waiting order with the citizens who left a number and were not yet told it is near."""
    candidates = (
        await session.execute(
            select(Ticket.id, Ticket.phone, Ticket.language, Ticket.booking_id, Ticket.prefix, Ticket.number)
            .where(Ticket.office_id == office.id, Ticket.day == office.local_day(now), Ticket.status == "waiting")
            .where(Ticket.phone.is_not(None), Ticket.turn_near_sent.is_(False))
        )
    ).all()
    if not candidates:
        return
    state = await queue_state(session, ctx=ctx, office=office, now=now)
    waiting = []
    for ticket_id, phone, language, booking_id, prefix, number in candidates:
        estimate = state.estimates.get(ticket_id)
        if estimate is None or estimate.position is None:
            continue
        label = label_of(prefix, number)
        waiting.append(WaitingTicket(ticket_id, label, phone, language, booking_id, ahead=estimate.position - 1))
    await publish(
        session,
        QueueAdvanced(
            office_id=office.id,
            office_day=office.local_day(now).isoformat(),
            waiting=tuple(waiting),
            actor=actor,
            at=now,
        ),
    )


async def mark_turn_near_told(session: AsyncSession, *, ticket_id: int) -> bool:
    """Record that the ticket's citizen was told the turn is near; False if that was done already."""
    marked = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.turn_near_sent.is_(False))
        .values(turn_near_sent=True)
        .execution_options(synchronize_session=False)
    )
    return bool(marked.rowcount)  # type: ignore[attr-defined]


def _open_interval(office: OfficeRules, now: datetime) -> Interval | None:
    for start, end in office.open_after_closures(office.local_day(now)):
        if start <= now < end:
            return start, end
    return None


def _next_acceptance(office: OfficeRules, services: list[ServiceRule], now: datetime) -> datetime | None:
    """The first later opening at which walk-ins for these services are accepted."""
    cutoff = max(office.walk_in_cutoff_for(s) for s in services)
    day = office.local_day(now)
    for offset in range(_LOOK_AHEAD_DAYS):
        for start, end in office.open_after_closures(day + timedelta(days=offset)):
            if start > now and start < end - cutoff:
                return start
    return None


async def _alternatives(
    ctx: QueueContext, office: OfficeRules, services: list[ServiceRule], now: datetime
) -> dict[str, object]:
    """What a refused walk-in can do instead: come back at the next acceptance, or book the next free slot."""
    accepted = _next_acceptance(office, services, now) if all(s.walk_ins_allowed for s in services) else None
    slugs = ",".join(s.slug for s in services)
    extra: dict[str, object] = {"next_accepted_at": accepted.isoformat() if accepted else None, "next_slot": None}
    if not all(s.bookable_online for s in services) or not office.able_counters([s.id for s in services], online=True):
        return extra
    first = await bookings.next_free_slot(
        ctx.read_sessions,
        catalog=ctx.booking.catalog,
        cache=ctx.booking.cache,
        office=office,
        service_slugs=[s.slug for s in services],
        now=now,
        days=_NEXT_SLOT_DAYS,
    )
    if first is not None:
        extra["next_slot"] = {"start": first.start.isoformat(), "end": first.end.isoformat()}
        extra["book_url"] = (
            f"{ctx.public_base_url}/book/time?office={office.slug}"
            f"&services={slugs}&date={first.start.astimezone(office.tz).date().isoformat()}"
        )
    return extra


def _local(office: OfficeRules, iso: object) -> str:
    if not isinstance(iso, str):
        return "—"
    return f"{datetime.fromisoformat(iso).astimezone(office.tz):%d.%m.%Y %H:%M}"


def _code_from_scan(raw: str) -> str:
    """A booking code typed, or read by a scanner from the confirmation's QR code (a URL ending in the code)."""
    text = raw.strip().split("?", 1)[0].rstrip("/")
    return normalise_code(text.rsplit("/", 1)[-1])
