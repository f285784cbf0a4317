"""Exclusive offers: capacity that appears is held for one waiting wish at a time, in a fair order.

Capacity appears when a booking is cancelled or a hold runs out (announced by the booking domain inside its
transaction, so the freed slot is held for the first matching wish before open booking can see it), and when a
sweep finds free slots that match waiting wishes (longer hours, a lifted closure, a wish registered while
slots were free). Each appearance is a release: its wishes are ordered first come first served, or by a
lottery among the wishes registered before it (seeded, recorded, one draw per wish). The slot is held by a
booking-domain hold whose claim never lapses on its own, so the database itself keeps two offers from holding
one slot; answering an offer and its expiry race on one conditional update of the offer row.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import tokens
from rathaus.booking import service as bookings
from rathaus.booking.availability import Slot
from rathaus.booking.events import BookingChanged
from rathaus.booking.service import BookingView, Holder
from rathaus.db import dialect_insert, operation
from rathaus.errors import RathausError
from rathaus.events import publish
from rathaus.offices.rules import OfficeRules, ServiceRule
from rathaus.waitlist._cooldown import cool_down
from rathaus.waitlist._figures import FREED
from rathaus.waitlist._wishes import (
    UNVERIFIED_LIFETIME,
    WAITING,
    WaitlistContext,
    WishView,
    authorised,
    check_booking,
    view_of,
)
from rathaus.waitlist.events import OfferMade
from rathaus.waitlist.models import Cooldown, Draw, Offer, OfferLock, Release, WaitlistPolicy, Wish, WishOffice

# An offer shorter than this is no use to anyone: such a slot goes to open booking instead.
MIN_OFFER = timedelta(minutes=10)
_DAY = timedelta(days=1)
_BATCH = 100
_OPEN_OFFER = text("status = 'open'")


def lottery_order(seed: int, wish_ids: Iterable[int]) -> list[int]:
    """The wishes in the order a lottery with `seed` draws them: the same seed and wishes give the same order."""
    order = sorted(set(wish_ids))
    # Reproducible from the recorded seed by design; the seed itself comes from `secrets`.
    random.Random(seed).shuffle(order)  # noqa: S311
    return order


def offer_duration(*, ctx: WaitlistContext, channel: str, start: datetime, now: datetime) -> timedelta:
    """How long an offer holds its slot: the channel's time, but at most half the time left until the slot."""
    hours = ctx.settings.offer_email_hours if channel == "email" else ctx.settings.offer_sms_hours
    return min(timedelta(hours=hours), (start - now) / 2)


@dataclass(frozen=True, slots=True)
class OfferView:
    offer: Offer
    wish: Wish
    office: OfficeRules
    services: list[ServiceRule]
    booking: BookingView | None = None  # once accepted, with its manage token


@dataclass
class _Candidates:
    """What deciding whether a wish may get an offer needs, loaded once per distribution."""

    open_wishes: set[int] = field(default_factory=set)
    offered: dict[int, set[tuple[int, datetime]]] = field(default_factory=lambda: defaultdict(set))
    recent: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[int, int] = field(default_factory=lambda: defaultdict(int))


# --- reactions to the booking domain ---------------------------------------------------------------------


async def booking_changed(session: AsyncSession, *, ctx: WaitlistContext, event: BookingChanged) -> None:
    """A cancelled booking or a hold given back frees capacity: offer it to the waiting wishes first. A new
    booking of someone who waits on the list counts toward their limit."""
    if event.change == "created" or event.verified:
        await check_booking(session, ctx=ctx, event=event)
        return
    if event.change not in ("cancelled", "expired"):
        return
    now = event.at
    facts = event.booking
    offer = await session.scalar(
        select(Offer).where(Offer.booking_id == facts.id).execution_options(populate_existing=True)
    )
    # A closure's cancellations free nothing: the office is closed then (and the catalogue this transaction
    # reads does not know the closure before it commits).
    closed = event.reason == "closure"
    cooled = await session.get(Cooldown, facts.id) if offer is None else None
    release: Release | None
    if offer is not None and offer.status != "accepted":
        # The offer's own hold went away: answered, run out, or cancelled under it (a closure, the desk). A
        # booking made by accepting an offer is the citizen's own: its cancellation frees capacity like any other.
        if offer.status == "open":
            await _close(session, offer_id=offer.id, status="cancelled", now=now)
        release = await session.get_one(Release, offer.release_id)
    elif cooled is not None:
        # The cool-down's hold went away: its time is up, or a wish registered since may take the slot.
        release = await session.get_one(Release, cooled.release_id)
        await session.delete(cooled)
    elif facts.start > now:
        release = await _new_release(
            session, ctx=ctx, office_id=facts.office_id, start=facts.start, end=facts.end, cause=event.change, now=now
        )
    else:
        return
    if closed or release is None:
        return
    if not await _distribute(session, ctx=ctx, release=release, start=facts.start, end=facts.end, now=now):
        await cool_down(session, ctx=ctx, release=release, booking_id=facts.id, start=facts.start, now=now)


# --- answering ---------------------------------------------------------------------------------------------


async def offer_by_token(session: AsyncSession, *, ctx: WaitlistContext, token: str, now: datetime) -> OfferView:
    """The offer behind a link; an unknown and a wrong token answer alike."""
    offer = await session.scalar(
        select(Offer).where(Offer.token_hash == tokens.hash_secret(token)).execution_options(populate_existing=True)
    )
    if offer is None:
        raise RathausError("unknown_offer")
    return await view_offer(session, ctx=ctx, offer=offer, now=now)


async def view_offer(session: AsyncSession, *, ctx: WaitlistContext, offer: Offer, now: datetime) -> OfferView:
    """An offer with its wish, office and services."""
    wish = await session.get_one(Wish, offer.wish_id)
    snapshot = await ctx.booking.catalog.get(session, now=now)
    return OfferView(
        offer,
        wish,
        snapshot.office_by_id(offer.office_id),
        [snapshot.services_by_id[s.service_id] for s in wish.services],
    )


@operation
async def accept(session: AsyncSession, *, ctx: WaitlistContext, token: str, now: datetime) -> OfferView:
    """Take the offered slot: the held booking becomes a confirmed one and the wish is fulfilled."""
    return await accept_found(
        session, ctx=ctx, found=await offer_by_token(session, ctx=ctx, token=token, now=now), now=now
    )


async def accept_found(session: AsyncSession, *, ctx: WaitlistContext, found: OfferView, now: datetime) -> OfferView:
    """`accept` for an offer already found (by its link, or by the number an SMS answer came from)."""
    if not await _close(session, offer_id=found.offer.id, status="accepted", now=now):
        raise _answered(await session.get_one(Offer, found.offer.id, populate_existing=True), now)
    booking = await bookings.confirm_hold(
        session, ctx=ctx.booking, booking_id=found.offer.booking_id, actor="citizen", now=now
    )
    wish = found.wish
    wish.status = "fulfilled"
    wish.booking_id = found.offer.booking_id
    wish.updated_at = now
    await session.flush()
    return OfferView(
        await session.get_one(Offer, found.offer.id, populate_existing=True),
        wish,
        found.office,
        found.services,
        booking,
    )


@operation
async def decline(session: AsyncSession, *, ctx: WaitlistContext, token: str, now: datetime) -> OfferView:
    """Say no to the offered slot: it goes to the next wish at once (the wish keeps waiting)."""
    return await decline_found(
        session, ctx=ctx, found=await offer_by_token(session, ctx=ctx, token=token, now=now), now=now
    )


async def decline_found(session: AsyncSession, *, ctx: WaitlistContext, found: OfferView, now: datetime) -> OfferView:
    """`decline` for an offer already found."""
    if not await _close(session, offer_id=found.offer.id, status="declined", now=now):
        raise _answered(await session.get_one(Offer, found.offer.id, populate_existing=True), now)
    await _give_back(session, ctx=ctx, offer=found.offer, action="offer_declined", actor="citizen", now=now)
    return OfferView(
        await session.get_one(Offer, found.offer.id, populate_existing=True), found.wish, found.office, found.services
    )


@operation
async def withdraw(session: AsyncSession, *, ctx: WaitlistContext, code: str, token: str, now: datetime) -> WishView:
    """Withdraw a waiting wish; a slot held for it goes to the next wish. Withdrawing twice answers the same."""
    wish = await authorised(session, code=code, token=token)
    if wish.status in WAITING:
        await _withdraw(session, ctx=ctx, wish=wish, now=now)
    return await view_of(session, ctx=ctx, wish=wish, now=now)


async def _withdraw(session: AsyncSession, *, ctx: WaitlistContext, wish: Wish, now: datetime) -> None:
    wish.status = "withdrawn"
    wish.updated_at = now
    await session.flush()
    offer = await session.scalar(select(Offer).where(Offer.wish_id == wish.id, Offer.status == "open"))
    if offer is not None and await _close(session, offer_id=offer.id, status="cancelled", now=now):
        await _give_back(session, ctx=ctx, offer=offer, action="wish_withdrawn", actor="citizen", now=now)


def _answered(offer: Offer, now: datetime) -> RathausError:
    if offer.status in {"open", "expired"} or offer.expires_at <= now:
        return RathausError("offer_expired")
    return RathausError("offer_answered", status=offer.status)


# --- scheduled work ----------------------------------------------------------------------------------------


async def expire_offers(session: AsyncSession, *, ctx: WaitlistContext, now: datetime, limit: int = 200) -> int:
    """Close offers nobody answered in time and pass their slots on; returns how many ran out."""
    due = (
        await session.scalars(
            select(Offer)
            .where(Offer.status == "open", Offer.expires_at <= now)
            .order_by(Offer.expires_at, Offer.id)
            .limit(limit)
        )
    ).all()
    expired = 0
    for offer in due:
        if await _close(session, offer_id=offer.id, status="expired", now=now):
            await _give_back(session, ctx=ctx, offer=offer, action="offer_expired", actor="system", now=now)
            expired += 1
    return expired


async def expire_wishes(session: AsyncSession, *, now: datetime) -> int:
    """End wishes past their last day, and wishes never confirmed; returns how many."""
    ended = 0
    for status, older in (("active", None), ("unverified", now - UNVERIFIED_LIFETIME)):
        query = update(Wish).where(Wish.status == status)
        if older is None:
            query = query.where(Wish.last_day < now.date() - _DAY)  # a day's grace for every time zone
        else:
            query = query.where(Wish.created_at <= older)
        result = await session.execute(query.values(status="expired", updated_at=now).returning(Wish.id))
        ended += len(result.all())
    return ended


async def purge_wishes(session: AsyncSession, *, retention: timedelta, now: datetime) -> int:
    """Erase names and contacts of wishes that ended (withdrawn, run out, never confirmed) more than `retention`
    ago; a fulfilled wish's go with its booking's. Returns how many."""
    result = await session.execute(
        update(Wish)
        .where(
            Wish.status.in_(("withdrawn", "expired")),
            Wish.updated_at < now - retention,
            or_(Wish.name.is_not(None), Wish.email.is_not(None), Wish.phone.is_not(None)),
        )
        .values(name=None, email=None, phone=None)
        .returning(Wish.id)
    )
    return len(result.all())


async def sweep(session: AsyncSession, *, ctx: WaitlistContext, now: datetime) -> int:
    """Offer free slots that match waiting wishes (new hours, a lifted closure, a new wish); returns offers made."""
    snapshot = await ctx.booking.catalog.get(session, now=now)
    office_ids = (
        await session.scalars(
            select(WishOffice.office_id)
            .join(Wish, Wish.id == WishOffice.wish_id)
            .where(Wish.status == "active")
            .distinct()
            .order_by(WishOffice.office_id)
        )
    ).all()
    made = 0
    for office_id in office_ids:
        office = snapshot.office_by_id(office_id)
        start, end = office.booking_window(now)
        ids = await _waiting_ids(session, office_id=office_id, at=now, inclusive=True)
        if not await _first_fit(session, ctx=ctx, office=office, ids=ids, start=start, end=end, now=now):
            continue  # nothing to offer here: no release recorded
        release = await _new_release(
            session, ctx=ctx, office_id=office_id, start=start, end=end, cause="sweep", now=now
        )
        if release is not None:
            made += await _distribute(session, ctx=ctx, release=release, start=start, end=end, now=now)
    return made


# --- releases and distribution ----------------------------------------------------------------------------


async def ordering_of(session: AsyncSession, *, ctx: WaitlistContext, office_id: int) -> str:
    """The office's order among its wishes: its own choice, or the setting."""
    policy = await session.get(WaitlistPolicy, office_id)
    return policy.ordering if policy is not None else ctx.settings.order


async def set_ordering(session: AsyncSession, *, office_id: int, ordering: str) -> None:
    """Choose first come first served ("fifo") or a lottery per release ("lottery") for an office."""
    if ordering not in ("fifo", "lottery"):
        raise RathausError("invalid_ordering")
    statement = dialect_insert(session, WaitlistPolicy).values(office_id=office_id, ordering=ordering)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[WaitlistPolicy.office_id], set_={"ordering": ordering})
    )


async def _new_release(
    session: AsyncSession,
    *,
    ctx: WaitlistContext,
    office_id: int,
    start: datetime,
    end: datetime,
    cause: str,
    now: datetime,
    at: datetime | None = None,
) -> Release | None:
    """Record capacity appearing at an office at `at` (by default now), with its lottery's draws. Without a wish
    waiting there, only capacity a booking gave back is recorded (the figures count it, a cool-down may hold it);
    otherwise None is returned."""
    at = at or now
    ordering = await ordering_of(session, ctx=ctx, office_id=office_id)
    # A lottery draws among the wishes registered before the release; first come first served takes all.
    waiting = await _waiting_ids(session, office_id=office_id, at=at, inclusive=ordering == "fifo")
    if not waiting:
        if cause not in FREED:
            return None
        ordering = "fifo"
    seed = secrets.randbits(62) if ordering == "lottery" else None
    release = Release(office_id=office_id, at=at, cause=cause, start_at=start, end_at=end, ordering=ordering, seed=seed)
    session.add(release)
    await session.flush()
    if seed is not None:
        order = lottery_order(seed, waiting)
        session.add_all(Draw(release_id=release.id, wish_id=wish_id, rank=i) for i, wish_id in enumerate(order))
        await session.flush()
    return release


def _registered(*, office_id: int, at: datetime, inclusive: bool) -> Select[tuple[int]]:
    """The ids of the active wishes at an office registered before `at` (or at it), oldest first."""
    registered = Wish.created_at <= at if inclusive else Wish.created_at < at
    return (
        select(Wish.id)
        .join(WishOffice, WishOffice.wish_id == Wish.id)
        .where(WishOffice.office_id == office_id, Wish.status == "active", registered)
        .order_by(Wish.created_at, Wish.id)
    )


async def _waiting_ids(session: AsyncSession, *, office_id: int, at: datetime, inclusive: bool) -> list[int]:
    return list((await session.scalars(_registered(office_id=office_id, at=at, inclusive=inclusive))).all())


async def _ordered(session: AsyncSession, *, release: Release, now: datetime) -> list[int]:
    """The ids of the release's waiting wishes, in its order; wishes that joined the list after a lottery's draw
    follow the drawn ones, first come first served (a slot still unclaimed later is theirs too)."""
    waiting = await _waiting_ids(session, office_id=release.office_id, at=now, inclusive=True)
    if release.ordering == "fifo":
        return waiting
    query = (
        select(Wish.id)
        .join(Draw, Draw.wish_id == Wish.id)
        .where(Draw.release_id == release.id, Wish.status == "active")
        .order_by(Draw.rank)
    )
    drawn = list((await session.scalars(query)).all())
    seen = set(drawn)
    return drawn + [i for i in waiting if i not in seen]


async def _distribute(
    session: AsyncSession, *, ctx: WaitlistContext, release: Release, start: datetime, end: datetime, now: datetime
) -> int:
    """Offer slots of the release that overlap [start, end) to its wishes in order; returns offers made.

    Wishes are read a batch at a time: capacity a booking gave back is usually taken by one of the first, and
    reading thousands of wishes for it would cost more than the rest of the cancellation.
    """
    ids = await _ordered(session, release=release, now=now)
    snapshot = await ctx.booking.catalog.get(session, now=now)
    office = snapshot.office_by_id(release.office_id)
    free = _FreeSlots(session, office, now)
    made = 0
    async for wishes, candidates in _batches(session, ids, now=now):
        for wish in wishes:
            if not _may_receive(ctx, candidates, wish.id):
                continue
            services = [snapshot.services_by_id[s.service_id] for s in wish.services]
            offer = await _offer_first(
                session,
                ctx=ctx,
                wish=wish,
                release=release,
                office=office,
                services=services,
                free=free,
                candidates=candidates,
                start=start,
                end=end,
                now=now,
            )
            if offer is None:
                continue
            made += 1
            candidates.open_wishes.add(wish.id)
            free.forget(office.local_day(offer.start_at))
            if offer.start_at <= start and end <= offer.end_at:
                return made  # the offer took all of [start, end)
            if release.cause in FREED and not await _matching(
                free, wish=wish, services=services, start=start, end=end, now=now
            ):
                return made  # the freed time is taken
    return made


async def _offer_first(
    session: AsyncSession,
    *,
    ctx: WaitlistContext,
    wish: Wish,
    release: Release,
    office: OfficeRules,
    services: list[ServiceRule],
    free: _FreeSlots,
    candidates: _Candidates,
    start: datetime,
    end: datetime,
    now: datetime,
) -> Offer | None:
    """Hold the earliest fitting slot the wish was not offered before; None if there is none (or it was taken)."""
    for slot in await _matching(free, wish=wish, services=services, start=start, end=end, now=now):
        if (office.id, slot.start) in candidates.offered[wish.id]:
            continue  # never the same slot twice to one wish
        until = now + offer_duration(ctx=ctx, channel=wish.channel, start=slot.start, now=now)
        if until - now < MIN_OFFER:
            continue
        offer = await _try_offer(
            session,
            ctx=ctx,
            wish=wish,
            release=release,
            office=office,
            services=services,
            slot=slot,
            until=until,
            now=now,
        )
        if offer is not None:
            return offer
    return None


async def _first_fit(
    session: AsyncSession,
    *,
    ctx: WaitlistContext,
    office: OfficeRules,
    ids: list[int],
    start: datetime,
    end: datetime,
    now: datetime,
) -> bool:
    """True if some wish that may receive an offer finds a free slot it was not offered before."""
    snapshot = await ctx.booking.catalog.get(session, now=now)
    free = _FreeSlots(session, office, now)
    async for wishes, candidates in _batches(session, ids, now=now):
        for wish in wishes:
            if not _may_receive(ctx, candidates, wish.id):
                continue
            services = [snapshot.services_by_id[s.service_id] for s in wish.services]
            for slot in await _matching(free, wish=wish, services=services, start=start, end=end, now=now):
                if (office.id, slot.start) not in candidates.offered[wish.id]:
                    return True
    return False


async def _batches(
    session: AsyncSession, ids: list[int], *, now: datetime
) -> AsyncIterator[tuple[list[Wish], _Candidates]]:
    """The wishes with these ids, in their order, a batch at a time with what deciding on offers needs."""
    for first in range(0, len(ids), _BATCH):
        batch = ids[first : first + _BATCH]
        by_id = {w.id: w for w in (await session.scalars(select(Wish).where(Wish.id.in_(batch)))).all()}
        yield [by_id[i] for i in batch if i in by_id], await _candidates(session, wish_ids=batch, now=now)


async def _candidates(session: AsyncSession, *, wish_ids: list[int], now: datetime) -> _Candidates:
    found = _Candidates()
    rows = await session.execute(
        select(Offer.wish_id, Offer.office_id, Offer.start_at, Offer.status, Offer.created_at).where(
            Offer.wish_id.in_(wish_ids)
        )
    )
    for wish_id, office_id, start_at, status, created_at in rows.tuples():
        found.offered[wish_id].add((office_id, start_at))
        found.total[wish_id] += 1
        if created_at > now - _DAY:
            found.recent[wish_id] += 1
        if status == "open":
            found.open_wishes.add(wish_id)
    return found


def _may_receive(ctx: WaitlistContext, candidates: _Candidates, wish_id: int) -> bool:
    """One open offer at a time, and no more messages than the caps allow."""
    return (
        wish_id not in candidates.open_wishes
        and candidates.recent[wish_id] < ctx.settings.messages_per_day
        and candidates.total[wish_id] < ctx.settings.messages_total
    )


class _FreeSlots:
    """Free slots per (day, services) as this transaction sees them, computed once until a hold changes a day."""

    def __init__(self, session: AsyncSession, office: OfficeRules, now: datetime) -> None:
        self.session = session
        self.office = office
        self.now = now
        self._days: dict[tuple[date, tuple[int, ...]], tuple[Slot, ...]] = {}

    async def on(self, day: date, services: list[ServiceRule]) -> tuple[Slot, ...]:
        key = (day, tuple(s.id for s in services))
        if key not in self._days:
            slots = await bookings.uncached_day_slots(
                self.session, office=self.office, services=services, day=day, now=self.now
            )
            self._days[key] = tuple(slots.between(*self.office.booking_window(self.now)))
        return self._days[key]

    def forget(self, day: date) -> None:
        for key in [k for k in self._days if k[0] == day]:
            del self._days[key]


async def _matching(
    free: _FreeSlots, *, wish: Wish, services: list[ServiceRule], start: datetime, end: datetime, now: datetime
) -> list[Slot]:
    """The free slots overlapping [start, end) that fit the wish's days and times, earliest first."""
    office = free.office
    # Only on-site appointments are offered: a wish has no mode to choose, nor the number to call (a service given
    # only by phone or video here, perhaps since the wish was registered, has nothing to offer it).
    if "on_site" not in office.modes_for(services):
        return []
    windows: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for w in wish.windows:
        windows[w.weekday].append((w.from_minute, w.to_minute))
    earliest, latest = office.booking_window(now)
    first = max(wish.first_day, office.local_day(max(start, earliest)))
    last = min(wish.last_day, office.local_day(min(end, latest)))
    found: list[Slot] = []
    day = first
    while day <= last:
        if not windows or day.weekday() in windows:
            for slot in await free.on(day, services):
                if slot.start < end and start < slot.end and _fits(slot, office, windows):
                    found.append(slot)
        day += _DAY
    return found


def _fits(slot: Slot, office: OfficeRules, windows: dict[int, list[tuple[int, int]]]) -> bool:
    if not windows:
        return True
    begins = slot.start.astimezone(office.tz)
    ends = slot.end.astimezone(office.tz)
    first = begins.hour * 60 + begins.minute
    last = first + int((ends - begins).total_seconds() // 60)
    return any(low <= first and last <= high for low, high in windows.get(begins.weekday(), ()))


class _Stacked(Exception):
    """The wish, or its person for one of these services, already has an open offer."""


class Unreachable(Exception):
    """The offer's message could reach its citizen too late to answer it (raised by the reaction that sends it)."""


async def _try_offer(
    session: AsyncSession,
    *,
    ctx: WaitlistContext,
    wish: Wish,
    release: Release,
    office: OfficeRules,
    services: list[ServiceRule],
    slot: Slot,
    until: datetime,
    now: datetime,
) -> Offer | None:
    try:
        return await _offer(
            session,
            ctx=ctx,
            wish=wish,
            release=release,
            office=office,
            services=services,
            slot=slot,
            until=until,
            now=now,
        )
    except (RathausError, _Stacked, Unreachable):
        # The slot was taken meanwhile, the wish or its person holds an offer already, or its message could only
        # go out too late (the SMS quiet hours): the next wish gets the slot.
        return None


@operation
async def _offer(
    session: AsyncSession,
    *,
    ctx: WaitlistContext,
    wish: Wish,
    release: Release,
    office: OfficeRules,
    services: list[ServiceRule],
    slot: Slot,
    until: datetime,
    now: datetime,
) -> Offer:
    held = await bookings.hold(
        session,
        ctx=ctx.booking,
        office_id=office.id,
        service_ids=[s.id for s in services],
        start=slot.start,
        holder=Holder(name=wish.name or "", email=wish.email, phone=wish.phone, language=wish.language),
        actor="waitlist",
        now=now,
    )
    token = tokens.new_token()
    insert = dialect_insert(session, Offer).values(
        token_hash=tokens.hash_secret(token),
        wish_id=wish.id,
        release_id=release.id,
        booking_id=held.booking_id,
        office_id=office.id,
        start_at=held.start,
        end_at=held.end,
        channel=wish.channel,
        status="open",
        created_at=now,
        expires_at=until,
        answered_at=None,
    )
    # The wish's one open offer: a concurrent transaction that made it first wins, this one steps back.
    offer = await session.scalar(
        insert.on_conflict_do_nothing(index_elements=[Offer.wish_id], index_where=_OPEN_OFFER).returning(Offer)
    )
    if offer is None:
        raise _Stacked()
    keys = sorted(_lock_keys(wish, services))
    statement = dialect_insert(session, OfferLock).values([{"key": key, "offer_id": offer.id} for key in keys])
    got = (await session.execute(statement.on_conflict_do_nothing().returning(OfferLock.key))).all()
    if len(got) < len(keys):
        raise _Stacked()
    recipient = wish.email if wish.channel == "email" else wish.phone
    await publish(
        session,
        OfferMade(
            offer_id=offer.id,
            booking_id=held.booking_id,
            office_id=office.id,
            channel=wish.channel,
            recipient=recipient or "",
            language=wish.language,
            expires_at=until,
            sealed_token=tokens.seal(token, ctx.booking.secret_key),
            actor="waitlist",
            at=now,
        ),
    )
    return offer


async def postpone(session: AsyncSession, *, ctx: WaitlistContext, offer_id: int, sent_at: datetime) -> datetime:
    """An offer whose message can only go out at `sent_at` (an SMS held back by the quiet hours) holds its slot
    from then on, as long as it would have from its making; raises Unreachable if that leaves too little time."""
    offer = await session.get_one(Offer, offer_id)
    until = sent_at + offer_duration(ctx=ctx, channel=offer.channel, start=offer.start_at, now=sent_at)
    if until - sent_at < MIN_OFFER:
        raise Unreachable()
    if until > offer.expires_at:
        offer.expires_at = until
        await session.flush()
    return offer.expires_at


def _lock_keys(wish: Wish, services: list[ServiceRule]) -> set[str]:
    contacts = [c for c in (wish.email, wish.phone) if c]
    return {hashlib.sha256(f"{contact}|{s.id}".encode()).hexdigest() for contact in contacts for s in services}


async def _close(session: AsyncSession, *, offer_id: int, status: str, now: datetime) -> bool:
    """Move an open offer to `status`; only one of concurrent answers and expiries wins (False for the others).

    Accepting needs the offer still running; expiring needs it run out.
    """
    query = update(Offer).where(Offer.id == offer_id, Offer.status == "open")
    if status == "accepted":
        query = query.where(Offer.expires_at > now)
    elif status == "expired":
        query = query.where(Offer.expires_at <= now)
    won = (
        await session.execute(
            query.values(status=status, answered_at=now)
            .returning(Offer.id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if won is None:
        return False
    await session.execute(delete(OfferLock).where(OfferLock.offer_id == offer_id))
    return True


async def _give_back(
    session: AsyncSession, *, ctx: WaitlistContext, offer: Offer, action: str, actor: str, now: datetime
) -> None:
    """Release a closed offer's hold; the booking domain announces it and `booking_changed` passes the slot on."""
    await bookings.release_hold(
        session, ctx=ctx.booking, booking_id=offer.booking_id, action=action, actor=actor, now=now
    )
