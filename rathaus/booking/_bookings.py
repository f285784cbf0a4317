"""Creating, viewing, confirming, cancelling and moving bookings."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers, lazyload, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from rathaus import i18n, tokens
from rathaus.booking import _creation
from rathaus.booking._availability import (
    AvailabilityCache,
    appointment_length,
    busy_cells,
    check_mode,
    check_online,
)
from rathaus.booking._changes import check_changes_left
from rathaus.booking._day_claims import note_claimed, note_freed
from rathaus.booking._itinerary_rules import check_moved_part
from rathaus.booking.availability import cells
from rathaus.booking.events import (
    BookingChanged,
    BookingFacts,
    CreationProbe,
    CreationRows,
    NewRows,
    Verification,
)
from rathaus.booking.models import Booking, BookingEvent, BookingService, IdempotentRequest, SlotClaim
from rathaus.contact import normalise_email, normalise_mobile, normalise_number
from rathaus.db import dialect_insert, keep_on_error, operation
from rathaus.errors import RathausError
from rathaus.events import publish
from rathaus.i18n import N_
from rathaus.offices.catalog import Catalog, resolve_services
from rathaus.offices.rules import OfficeRules, ServiceRule
from rathaus.text import visible

ACTIVE = ("pending", "confirmed")
_Row = TypeVar("_Row", Booking, BookingService)
MAX_VERIFICATION_ATTEMPTS = 5
IDEMPOTENCY_RETENTION = timedelta(days=1)
_UNKNOWN_HASH = tokens.hash_secret("no booking has this token")


@dataclass(frozen=True, slots=True)
class BookingContext:
    """What booking operations need besides the session: the cached rules and the app secret."""

    catalog: Catalog
    cache: AvailabilityCache
    secret_key: str
    # RATHAUS_VIDEO_URL_TEMPLATE: empty, no video appointments are offered.
    video_url_template: str = ""
    # RATHAUS_BOOKING_MAX_CHANGES: how often a citizen may move one booking.
    max_changes: int = 2
    # What the reactions to a new booking ask in the statement that writes it (see `CreationProbe`), and the
    # reactions that hand over their rows to be written by it (see `CreationRows`).
    probes: tuple[CreationProbe, ...] = ()
    rows: tuple[CreationRows, ...] = ()

    @property
    def video(self) -> bool:
        """Whether video appointments can be given their meeting links."""
        return bool(self.video_url_template)

    def invalidate_after_commit(self, session: AsyncSession, office_id: int) -> None:
        """Drop cached availability of the office once the change commits."""
        self.cache.invalidate_after_commit(session, office_id)


@dataclass(frozen=True, slots=True)
class BookingRequest:
    office: str
    services: list[str]
    start: datetime
    name: str
    email: str | None = None
    phone: str | None = None
    language: str = "de"
    mode: str = "on_site"
    call_number: str | None = None  # the number to call, for a phone appointment
    # The booking is held until its contact is confirmed with a code even where the office verifies none: it
    # came from a form without the proof of work (a browser without JavaScript).
    verify_contact: bool = False


@dataclass(frozen=True, slots=True)
class BookingView:
    booking: Booking
    office: OfficeRules
    services: list[ServiceRule]
    manage_token: str | None = None


@operation
async def book(
    session: AsyncSession,
    *,
    ctx: BookingContext,
    request: BookingRequest,
    idempotency_key: str | None,
    now: datetime,
) -> BookingView:
    """Book a slot: claim it on an able counter, or fail with slot_taken and write nothing."""
    request = _normalised(request)
    # Only a request with a key is compared with an earlier one.
    request_hash = _request_hash(request) if idempotency_key is not None else ""
    if idempotency_key is not None:
        # A replay answers as the first request did, even if its slot has since moved into the past.
        replay = await _replay(session, ctx=ctx, key=idempotency_key, request_hash=request_hash, now=now)
        if replay is not None:
            return replay
    snapshot = await ctx.catalog.get(session, now=now)
    office = await ctx.catalog.office(session, request.office, now=now)
    services = resolve_services(snapshot, request.services)
    check_online(services)
    check_mode(office, services, request.mode, video=ctx.video)
    channel = office.verification
    if channel == "off" and request.verify_contact:
        channel = "email" if request.email else "sms"
    if channel != "off" and getattr(request, "email" if channel == "email" else "phone") is None:
        needed = N_("e-mail address") if channel == "email" else N_("mobile number")
        raise RathausError("contact_required", channel=i18n.Text(needed))
    start = validate_start(office, services, request.start, now=now)

    idempotency: IdempotentRequest | None = None
    if idempotency_key is not None:
        idempotency = await _reserve_key(session, key=idempotency_key, request_hash=request_hash, now=now)
        if idempotency is None:
            replay = await _replay(session, ctx=ctx, key=idempotency_key, request_hash=request_hash, now=now)
            if replay is None:
                raise RathausError("slot_taken")
            return replay

    token = tokens.new_token()
    sealed = tokens.seal(token, ctx.secret_key)
    verification_code = tokens.new_verification_code() if channel != "off" else None
    values = _booking_values(
        office=office,
        services=services,
        request=request,
        start=start,
        token=token,
        verification_code=verification_code,
        meeting_url=_meeting_url(ctx) if request.mode == "video" else None,
        now=now,
    )
    # The reactions that can hand over their rows do so now, so that the booking's statement writes them too.
    created = BookingChanged(
        booking=_facts_of_new(values),
        change="created",
        actor="citizen",
        at=now,
        manage_token=sealed,
        verification=None if verification_code is None else Verification(verification_code, channel),
    )
    handed = [(writer.name, await writer.build(session, created)) for writer in ctx.rows]
    booking, answers = await _create_booking(
        session,
        probes=ctx.probes,
        rows=tuple(rows for _, rows in handed if rows is not None),
        office=office,
        services=services,
        request=request,
        values=values,
        action="booking.created",
        actor="citizen",
        now=now,
    )
    await publish(
        session,
        dataclasses.replace(
            created,
            booking=facts(booking),
            answers=answers,
            written=frozenset(name for name, _ in handed),
        ),
    )
    if idempotency is not None:
        idempotency.booking_id = booking.id
        idempotency.sealed_token = sealed
    if session.new or session.dirty or session.deleted:
        # What the key or the reactions changed fails here, inside the operation, if it fails. Usually nothing is
        # left (the booking's statement wrote it all), and an empty flush still costs a hand-over to the greenlet.
        await session.flush()
    ctx.invalidate_after_commit(session, office.id)
    return BookingView(booking, office, services, token)


async def view(session: AsyncSession, *, ctx: BookingContext, code: str, token: str, now: datetime) -> BookingView:
    """A booking for the holder of its manage token, with its history."""
    booking = await _authorised(session, code=code, token=token, with_events=True)
    return await _view(session, ctx=ctx, booking=booking, now=now)


@operation
async def cancel(session: AsyncSession, *, ctx: BookingContext, code: str, token: str, now: datetime) -> BookingView:
    """Cancel by the citizen; cancelling twice answers the same."""
    booking = await _authorised(session, code=code, token=token, lock=True)
    if booking.status != "cancelled":
        _ensure_changeable(booking, now)
        await cancel_booking(
            session,
            ctx=ctx,
            booking=booking,
            reason="citizen",
            actor="citizen",
            now=now,
            sealed_manage_token=tokens.seal(token, ctx.secret_key),
        )
    return await _view(session, ctx=ctx, booking=booking, now=now)


async def cancel_booking(
    session: AsyncSession,
    *,
    ctx: BookingContext,
    booking: Booking,
    reason: str,
    actor: str,
    now: datetime,
    detail: dict[str, str] | None = None,
    sealed_manage_token: str | None = None,
) -> None:
    """Cancel an active booking for `reason` (citizen, office, closure), free its slot and announce it."""
    await _release(session, booking)
    _transition(session, booking, "cancelled", f"booking.cancelled.by_{reason}", actor, now)
    booking.cancel_reason = reason
    booking.ical_sequence += 1
    await _announce(
        session, booking, "cancelled", actor, now, manage_token=sealed_manage_token, reason=reason, detail=detail
    )
    ctx.invalidate_after_commit(session, booking.office_id)


@operation
async def reschedule(
    session: AsyncSession, *, ctx: BookingContext, code: str, token: str, start: datetime, now: datetime
) -> BookingView:
    """Move a booking; the old slot is given up only in the transaction that secures the new one."""
    booking = await _authorised(session, code=code, token=token, lock=True)
    _ensure_changeable(booking, now)
    snapshot = await ctx.catalog.get(session, now=now)
    office = snapshot.office_by_id(booking.office_id)
    services = [snapshot.services_by_id[item.service_id] for item in booking.items]
    start = validate_start(office, services, start, now=now)
    if start == booking.start_at:
        raise RathausError("same_time")
    await check_changes_left(session, booking=booking, most=ctx.max_changes)
    await check_moved_part(session, snapshot, booking=booking, start=start, end=start + appointment_length(services))
    await _release(session, booking)
    booking.start_at = start
    booking.end_at = start + appointment_length(services)
    booking.counter_id = await _claim(session, booking=booking, office=office, services=services, now=now)
    booking.ical_sequence += 1
    _record(session, booking, "booking.rescheduled", "citizen", booking.status, now)
    booking.updated_at = now
    await _announce(session, booking, "rescheduled", "citizen", now, manage_token=tokens.seal(token, ctx.secret_key))
    ctx.invalidate_after_commit(session, office.id)
    return BookingView(booking, office, services)


@operation
async def confirm(
    session: AsyncSession, *, ctx: BookingContext, code: str, token: str, verification_code: str, now: datetime
) -> BookingView:
    """Turn a held booking into a confirmed one with the code sent to the citizen."""
    booking = await _authorised(session, code=code, token=token)
    if booking.status == "confirmed":
        return await _view(session, ctx=ctx, booking=booking, now=now)
    if booking.status != "pending":
        raise RathausError("not_pending", status=booking.status)
    if booking.hold_expires_at is not None and booking.hold_expires_at <= now:
        raise RathausError("hold_expired")
    if not tokens.matches(verification_code.strip(), booking.verification_code_hash):
        booking.verification_attempts += 1
        booking.updated_at = now
        keep_on_error(session)
        left = MAX_VERIFICATION_ATTEMPTS - booking.verification_attempts
        if left > 0:
            raise RathausError("wrong_verification_code", left=left)
        await _release(session, booking)
        _transition(session, booking, "expired", "booking.expired.too_many_attempts", "citizen", now)
        await _announce(session, booking, "expired", "citizen", now)
        ctx.invalidate_after_commit(session, booking.office_id)
        raise RathausError("too_many_attempts")
    booking.hold_expires_at = None
    booking.verification_code_hash = None
    await session.execute(update(SlotClaim).where(SlotClaim.booking_id == booking.id).values(expires_at=None))
    _transition(session, booking, "confirmed", "booking.confirmed", "citizen", now)
    await _announce(
        session, booking, "confirmed", "citizen", now, manage_token=tokens.seal(token, ctx.secret_key), verified=True
    )
    return await _view(session, ctx=ctx, booking=booking, now=now)


async def expire_holds(session: AsyncSession, *, ctx: BookingContext, now: datetime) -> int:
    """Mark unverified holds past their expiry as expired and free their cells; returns how many."""
    expired = (
        await session.scalars(
            select(Booking).where(Booking.status == "pending", Booking.hold_expires_at <= now).limit(500)
        )
    ).all()
    for booking in expired:
        await _release(session, booking)
        _transition(session, booking, "expired", "booking.expired.hold", "system", now)
        await _announce(session, booking, "expired", "system", now)
        ctx.invalidate_after_commit(session, booking.office_id)
    return len(expired)


def validate_start(office: OfficeRules, services: list[ServiceRule], start: datetime, *, now: datetime) -> datetime:
    """The start as a UTC instant if it is a bookable slot start by the rules (claims are checked later)."""
    start = start.astimezone(UTC)
    if start < now:
        raise RathausError("start_in_past")
    if start < now + office.lead:
        raise RathausError("inside_lead_time", minutes=int(office.lead.total_seconds() // 60))
    if start > office.booking_window(now)[1]:
        if office.releases is not None:
            raise RathausError("not_released")
        raise RathausError("past_horizon", days=office.horizon.days)
    end = start + appointment_length(services)
    interval = next(
        (
            (opens, closes)
            for opens, closes in office.open_intervals(office.local_day(start))
            if opens <= start and end <= closes
        ),
        None,
    )
    if interval is None:
        raise RathausError("outside_hours")
    if (start - interval[0]) % office.slot:
        raise RathausError("not_on_slot", minutes=int(office.slot.total_seconds() // 60))
    closures = office.closures_between(start, end)
    if closures:
        raise RathausError("in_closure", reason=closures[0].reason)
    return start


async def _claim(
    session: AsyncSession, *, booking: Booking, office: OfficeRules, services: list[ServiceRule], now: datetime
) -> int:
    """Claim the booking's cells on the first able counter that is free; the primary key decides races.

    One statement per counter tried: it inserts the cells, takes over cells of holds that have expired, and
    returns what it got. A concurrent claimer of the same cell waits for the other's commit (PostgreSQL) or
    for the writer lock (SQLite) and then finds the cell taken.
    """
    needed = cells(booking.start_at, appointment_length(services) + office.buffer, office.slot)
    able = [c.id for c in office.able_counters((s.id for s in services), online=True, mode=booking.mode)]
    if not able:
        raise RathausError("no_counter_for_services")
    busy = await busy_cells(session, counters=able, start=needed[0], end=needed[-1] + office.slot, now=now)
    wanted = set(needed)
    # Counters and cells in a fixed order, so that concurrent claimers never wait on each other in a cycle.
    for counter_id in (c for c in able if not busy.get(c, set()) & wanted):
        rows = [
            {
                "counter_id": counter_id,
                "cell_start": cell,
                "booking_id": booking.id,
                "expires_at": booking.hold_expires_at,
            }
            for cell in needed
        ]
        statement = dialect_insert(session, SlotClaim).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=[SlotClaim.counter_id, SlotClaim.cell_start],
            set_={"booking_id": statement.excluded.booking_id, "expires_at": statement.excluded.expires_at},
            where=SlotClaim.expires_at <= now,  # only an expired hold gives way
        )
        got = (await session.execute(statement.returning(SlotClaim.cell_start))).scalars().all()
        if len(got) == len(needed):
            note_claimed(session, office_id=office.id, counter_id=counter_id, cells=needed)
            return counter_id
        if got:  # some cells were taken meanwhile: give back the others before trying the next counter
            await session.execute(
                delete(SlotClaim).where(SlotClaim.booking_id == booking.id, SlotClaim.counter_id == counter_id)
            )
    raise RathausError("slot_taken")


async def _release(session: AsyncSession, booking: Booking) -> None:
    freed = await session.execute(
        delete(SlotClaim)
        .where(SlotClaim.booking_id == booking.id)
        .returning(SlotClaim.counter_id, SlotClaim.cell_start)
    )
    for counter_id, cell in freed.tuples():
        note_freed(session, office_id=booking.office_id, counter_id=counter_id, cells=[cell])


def _booking_values(
    *,
    office: OfficeRules,
    services: list[ServiceRule],
    request: BookingRequest,
    start: datetime,
    token: str,
    verification_code: str | None,
    meeting_url: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A new booking's columns (without its code and counter)."""
    pending = verification_code is not None
    return {
        "office_id": office.id,
        "start_at": start,
        "end_at": start + appointment_length(services),
        "status": "pending" if pending else "confirmed",
        "language": request.language,
        "name": request.name,
        "email": request.email,
        "phone": request.phone,
        "mode": request.mode,
        "call_number": request.call_number,
        "meeting_url": meeting_url,
        "token_hash": tokens.hash_secret(token),
        "verification_code_hash": tokens.hash_secret(verification_code) if verification_code else None,
        "verification_attempts": 0,
        "hold_expires_at": now + office.hold if pending else None,
        "ical_sequence": 0,
        "created_at": now,
        "updated_at": now,
    }


async def _create_booking(
    session: AsyncSession,
    *,
    probes: tuple[CreationProbe, ...],
    rows: tuple[NewRows, ...] = (),
    office: OfficeRules,
    services: list[ServiceRule],
    request: BookingRequest,
    values: dict[str, Any],
    action: str,
    actor: str,
    now: datetime,
) -> tuple[Booking, dict[str, int]]:
    """Write a new booking with its services, claims and first history event (see `_creation`), or fail with
    slot_taken. The booking comes back as a persistent object, as if loaded, with the probes' answers."""
    able = [c.id for c in office.able_counters((s.id for s in services), online=True, mode=request.mode)]
    if not able:
        raise RathausError("no_counter_for_services")
    new = _creation.NewBooking(
        values=values,
        service_ids=[s.id for s in services],
        counters=able,
        cells=cells(values["start_at"], appointment_length(services) + office.buffer, office.slot),
        action=action,
        actor=actor,
        probes=probes,
        rows=rows,
    )
    for _ in range(5):
        code = tokens.new_code()
        written = await _creation.write(session, new, code=code, now=now)
        if written is not None:
            break  # else the random code is taken; draw another
    else:
        raise RuntimeError("could not draw an unused booking code")
    booking = _persistent(
        Booking,
        {
            **values,
            "id": written.id,
            "code": code,
            "counter_id": written.counter_id,
            "cancel_reason": None,
            "closure_id": None,
            "purged_at": None,
        },
    )
    items = [
        _persistent(BookingService, {"booking_id": written.id, "service_id": s, "position": i})
        for i, s in enumerate(new.service_ids)
    ]
    set_committed_value(booking, "items", items)
    session.add(booking)
    if written.claimed == len(new.cells):
        note_claimed(session, office_id=office.id, counter_id=written.counter_id, cells=new.cells)
    else:
        # A concurrent claimer came first on the chosen counter (or none looked free): try them one by one.
        if written.claimed:
            await _release(session, booking)
        booking.counter_id = await _claim(session, booking=booking, office=office, services=services, now=now)
    return booking, written.answers


def _persistent(entity: type[_Row], columns: dict[str, Any]) -> _Row:
    """An object for a row just written by a statement of our own, with every column's value: the session takes it
    as loaded.

    The values go into the instance's dictionary as a query's load puts them there: the constructor would set each
    through its instrumented attribute (an event and a history entry per column, ~4 % of a booking's CPU), only
    for `make_transient_to_detached` to declare them all unchanged.
    """
    configure_mappers()  # what the constructor would do first (a no-op once they are)
    instance: _Row = inspect(entity).class_manager.new_instance()
    instance.__dict__.update(columns)
    make_transient_to_detached(instance)
    return instance


async def _insert_booking(
    session: AsyncSession, *, office: OfficeRules, services: list[ServiceRule], values: dict[str, Any]
) -> Booking:
    """Write a booking of `_booking_values` on the office's first able counter (the caller claims its cells)."""
    values = {
        **values,
        "counter_id": office.able_counters((s.id for s in services), online=True, mode=values["mode"])[0].id,
    }
    for _ in range(5):
        statement = (
            dialect_insert(session, Booking)
            .values(code=tokens.new_code(), **values)
            .on_conflict_do_nothing(index_elements=[Booking.code])
            .returning(Booking)
            # The services are set below from what was just inserted; loading them would be a wasted query.
            .options(lazyload(Booking.items))
        )
        booking = (await session.scalars(statement)).one_or_none()
        if booking is None:
            continue  # the random code is taken; draw another
        items = [BookingService(booking_id=booking.id, service_id=s.id, position=i) for i, s in enumerate(services)]
        session.add_all(items)
        set_committed_value(booking, "items", items)
        return booking
    raise RuntimeError("could not draw an unused booking code")


async def _reserve_key(
    session: AsyncSession, *, key: str, request_hash: str, now: datetime
) -> IdempotentRequest | None:
    """Insert the key before anything else; None if a request with the same key came first.

    A concurrent request with the same key waits here until the first one commits, then replays it.
    """
    statement = (
        dialect_insert(session, IdempotentRequest)
        .values(key=key, request_hash=request_hash, created_at=now, expires_at=now + IDEMPOTENCY_RETENTION)
        .on_conflict_do_nothing(index_elements=[IdempotentRequest.key])
        .returning(IdempotentRequest)
    )
    return (await session.scalars(statement)).one_or_none()


async def _replay(
    session: AsyncSession, *, ctx: BookingContext, key: str, request_hash: str, now: datetime
) -> BookingView | None:
    row = await session.scalar(
        select(IdempotentRequest).where(IdempotentRequest.key == key).execution_options(populate_existing=True)
    )
    if row is None or row.booking_id is None:
        return None
    if row.request_hash != request_hash:
        raise RathausError("idempotency_mismatch")
    booking = await session.get_one(Booking, row.booking_id)
    result = await _view(session, ctx=ctx, booking=booking, now=now)
    return BookingView(result.booking, result.office, result.services, tokens.unseal(row.sealed_token, ctx.secret_key))


async def _authorised(
    session: AsyncSession, *, code: str, token: str, with_events: bool = False, lock: bool = False
) -> Booking:
    """The booking if `token` is its manage token; an unknown code and a wrong token answer alike.

    With `lock`, the booking row stays locked to this transaction and is read as committed: concurrent changes of
    one booking then run one after the other, each seeing what the one before did (the cap on moves counts on it).
    SQLite ignores the lock; there every writing transaction holds the writer lock from its start anyway.
    """
    query = select(Booking).where(Booking.code == tokens.normalise_code(code))
    if with_events:
        query = query.options(selectinload(Booking.events))
    if lock:
        query = query.with_for_update(of=Booking).execution_options(populate_existing=True)
    booking = await session.scalar(query)
    if not tokens.matches(token, booking.token_hash if booking else _UNKNOWN_HASH) or booking is None:
        raise RathausError("unknown_booking")
    return booking


async def _view(session: AsyncSession, *, ctx: BookingContext, booking: Booking, now: datetime) -> BookingView:
    snapshot = await ctx.catalog.get(session, now=now)
    office = snapshot.office_by_id(booking.office_id)
    return BookingView(booking, office, [snapshot.services_by_id[i.service_id] for i in booking.items])


def _facts_of_new(values: dict[str, Any]) -> BookingFacts:
    """What reactions may know of a booking about to be written (`_booking_values`): no id and no code yet."""
    return BookingFacts(
        id=0,
        code="",
        office_id=values["office_id"],
        status=values["status"],
        start=values["start_at"],
        end=values["end_at"],
        language=values["language"],
        email=values["email"],
        phone=values["phone"],
        sequence=values["ical_sequence"],
    )


def facts(booking: Booking) -> BookingFacts:
    """What reactions to a booking change may know of it."""
    return BookingFacts(
        id=booking.id,
        code=booking.code,
        office_id=booking.office_id,
        status=booking.status,
        start=booking.start_at,
        end=booking.end_at,
        language=booking.language,
        email=booking.email,
        phone=booking.phone,
        sequence=booking.ical_sequence,
    )


async def _announce(
    session: AsyncSession,
    booking: Booking,
    change: str,
    actor: str,
    now: datetime,
    *,
    manage_token: str | None = None,
    verification: Verification | None = None,
    reason: str | None = None,
    detail: dict[str, str] | None = None,
    itinerary: str | None = None,
    verified: bool = False,
    answers: dict[str, int] | None = None,
) -> None:
    await publish(
        session,
        BookingChanged(
            booking=facts(booking),
            change=change,
            actor=actor,
            at=now,
            manage_token=manage_token,
            verification=verification,
            reason=reason,
            detail=detail or {},
            itinerary=itinerary,
            verified=verified,
            answers=answers or {},
        ),
    )


def _ensure_changeable(booking: Booking, now: datetime) -> None:
    if booking.status not in ACTIVE:
        raise RathausError("not_changeable", status=booking.status)
    if booking.start_at <= now:
        raise RathausError("already_started")


def _transition(session: AsyncSession, booking: Booking, status: str, action: str, actor: str, now: datetime) -> None:
    previous = booking.status
    booking.status = status
    booking.updated_at = now
    _record(session, booking, action, actor, previous, now)


def _record(
    session: AsyncSession, booking: Booking, action: str, actor: str, previous: str | None, now: datetime
) -> None:
    session.add(
        BookingEvent(
            booking_id=booking.id,
            at=now,
            action=action,
            actor=actor,
            from_status=previous,
            to_status=booking.status,
            detail="",
        )
    )


def _normalised(request: BookingRequest) -> BookingRequest:
    name = visible(request.name)
    if not name:
        raise RathausError("name_required")
    if not i18n.offers(request.language):
        raise RathausError("invalid_language", languages=i18n.OneOf(i18n.languages()))
    email = normalise_email(request.email) if request.email else None
    phone = normalise_mobile(request.phone) if request.phone else None
    if email is None and phone is None:
        raise RathausError("no_contact")
    call_number = None
    if request.mode == "phone":
        if not request.call_number or not request.call_number.strip():
            raise RathausError("call_number_required")
        call_number = normalise_number(request.call_number)
    return BookingRequest(
        office=request.office,
        services=list(request.services),
        start=request.start,
        name=name,
        email=email,
        phone=phone,
        language=request.language,
        mode=request.mode,
        call_number=call_number,
        verify_contact=request.verify_contact,
    )


def _meeting_url(ctx: BookingContext) -> str:
    """A new meeting of the city's video provider, in a room of its own."""
    return ctx.video_url_template.replace("{room}", tokens.new_room_name())


def _request_hash(request: BookingRequest) -> str:
    canonical = json.dumps(
        [
            request.office,
            request.services,
            request.start.astimezone(UTC).isoformat(),
            request.name,
            request.email,
            request.phone,
            request.language,
            request.mode,
            request.call_number,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
