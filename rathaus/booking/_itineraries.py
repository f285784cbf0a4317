"""Life events across offices: proposing itineraries, and booking, viewing and cancelling them as a whole.

Each part of an itinerary is an ordinary booking with its own counter claims; the itinerary only ties them
together. Booking claims every part in one operation (one savepoint): one part taken means none is booked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus import tokens
from rathaus.booking._availability import AvailabilityCache, bookable_slots
from rathaus.booking._bookings import (
    BookingContext,
    BookingRequest,
    BookingView,
    _announce,
    _booking_values,
    _claim,
    _ensure_changeable,
    _insert_booking,
    _normalised,
    _record,
    _release,
    cancel_booking,
    confirm,
    validate_start,
)
from rathaus.booking._changes import check_changes_left
from rathaus.booking._itinerary_rules import MAX_SEARCH_DAYS, check_sequence, life_event_of, travel_of
from rathaus.booking.events import Verification
from rathaus.booking.itinerary import Part, Proposal, StepOptions, propose
from rathaus.booking.models import Booking, Itinerary, ItineraryPart
from rathaus.db import dialect_insert, operation
from rathaus.errors import RathausError
from rathaus.offices.catalog import Catalog, CatalogSnapshot, LifeEventRule, StepRule
from rathaus.offices.rules import OfficeRules

_UNKNOWN_HASH = tokens.hash_secret("no itinerary has this token")


@dataclass(frozen=True, slots=True)
class ItineraryOptions:
    life_event: LifeEventRule
    proposals: list[Proposal]
    offices: dict[str, OfficeRules]


@dataclass(frozen=True, slots=True)
class PartRequest:
    step: str
    office: str
    start: datetime


@dataclass(frozen=True, slots=True)
class ItineraryRequest:
    life_event: str
    parts: list[PartRequest]
    name: str
    email: str | None = None
    phone: str | None = None
    language: str = "de"
    # Every part is held until the contact is confirmed with one code (see BookingRequest.verify_contact).
    verify_contact: bool = False


@dataclass(frozen=True, slots=True)
class ItineraryView:
    itinerary: Itinerary
    life_event: LifeEventRule
    parts: list[BookingView]  # in the order they take place
    manage_token: str | None = None


async def itineraries(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    cache: AvailabilityCache,
    life_event: str,
    since: date | None,
    days: int,
    now: datetime,
    limit: int = 10,
) -> ItineraryOptions:
    """The best itinerary for each day within `days` days from `since` on which the life event can begin."""
    if not 1 <= days <= MAX_SEARCH_DAYS:
        raise RathausError("itinerary_days", most=MAX_SEARCH_DAYS)
    snapshot = await catalog.current(now=now)
    event = life_event_of(snapshot, life_event)
    first_office = event.steps[0].offices[0]
    start = max(since or first_office.local_day(now), first_office.local_day(now))
    window = [start + timedelta(days=i) for i in range(days + event.max_days - 1)]
    steps = []
    for step in event.steps:
        slots: dict[str, list[tuple[datetime, datetime]]] = {}
        days_of: dict[str, list[date]] = {}
        for office in step.offices:
            by_day = await bookable_slots(
                sessions, cache=cache, office=office, services=list(step.services), days=window, now=now
            )
            slots[office.slug] = [(slot.start, slot.end) for day in window for slot in by_day[day]]
            days_of[office.slug] = [day for day in window for _ in by_day[day]]
        steps.append(StepOptions(step.key, step.after, slots, days_of))
    travel, local_day = travel_of(snapshot)
    proposals = [
        p
        for p in propose(steps, travel=travel, local_day=local_day, max_days=event.max_days, limit=days)
        if p.day < start + timedelta(days=days)
    ][:limit]
    return ItineraryOptions(event, proposals, {o.slug: o for s in event.steps for o in s.offices})


def check_parts(
    snapshot: CatalogSnapshot, event: LifeEventRule, parts: list[PartRequest], *, now: datetime
) -> list[tuple[StepRule, OfficeRules, Part]]:
    """The parts as steps at offices at bookable times, one per step, in a valid order; or the error that says why."""
    steps = {step.key: step for step in event.steps}
    if sorted(p.step for p in parts) != sorted(steps):
        raise RathausError("itinerary_steps", steps=", ".join(steps))
    chosen = []
    for request in parts:
        step = steps[request.step]
        office = next((o for o in step.offices if o.slug == request.office), None)
        if office is None:
            raise RathausError(
                "itinerary_office", office=request.office[:64], offices=", ".join(o.slug for o in step.offices)
            )
        if office.verification != "off":
            raise RathausError("itinerary_verification", office=office.name)
        start = validate_start(office, list(step.services), request.start, now=now)
        end = start + sum((s.duration for s in step.services), timedelta())
        chosen.append((step, office, Part(step.key, office.slug, start, end)))
    chosen.sort(key=lambda c: c[2].start)
    check_sequence(snapshot, event, [part for _, _, part in chosen])
    return chosen


@operation
async def book_itinerary(
    session: AsyncSession, *, ctx: BookingContext, request: ItineraryRequest, now: datetime
) -> ItineraryView:
    """Book every part of an itinerary or none: one part taken meanwhile undoes the others (slot_taken)."""
    snapshot = await ctx.catalog.get(session, now=now)
    event = life_event_of(snapshot, request.life_event)
    chosen = check_parts(snapshot, event, request.parts, now=now)
    contact = _normalised(
        BookingRequest(
            office=chosen[0][1].slug,
            services=[],
            start=chosen[0][2].start,
            name=request.name,
            email=request.email,
            phone=request.phone,
            language=request.language,
        )
    )
    token = tokens.new_token()
    itinerary = await _insert_itinerary(session, event=event, token=token, language=contact.language, now=now)
    sealed = tokens.seal(token, ctx.secret_key)
    code = tokens.new_verification_code() if request.verify_contact else None
    verification = None if code is None else Verification(code, "email" if contact.email else "sms")
    # The parts are held together: until the shortest hold of their offices.
    hold_until = now + min(office.hold for _, office, _ in chosen)
    views = []
    for position, (step, office, part) in enumerate(chosen):
        services = list(step.services)
        values = _booking_values(
            office=office,
            services=services,
            request=contact,
            start=part.start,
            token=token,
            verification_code=code,
            meeting_url=None,
            now=now,
        )
        booking = await _insert_booking(session, office=office, services=services, values=values)
        if code is not None:
            booking.hold_expires_at = hold_until
        session.add(ItineraryPart(itinerary_id=itinerary.id, booking_id=booking.id, position=position, step=step.key))
        booking.counter_id = await _claim(session, booking=booking, office=office, services=services, now=now)
        _record(session, booking, "booking.created", "citizen", None, now)
        await _announce(
            session,
            booking,
            "created",
            "citizen",
            now,
            manage_token=sealed,
            itinerary=itinerary.code,
            verification=verification,  # one message for all parts (notify.together)
        )
        ctx.invalidate_after_commit(session, office.id)
        views.append(BookingView(booking, office, services))
    await session.flush()
    return ItineraryView(itinerary, event, views, token)


async def view_itinerary(
    session: AsyncSession, *, ctx: BookingContext, code: str, token: str, now: datetime
) -> ItineraryView:
    """An itinerary with its parts, for the holder of its manage token."""
    itinerary = await _authorised(session, code=code, token=token)
    return await _view(session, ctx=ctx, itinerary=itinerary, now=now)


@operation
async def confirm_itinerary(
    session: AsyncSession, *, ctx: BookingContext, code: str, token: str, verification_code: str, now: datetime
) -> ItineraryView:
    """Confirm every held part with the one code sent for all (the parts share the manage token and the code:
    a wrong code counts against the first part held, as on a booking's own page)."""
    itinerary = await _authorised(session, code=code, token=token)
    result = await _view(session, ctx=ctx, itinerary=itinerary, now=now)
    for part in result.parts:
        if part.booking.status == "pending":
            await confirm(
                session, ctx=ctx, code=part.booking.code, token=token, verification_code=verification_code, now=now
            )
    return await _view(session, ctx=ctx, itinerary=itinerary, now=now)


@operation
async def cancel_itinerary(
    session: AsyncSession, *, ctx: BookingContext, code: str, token: str, now: datetime
) -> ItineraryView:
    """Cancel every part not yet over; each part's claims are freed. Cancelling twice answers the same."""
    itinerary = await _authorised(session, code=code, token=token)
    result = await _view(session, ctx=ctx, itinerary=itinerary, now=now)
    active = [part.booking for part in result.parts if part.booking.status in ("pending", "confirmed")]
    for booking in active:
        _ensure_changeable(booking, now)
    sealed = tokens.seal(token, ctx.secret_key)
    for booking in active:
        await cancel_booking(
            session, ctx=ctx, booking=booking, reason="citizen", actor="citizen", now=now, sealed_manage_token=sealed
        )
    itinerary.updated_at = now
    return result


@operation
async def reschedule_itinerary(
    session: AsyncSession, *, ctx: BookingContext, code: str, token: str, parts: list[PartRequest], now: datetime
) -> ItineraryView:
    """Move every part at once (each at its office); the old slots are given up only if all new ones are secured."""
    itinerary = await _authorised(session, code=code, token=token)
    await _lock_parts(session, itinerary)
    current = await _view(session, ctx=ctx, itinerary=itinerary, now=now)
    snapshot = await ctx.catalog.get(session, now=now)
    for part in current.parts:
        _ensure_changeable(part.booking, now)
    chosen = check_parts(snapshot, current.life_event, parts, now=now)
    step_of = {p.booking_id: p.step for p in itinerary.parts}
    by_step = {step_of[part.booking.id]: part for part in current.parts}
    for step, office, _ in chosen:
        if by_step[step.key].office.id != office.id:
            raise RathausError("itinerary_office", office=office.slug, offices=by_step[step.key].office.slug)
    for part in current.parts:
        # Moving the itinerary moves each part: it counts against each booking's cap like a move of its own.
        await check_changes_left(session, booking=part.booking, most=ctx.max_changes)
    for part in current.parts:
        await _release(session, part.booking)
    sealed = tokens.seal(token, ctx.secret_key)
    for step, office, new in chosen:
        booking = by_step[step.key].booking
        booking.start_at, booking.end_at = new.start, new.end
        booking.counter_id = await _claim(
            session, booking=booking, office=office, services=list(step.services), now=now
        )
        booking.ical_sequence += 1
        booking.updated_at = now
        _record(session, booking, "booking.rescheduled", "citizen", booking.status, now)
        await _announce(session, booking, "rescheduled", "citizen", now, manage_token=sealed, itinerary=itinerary.code)
        ctx.invalidate_after_commit(session, office.id)
    itinerary.updated_at = now
    return await _view(session, ctx=ctx, itinerary=itinerary, now=now)


async def _insert_itinerary(
    session: AsyncSession, *, event: LifeEventRule, token: str, language: str, now: datetime
) -> Itinerary:
    for _ in range(5):
        statement = (
            dialect_insert(session, Itinerary)
            .values(
                code=tokens.new_code(),
                life_event=event.slug,
                token_hash=tokens.hash_secret(token),
                language=language,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[Itinerary.code])
            .returning(Itinerary)
        )
        itinerary = (await session.scalars(statement)).one_or_none()
        if itinerary is not None:
            return itinerary
    raise RuntimeError("could not draw an unused itinerary code")


async def _authorised(session: AsyncSession, *, code: str, token: str) -> Itinerary:
    itinerary = await session.scalar(select(Itinerary).where(Itinerary.code == tokens.normalise_code(code)))
    if not tokens.matches(token, itinerary.token_hash if itinerary else _UNKNOWN_HASH) or itinerary is None:
        raise RathausError("unknown_itinerary")
    return itinerary


async def _lock_parts(session: AsyncSession, itinerary: Itinerary) -> None:
    """Lock the itinerary's bookings (in id order, as every locker does) and read them as committed, so that a move
    of the whole and a move of one part run one after the other (see `_bookings._authorised`)."""
    ids = [part.booking_id for part in itinerary.parts]
    locked = select(Booking).where(Booking.id.in_(ids)).order_by(Booking.id).with_for_update(of=Booking)
    (await session.scalars(locked.execution_options(populate_existing=True))).all()


async def _view(session: AsyncSession, *, ctx: BookingContext, itinerary: Itinerary, now: datetime) -> ItineraryView:
    snapshot = await ctx.catalog.get(session, now=now)
    event = life_event_of(snapshot, itinerary.life_event)
    ids = [part.booking_id for part in itinerary.parts]
    bookings = (await session.scalars(select(Booking).where(Booking.id.in_(ids)).order_by(Booking.start_at))).all()
    parts = [
        BookingView(b, snapshot.office_by_id(b.office_id), [snapshot.services_by_id[i.service_id] for i in b.items])
        for b in bookings
    ]
    return ItineraryView(itinerary, event, parts)
