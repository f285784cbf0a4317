"""Registering, confirming, viewing, changing and withdrawing wishes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n, tokens
from rathaus.booking import service as bookings
from rathaus.booking.events import BookingChanged, CreationProbe
from rathaus.booking.service import BookingContext
from rathaus.contact import normalise_email, normalise_mobile
from rathaus.db import dialect_insert, keep_on_error, operation
from rathaus.errors import RathausError
from rathaus.events import publish
from rathaus.offices.catalog import office_of, resolve_services
from rathaus.offices.rules import OfficeRules, ServiceRule
from rathaus.settings import WaitlistSettings
from rathaus.text import visible
from rathaus.waitlist.events import WishRegistered
from rathaus.waitlist.models import Offer, Wish, WishOffice, WishService, WishWindow

WAITING = ("unverified", "active")
MAX_VERIFICATION_ATTEMPTS = 5
# An unconfirmed wish is dropped after this long.
UNVERIFIED_LIFETIME = timedelta(days=1)
_UNKNOWN_HASH = tokens.hash_secret("no wish has this token")


@dataclass(frozen=True, slots=True)
class WaitlistContext:
    """What waiting-list operations need besides the session: the booking context and the settings."""

    booking: BookingContext
    settings: WaitlistSettings


@dataclass(frozen=True, slots=True)
class Window:
    """Times of day [start, end) on some weekdays (0 Monday) when the appointment may lie."""

    weekdays: tuple[int, ...]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class WishRequest:
    services: list[str]
    offices: list[str]
    first_day: date
    last_day: date
    name: str
    channel: str  # email | sms
    email: str | None = None
    phone: str | None = None
    language: str = "de"
    windows: Sequence[Window] = ()  # none: whenever the office is open


@dataclass(frozen=True, slots=True)
class WishChange:
    first_day: date | None = None
    last_day: date | None = None
    windows: Sequence[Window] | None = None


@dataclass(frozen=True, slots=True)
class WishView:
    wish: Wish
    services: list[ServiceRule]
    offices: list[OfficeRules]
    place: int | None  # among the active wishes for the same service at the same offices, by age
    offer: Offer | None  # the open offer
    manage_token: str | None = None


@operation
async def register(session: AsyncSession, *, ctx: WaitlistContext, request: WishRequest, now: datetime) -> WishView:
    """Register a wish; it waits until its contact is confirmed with the code we send."""
    snapshot = await ctx.booking.catalog.get(session, now=now)
    services = resolve_services(snapshot, request.services)
    bookings.check_online(services)
    offices = _offices([office_of(snapshot, slug) for slug in request.offices], services)
    request = _normalised(request, offices, now, beyond=timedelta(days=ctx.settings.days_beyond_window))
    await _check_limit(session, ctx=ctx, email=request.email, phone=request.phone, services=services, now=now)
    token = tokens.new_token()
    code = tokens.new_verification_code()
    wish = await _insert(session, request=request, token=token, code=code, now=now)
    session.add_all(WishService(wish_id=wish.id, service_id=s.id, position=i) for i, s in enumerate(services))
    session.add_all(WishOffice(wish_id=wish.id, office_id=o.id) for o in offices)
    session.add_all(_window_rows(wish.id, request.windows))
    await session.flush()
    await session.refresh(wish, ["services", "offices", "windows"])
    recipient = request.email if request.channel == "email" else request.phone
    if recipient is None:  # _normalised demands the channel's contact
        raise RathausError("no_contact")
    await publish(
        session,
        WishRegistered(
            wish_id=wish.id,
            channel=request.channel,
            recipient=recipient,
            language=request.language,
            verification_code=code,
            actor="citizen",
            at=now,
        ),
    )
    return WishView(wish, services, offices, None, None, token)


@operation
async def confirm(
    session: AsyncSession, *, ctx: WaitlistContext, code: str, token: str, verification_code: str, now: datetime
) -> WishView:
    """Confirm the wish's contact with the code we sent: from now on it receives offers."""
    wish = await authorised(session, code=code, token=token)
    if wish.status == "unverified":
        if not tokens.matches(verification_code.strip(), wish.verification_code_hash):
            wish.verification_attempts += 1
            wish.updated_at = now
            keep_on_error(session)
            left = MAX_VERIFICATION_ATTEMPTS - wish.verification_attempts
            if left > 0:
                raise RathausError("wrong_verification_code", left=left)
            wish.status = "expired"
            raise RathausError("too_many_wish_attempts")
        # Counted from now on: the limit is checked again, now that the contact is the person's.
        snapshot = await ctx.booking.catalog.get(session, now=now)
        services = [snapshot.services_by_id[s.service_id] for s in wish.services]
        await _check_limit(session, ctx=ctx, email=wish.email, phone=wish.phone, services=services, now=now)
        wish.status = "active"
        wish.verification_code_hash = None
        wish.updated_at = now
    elif wish.status != "active":
        raise RathausError("wish_closed", status=wish.status)
    return await view_of(session, ctx=ctx, wish=wish, now=now)


async def view(session: AsyncSession, *, ctx: WaitlistContext, code: str, token: str, now: datetime) -> WishView:
    """A wish for the holder of its manage token, with its place and its open offer."""
    wish = await authorised(session, code=code, token=token)
    return await view_of(session, ctx=ctx, wish=wish, now=now)


@operation
async def change(
    session: AsyncSession, *, ctx: WaitlistContext, code: str, token: str, change: WishChange, now: datetime
) -> WishView:
    """Change the days and times of a waiting wish (its place stays)."""
    wish = await authorised(session, code=code, token=token)
    if wish.status not in WAITING:
        raise RathausError("wish_closed", status=wish.status)
    current = await view_of(session, ctx=ctx, wish=wish, now=now)
    windows = change.windows if change.windows is not None else _windows_of(wish)
    checked = _normalised(
        WishRequest(
            services=[],
            offices=[],
            first_day=change.first_day or wish.first_day,
            last_day=change.last_day or wish.last_day,
            name=wish.name or "",
            channel=wish.channel,
            email=wish.email,
            phone=wish.phone,
            language=wish.language,
            windows=windows,
        ),
        current.offices,
        now,
        beyond=timedelta(days=ctx.settings.days_beyond_window),
    )
    wish.first_day, wish.last_day = checked.first_day, checked.last_day
    if change.windows is not None:
        wish.windows.clear()
        await session.flush()
        wish.windows.extend(_window_rows(wish.id, checked.windows))
    wish.updated_at = now
    await session.flush()
    return await view_of(session, ctx=ctx, wish=wish, now=now)


async def authorised(session: AsyncSession, *, code: str, token: str) -> Wish:
    """The wish if `token` is its manage token; an unknown code and a wrong token answer alike."""
    wish = await session.scalar(select(Wish).where(Wish.code == tokens.normalise_code(code)))
    if not tokens.matches(token, wish.token_hash if wish else _UNKNOWN_HASH) or wish is None:
        raise RathausError("unknown_wish")
    return wish


async def view_of(session: AsyncSession, *, ctx: WaitlistContext, wish: Wish, now: datetime) -> WishView:
    """What the citizen sees of a wish."""
    snapshot = await ctx.booking.catalog.get(session, now=now)
    offer = await session.scalar(
        select(Offer).where(Offer.wish_id == wish.id, Offer.status == "open").execution_options(populate_existing=True)
    )
    return WishView(
        wish,
        [snapshot.services_by_id[s.service_id] for s in wish.services],
        [snapshot.office_by_id(o.office_id) for o in wish.offices],
        await place(session, wish=wish) if wish.status == "active" else None,
        offer,
    )


async def place(session: AsyncSession, *, wish: Wish) -> int:
    """1 + how many active wishes registered earlier want a service of this wish at one of its offices."""
    services = [s.service_id for s in wish.services]
    offices = [o.office_id for o in wish.offices]
    earlier = (
        select(Wish.id)
        .join(WishService, WishService.wish_id == Wish.id)
        .join(WishOffice, WishOffice.wish_id == Wish.id)
        .where(
            Wish.status == "active",
            or_(Wish.created_at < wish.created_at, (Wish.created_at == wish.created_at) & (Wish.id < wish.id)),
            WishService.service_id.in_(services),
            WishOffice.office_id.in_(offices),
        )
        .distinct()
        .subquery()
    )
    return 1 + int(await session.scalar(select(func.count()).select_from(earlier)) or 0)


async def _check_limit(
    session: AsyncSession,
    *,
    ctx: WaitlistContext,
    email: str | None,
    phone: str | None,
    services: list[ServiceRule],
    now: datetime,
) -> None:
    """Refuse a wish that would give its person more than the allowed wishes and appointments per service."""
    ids = [s.id for s in services]
    held = await bookings.active_bookings_per_service(session, email=email, phone=phone, service_ids=ids, now=now)
    for service_id, count in (await _waiting_per_service(session, email=email, phone=phone, service_ids=ids)).items():
        held[service_id] = held.get(service_id, 0) + count
    limit = ctx.settings.per_person
    for s in services:
        if held.get(s.id, 0) >= limit:
            raise RathausError("wish_limit", service=s.name, limit=limit)


async def check_booking(session: AsyncSession, *, ctx: WaitlistContext, event: BookingChanged) -> None:
    """Refuse a new booking, or the confirmation of one held until its contact was confirmed, that takes a person
    who also waits on the list past the limit for a service.

    Runs inside the booking's transaction (its own announcement), so a refusal undoes the booking.
    """
    if event.change != "created" and not event.verified:
        return
    if event.answers.get(WAITING_PROBE.name) == 0:
        return  # the statement that wrote the booking found no waiting wish of this person for its services
    facts = event.booking
    ids = await bookings.booking_service_ids(session, booking_id=facts.id)
    waiting = await _waiting_per_service(session, email=facts.email, phone=facts.phone, service_ids=ids)
    if not waiting:
        return  # the limit guards the waiting list: people who only book are the booking rules' business
    held = await bookings.active_bookings_per_service(
        session, email=facts.email, phone=facts.phone, service_ids=ids, now=event.at
    )
    snapshot = await ctx.booking.catalog.get(session, now=event.at)
    for service_id, count in waiting.items():
        if count + held.get(service_id, 0) > ctx.settings.per_person:
            service = snapshot.services_by_id[service_id]
            raise RathausError("wish_limit", service=service.name, limit=ctx.settings.per_person)


def _any_waiting(services: int) -> str:
    """1 if the person with the new booking's e-mail address or mobile number waits for one of its services."""
    ids = ", ".join(f":s{i}" for i in range(services))
    statuses = ", ".join(f"'{status}'" for status in WAITING)
    tables = f"{WishService.__tablename__} AS ws JOIN {Wish.__tablename__} AS w ON w.id = ws.wish_id"
    wanted = f"(w.email = :email OR w.phone = :phone) AND w.status IN ({statuses}) AND ws.service_id IN ({ids})"
    return f"CASE WHEN EXISTS (SELECT 1 FROM {tables} WHERE {wanted}) THEN 1 ELSE 0 END"  # noqa: S608 -- names only


# Asked with every new booking (see `check_booking`): almost always 0, and then the check reads nothing.
WAITING_PROBE = CreationProbe("waitlist.waiting", _any_waiting)


async def _waiting_per_service(
    session: AsyncSession, *, email: str | None, phone: str | None, service_ids: list[int]
) -> dict[int, int]:
    """How many waiting wishes the person with this e-mail address or mobile number has, per service: those
    whose contact is confirmed (an unconfirmed one may carry anyone's address; it is counted when confirmed)."""
    contacts = [column == value for column, value in ((Wish.email, email), (Wish.phone, phone)) if value]
    if not contacts or not service_ids:
        return {}
    rows = await session.execute(
        select(WishService.service_id, func.count())
        .join(Wish, Wish.id == WishService.wish_id)
        .where(or_(*contacts), Wish.status == "active", WishService.service_id.in_(service_ids))
        .group_by(WishService.service_id)
    )
    return dict(rows.tuples().all())


def _offices(offices: list[OfficeRules], services: list[ServiceRule]) -> list[OfficeRules]:
    if not offices:
        raise RathausError("no_offices")
    if len({o.id for o in offices}) != len(offices):
        raise RathausError("duplicate_office")
    for office in offices:
        # Offers hold appointments on site (see `_offers._matching`): every service must be given on site here.
        if "on_site" not in office.modes_for(services):
            raise RathausError("wish_not_offered", office=office.name)
    return offices


def _normalised(request: WishRequest, offices: list[OfficeRules], now: datetime, *, beyond: timedelta) -> WishRequest:
    name = visible(request.name)
    if not name:
        raise RathausError("name_required")
    if not i18n.offers(request.language):
        raise RathausError("invalid_language", languages=i18n.OneOf(i18n.languages()))
    email = normalise_email(request.email) if request.email else None
    phone = normalise_mobile(request.phone) if request.phone else None
    if request.channel not in ("email", "sms") or (email if request.channel == "email" else phone) is None:
        raise RathausError("wish_channel")
    today = min(o.local_day(now) for o in offices)
    latest = max(o.local_day(now + o.horizon) for o in offices) + beyond
    if request.first_day > request.last_day:
        raise RathausError("wish_days_order")
    if request.last_day < today or request.last_day > latest:
        raise RathausError("wish_days_range", latest=latest.isoformat())
    for window in request.windows:
        if not window.weekdays or not all(0 <= d <= 6 for d in window.weekdays) or window.start >= window.end:
            raise RathausError("wish_window")
    return replace(request, name=name, email=email, phone=phone, first_day=max(request.first_day, today))


async def _insert(session: AsyncSession, *, request: WishRequest, token: str, code: str, now: datetime) -> Wish:
    values = {
        "token_hash": tokens.hash_secret(token),
        "status": "unverified",
        "name": request.name,
        "email": request.email,
        "phone": request.phone,
        "channel": request.channel,
        "language": request.language,
        "first_day": request.first_day,
        "last_day": request.last_day,
        "verification_code_hash": tokens.hash_secret(code),
        "verification_attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    for _ in range(5):
        statement = (
            dialect_insert(session, Wish)
            .values(code=tokens.new_code(), **values)
            .on_conflict_do_nothing(index_elements=[Wish.code])
            .returning(Wish.id)
        )
        wish_id = await session.scalar(statement)
        if wish_id is not None:
            return await session.get_one(Wish, wish_id)
    raise RuntimeError("could not draw an unused wish code")


def _window_rows(wish_id: int, windows: Sequence[Window]) -> list[WishWindow]:
    rows: dict[tuple[int, int], WishWindow] = {}
    for window in windows:
        for day in sorted(set(window.weekdays)):
            start = window.start.hour * 60 + window.start.minute
            end = window.end.hour * 60 + window.end.minute
            rows[(day, start)] = WishWindow(wish_id=wish_id, weekday=day, from_minute=start, to_minute=end)
    return list(rows.values())


def _windows_of(wish: Wish) -> list[Window]:
    return [
        Window((w.weekday,), time(w.from_minute // 60, w.from_minute % 60), minute_time(w.to_minute))
        for w in wish.windows
    ]


def minute_time(minute: int) -> time:
    """A minute of the day as a time (the end of the day as the last second)."""
    return time(23, 59, 59) if minute >= 24 * 60 else time(minute // 60, minute % 60)
