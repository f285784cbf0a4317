"""Slots held for another package's process (a waiting list's offer) until it confirms or releases them.

A hold is a pending booking whose claim does not lapse on its own: open booking never sees the slot, and only the
holder decides when it becomes a confirmed booking or is given back (announced as `expired`, so that whoever
waits for freed capacity hears of it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import tokens
from rathaus.booking._availability import check_online
from rathaus.booking._bookings import (
    ACTIVE,
    BookingContext,
    BookingRequest,
    BookingView,
    _announce,
    _booking_values,
    _claim,
    _insert_booking,
    _record,
    _release,
    _transition,
    validate_start,
)
from rathaus.booking.models import Booking, BookingService
from rathaus.db import operation
from rathaus.errors import RathausError


@dataclass(frozen=True, slots=True)
class Hold:
    """A slot held firmly: the pending booking that claims it."""

    booking_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Holder:
    """Who the slot is held for (the booking's contact once it is confirmed)."""

    name: str
    email: str | None
    phone: str | None
    language: str


@operation
async def hold(
    session: AsyncSession,
    *,
    ctx: BookingContext,
    office_id: int,
    service_ids: list[int],
    start: datetime,
    holder: Holder,
    actor: str,
    now: datetime,
) -> Hold:
    """Claim a bookable slot for `holder` without telling anyone yet, or fail with slot_taken and write nothing."""
    snapshot = await ctx.catalog.get(session, now=now)
    office = snapshot.office_by_id(office_id)
    services = [snapshot.services_by_id[i] for i in service_ids]
    check_online(services)
    start = validate_start(office, services, start, now=now)
    request = BookingRequest(
        office=office.slug,
        services=[s.slug for s in services],
        start=start,
        name=holder.name,
        email=holder.email,
        phone=holder.phone,
        language=holder.language,
    )
    values = _booking_values(
        office=office,
        services=services,
        request=request,
        start=start,
        token=tokens.new_token(),  # nobody learns it: the holder's confirmation issues the citizen's token
        verification_code=None,
        meeting_url=None,  # held appointments are on site
        now=now,
    )
    booking = await _insert_booking(session, office=office, services=services, values=values)
    booking.status = "pending"  # without hold_expires_at: the claim stays until the holder decides
    booking.counter_id = await _claim(session, booking=booking, office=office, services=services, now=now)
    _record(session, booking, "booking.held", actor, None, now)
    await session.flush()
    ctx.invalidate_after_commit(session, office.id)
    return Hold(booking.id, booking.start_at, booking.end_at)


async def confirm_hold(
    session: AsyncSession, *, ctx: BookingContext, booking_id: int, actor: str, now: datetime
) -> BookingView:
    """Turn a held slot into a confirmed booking with a fresh manage token (announced as confirmed)."""
    booking = await session.get_one(Booking, booking_id)
    if booking.status != "pending" or booking.hold_expires_at is not None:
        raise RathausError("not_pending", status=booking.status)
    token = tokens.new_token()
    booking.token_hash = tokens.hash_secret(token)
    _transition(session, booking, "confirmed", "booking.confirmed.held", actor, now)
    await _announce(session, booking, "confirmed", actor, now, manage_token=tokens.seal(token, ctx.secret_key))
    snapshot = await ctx.catalog.get(session, now=now)
    office = snapshot.office_by_id(booking.office_id)
    return BookingView(booking, office, [snapshot.services_by_id[i.service_id] for i in booking.items], token)


async def release_hold(
    session: AsyncSession, *, ctx: BookingContext, booking_id: int, action: str, actor: str, now: datetime
) -> bool:
    """Give a held slot back (announced as expired); False if it is no longer held."""
    booking = await session.get_one(Booking, booking_id)
    if booking.status != "pending" or booking.hold_expires_at is not None:
        return False
    await _release(session, booking)
    _transition(session, booking, "expired", f"booking.expired.{action}", actor, now)
    await _announce(session, booking, "expired", actor, now)
    ctx.invalidate_after_commit(session, booking.office_id)
    return True


async def active_bookings_per_service(
    session: AsyncSession, *, email: str | None, phone: str | None, service_ids: Iterable[int], now: datetime
) -> dict[int, int]:
    """How many appointments still ahead the person with this e-mail address or mobile number has, per service,
    across all offices: confirmed ones and slots held for their wishes, not bookings whose contact is still to be
    confirmed with a code (anyone could have given that address)."""
    contacts = [column == value for column, value in ((Booking.email, email), (Booking.phone, phone)) if value]
    wanted = list(service_ids)
    if not contacts or not wanted:
        return {}
    rows = await session.execute(
        select(BookingService.service_id, func.count())
        .join(Booking, Booking.id == BookingService.booking_id)
        .where(
            or_(*contacts),
            Booking.status.in_(ACTIVE),
            or_(Booking.status == "confirmed", Booking.hold_expires_at.is_(None)),
            Booking.start_at > now,
            BookingService.service_id.in_(wanted),
        )
        .group_by(BookingService.service_id)
    )
    return {service_id: count for service_id, count in rows.tuples()}


async def booking_service_ids(session: AsyncSession, *, booking_id: int) -> list[int]:
    """The services of a booking, in their order."""
    sync = session.sync_session
    known = sync.identity_map.get(sync.identity_key(Booking, booking_id))
    if isinstance(known, Booking) and "items" in known.__dict__:
        return [item.service_id for item in known.items]  # e.g. the booking this transaction just wrote
    return list(
        (
            await session.scalars(
                select(BookingService.service_id)
                .where(BookingService.booking_id == booking_id)
                .order_by(BookingService.position)
            )
        ).all()
    )
