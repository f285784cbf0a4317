"""What the simulated month (bench/waitlist_month.py) left behind: its invariants and its outcome.

The invariants are what "nothing lost, nothing twice" means for the waiting list; a broken one is listed under
"problems" (the smoke test demands none):

- every accepted offer became exactly one booking, confirmed (or later attended, missed or cancelled by its
  citizen), its wish fulfilled with that booking, and the simulation saw each acceptance answered as such;
- no counter holds two live bookings at once (no slot double-booked);
- every held slot belongs to exactly one open offer and every open offer holds its slot (no slot lost in a hold),
  and no open offer outlived its time (the expiry job passed it on);
- no wish holds two open offers or was offered the same slot twice, and the message caps held;
- nobody holds more waiting wishes and appointments ahead per service than the per-person limit;
- the figures of `GET /api/v1/offices/{office}/waitlist` agree with the offers, wishes and releases counted here.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.models import Booking, BookingService
from rathaus.jobs import run_unit
from rathaus.offices.catalog import Catalog
from rathaus.runtime import Runtime
from rathaus.waitlist import service as waitlist
from rathaus.waitlist._figures import FREED
from rathaus.waitlist.models import Offer, Release, Wish, WishOffice, WishService

if TYPE_CHECKING:
    from bench.waitlist_month import Scale, Tally

# Statuses of a booking that occupies its slot.
LIVE = ("pending", "confirmed", "checked_in", "serving", "completed", "no_show")
WAITING = ("unverified", "active")
CELL = timedelta(minutes=15)


def _median(values: Iterable[float], digits: int = 1) -> float | None:
    found = list(values)
    return round(statistics.median(found), digits) if found else None


def _cells(start: datetime, end: datetime) -> list[datetime]:
    return [start + i * CELL for i in range((end - start) // CELL)]


async def _rows(session: AsyncSession) -> dict[str, list[Any]]:
    """Everything the checks read, in one transaction."""
    return {
        "offers": list((await session.scalars(select(Offer).order_by(Offer.id))).all()),
        "wishes": list((await session.scalars(select(Wish).order_by(Wish.id))).all()),
        "bookings": list((await session.scalars(select(Booking).order_by(Booking.id))).all()),
        "services": list((await session.execute(select(BookingService.booking_id, BookingService.service_id))).all()),
        "wish_services": list((await session.execute(select(WishService.wish_id, WishService.service_id))).all()),
        "wish_offices": list((await session.execute(select(WishOffice.wish_id, WishOffice.office_id))).all()),
        "releases": list(
            (
                await session.execute(
                    select(Release.office_id, Release.cause, func.count()).group_by(Release.office_id, Release.cause)
                )
            ).all()
        ),
    }


async def report(
    runtime: Runtime, scale: Scale, tally: Tally, timing: dict[str, float], *, released: list[date]
) -> dict[str, Any]:
    """The month's outcome, the CPU of its steps and the problems found."""
    end = runtime.clock.now()
    rows = await run_unit(runtime, _rows)
    snapshot = await run_unit(runtime, lambda s: runtime.get(Catalog).get(s, now=end))
    offices = {o.id: o.slug for o in snapshot.offices.values()}
    figures = {
        slug: await run_unit(runtime, lambda s, i=office_id: waitlist.figures(s, office_id=i))
        for office_id, slug in offices.items()
    }
    settings = runtime.settings.waitlist
    problems = _accepted(rows, tally) + _double_booked(rows) + _holds(rows, end) + _offers_per_wish(rows, settings)
    problems += _per_person(rows, settings.per_person, end) + _figures_agree(rows, figures, offices)
    return {
        "scale": {
            "wishes": scale.wishes,
            "released_slots": scale.slots,
            "released_office_days": len(released) * len(offices),
            "cancellations": scale.cancellations,
        },
        "did": dict(sorted(tally.counts.items())),
        "outcome": _outcome(rows, figures, released_from=released[0], slots=scale.slots)
        | _cancelled_slots(rows, tally),
        "timing": {**timing, **_cpu(tally)},
        "problems": problems,
    }


def _cpu(tally: Tally) -> dict[str, Any]:
    """CPU per step kind: how many, the median and the total (ms, s)."""
    return {
        "steps": {
            kind: {
                "count": len(times),
                "median_ms": round(1000 * statistics.median(times), 1),
                "p99_ms": round(1000 * sorted(times)[int(0.99 * (len(times) - 1))], 1),
                "total_s": round(sum(times), 1),
            }
            for kind, times in sorted(tally.cpu.items(), key=lambda item: -sum(item[1]))
        }
    }


def _outcome(rows: dict[str, list[Any]], figures: dict[str, Any], *, released_from: date, slots: int) -> dict[str, Any]:
    offers: list[Offer] = rows["offers"]
    wishes = {w.id: w for w in rows["wishes"]}
    accepted = [o for o in offers if o.status == "accepted"]
    wish_bookings = {o.booking_id for o in accepted}
    first_offer: dict[int, datetime] = {}
    for offer in offers:
        first_offer.setdefault(offer.wish_id, offer.created_at)
    # The released days lie beyond the first booking window; a cell there is taken by a wish or by open booking.
    taken: Counter[str] = Counter()
    for booking in rows["bookings"]:
        if booking.status in LIVE and booking.start_at.date() >= released_from and booking.hold_expires_at is None:
            held = booking.status == "pending"
            kind = "held_by_open_offer" if held else "wish" if booking.id in wish_bookings else "open_booking"
            taken[kind] += len(_cells(booking.start_at, booking.end_at))
    taken["free"] = slots - sum(taken.values())
    return {
        "offers": len(offers),
        "offers_by_status": dict(Counter(o.status for o in offers)),
        "offers_per_booking": round(len(offers) / len(accepted), 2) if accepted else None,
        "wishes_by_status": dict(Counter(w.status for w in wishes.values())),
        "released_cells_taken": dict(taken),
        "share_of_released_slots_to_wishes": round(taken["wish"] / slots, 3) if slots else None,
        "median_hours_wish_to_first_offer": _median(
            (made - wishes[w].created_at).total_seconds() / 3600 for w, made in first_offer.items()
        ),
        "median_hours_wish_to_acceptance": _median(
            (o.answered_at - wishes[o.wish_id].created_at).total_seconds() / 3600 for o in accepted if o.answered_at
        ),
        "median_days_wish_to_appointment": _median(
            (o.start_at - wishes[o.wish_id].created_at).total_seconds() / 86400 for o in accepted
        ),
        "wish_appointments_missed": sum(1 for b in rows["bookings"] if b.id in wish_bookings and b.status == "no_show"),
        "figures": {
            slug: {
                "freed_slots": f.freed_slots,
                "freed_to_wishes": f.freed_to_wishes,
                "share_to_wishes": f.share_to_wishes,
                "services": [
                    {
                        "service_id": s.service_id,
                        "waiting": s.waiting,
                        "offers": dict(s.offers),
                        "median_days_to_appointment": s.median_days_to_appointment,
                    }
                    for s in f.services
                ],
            }
            for slug, f in figures.items()
        },
    }


def _cancelled_slots(rows: dict[str, list[Any]], tally: Tally) -> dict[str, Any]:
    """Where the slots of the cancelled bookings went: to a wish (an accepted offer), to open booking, or nowhere."""
    wish_bookings = {o.booking_id for o in rows["offers"] if o.status == "accepted"}
    taken: dict[tuple[int, datetime], str] = {}
    for booking in rows["bookings"]:
        if booking.status in LIVE and booking.hold_expires_at is None:
            kind = "held" if booking.status == "pending" else "wish" if booking.id in wish_bookings else "open_booking"
            taken.update(((booking.counter_id, cell), kind) for cell in _cells(booking.start_at, booking.end_at))
    freed = {
        (b.counter_id, cell)
        for b in rows["bookings"]
        if b.id in tally.cancelled
        for cell in _cells(b.start_at, b.end_at)
    }
    fate = Counter(taken.get(cell, "free") for cell in freed)
    return {
        "cancelled_cells": dict(fate),
        "share_of_cancelled_slots_to_wishes": round(fate["wish"] / len(freed), 3) if freed else None,
    }


# --- invariants ----------------------------------------------------------------------------------------------


def _accepted(rows: dict[str, list[Any]], tally: Tally) -> list[str]:
    problems = []
    bookings = {b.id: b for b in rows["bookings"]}
    wishes = {w.id: w for w in rows["wishes"]}
    accepted = {o.id: o for o in rows["offers"] if o.status == "accepted"}
    if {i: o.booking_id for i, o in accepted.items()} != tally.accepted:
        problems.append(f"accepted offers {len(accepted)} differ from the acceptances answered {len(tally.accepted)}")
    per_wish = Counter(o.wish_id for o in accepted.values())
    problems += [f"wish {w} accepted {n} offers" for w, n in per_wish.items() if n > 1]
    for offer in accepted.values():
        booking = bookings.get(offer.booking_id)
        wish = wishes[offer.wish_id]
        later_cancelled = booking is not None and booking.status == "cancelled" and booking.id in tally.cancelled
        if booking is None or not (booking.status in LIVE[1:] or later_cancelled):
            problems.append(f"accepted offer {offer.id}: booking {offer.booking_id} is {booking and booking.status}")
        if wish.status != "fulfilled" or wish.booking_id != offer.booking_id:
            problems.append(f"accepted offer {offer.id}: wish {wish.id} is {wish.status} with {wish.booking_id}")
    return problems


def _double_booked(rows: dict[str, list[Any]]) -> list[str]:
    problems = []
    by_counter: dict[int, list[Booking]] = defaultdict(list)
    for booking in rows["bookings"]:
        if booking.status in LIVE:
            by_counter[booking.counter_id].append(booking)
    for counter, live in by_counter.items():
        live.sort(key=lambda b: b.start_at)
        for before, after in itertools.pairwise(live):
            if after.start_at < before.end_at:
                problems.append(f"counter {counter}: bookings {before.id} and {after.id} overlap at {after.start_at}")
    return problems


def _holds(rows: dict[str, list[Any]], end: datetime) -> list[str]:
    problems = []
    held = {b.id for b in rows["bookings"] if b.status == "pending" and b.hold_expires_at is None}
    open_offers = [o for o in rows["offers"] if o.status == "open"]
    holding = Counter(o.booking_id for o in open_offers)
    problems += [f"held booking {b} has {holding[b]} open offers" for b in sorted(held) if holding[b] != 1]
    problems += [f"open offer {o.id} holds no held booking" for o in open_offers if o.booking_id not in held]
    problems += [f"open offer {o.id} ran out at {o.expires_at}" for o in open_offers if o.expires_at <= end]
    return problems


def _offers_per_wish(rows: dict[str, list[Any]], settings: Any) -> list[str]:
    problems = []
    by_wish: dict[int, list[Offer]] = defaultdict(list)
    for offer in rows["offers"]:
        by_wish[offer.wish_id].append(offer)
    for wish_id, offers in by_wish.items():
        if sum(o.status == "open" for o in offers) > 1:
            problems.append(f"wish {wish_id} holds several open offers")
        slots = Counter((o.office_id, o.start_at) for o in offers)
        problems += [f"wish {wish_id} was offered {slot} {n} times" for slot, n in slots.items() if n > 1]
        if len(offers) > settings.messages_total:
            problems.append(f"wish {wish_id} got {len(offers)} offers (cap {settings.messages_total})")
        times = sorted(o.created_at for o in offers)
        for i, made in enumerate(times):
            within = sum(1 for t in times[i:] if t < made + timedelta(days=1))
            if within > settings.messages_per_day:
                problems.append(f"wish {wish_id} got {within} offers within a day from {made}")
                break
    return problems


def _per_person(rows: dict[str, list[Any]], limit: int, end: datetime) -> list[str]:
    """Waiting wishes plus appointments ahead per person and service (a held slot is its wish's, not another)."""
    held: Counter[tuple[str, int]] = Counter()
    wish_services: dict[int, list[int]] = defaultdict(list)
    for wish_id, service_id in rows["wish_services"]:
        wish_services[wish_id].append(service_id)
    booking_services: dict[int, list[int]] = defaultdict(list)
    for booking_id, service_id in rows["services"]:
        booking_services[booking_id].append(service_id)
    for wish in rows["wishes"]:
        if wish.status in WAITING and wish.email:
            held.update((wish.email, s) for s in wish_services[wish.id])
    for booking in rows["bookings"]:
        if booking.status == "confirmed" and booking.start_at > end and booking.email:
            held.update((booking.email, s) for s in booking_services[booking.id])
    return [f"{who} holds {n} wishes and appointments for service {s}" for (who, s), n in held.items() if n > limit]


def _figures_agree(rows: dict[str, list[Any]], figures: dict[str, Any], offices: dict[int, str]) -> list[str]:
    """The office's published figures against the rows: offers by service and status, waiting wishes, releases."""
    problems = []
    services: dict[int, list[int]] = defaultdict(list)
    for wish_id, service_id in rows["wish_services"]:
        services[wish_id].append(service_id)
    wishes = {w.id: w for w in rows["wishes"]}
    offers: dict[str, Counter[tuple[int, str]]] = defaultdict(Counter)
    for offer in rows["offers"]:
        offers[offices[offer.office_id]].update((s, offer.status) for s in services[offer.wish_id])
    waiting: dict[str, Counter[int]] = defaultdict(Counter)
    for wish_id, office_id in rows["wish_offices"]:
        if wishes[wish_id].status == "active":
            waiting[offices[office_id]].update(services[wish_id])
    freed = Counter(offices[office] for office, cause, n in rows["releases"] if cause in FREED for _ in range(n))
    for slug, published in figures.items():
        shown = Counter({(s.service_id, status): n for s in published.services for status, n in s.offers.items()})
        if +shown != +offers[slug]:
            problems.append(f"{slug}: offers in the figures {dict(shown)} != counted {dict(offers[slug])}")
        shown_waiting = Counter({s.service_id: s.waiting for s in published.services})
        if +shown_waiting != +waiting[slug]:
            problems.append(f"{slug}: waiting in the figures {dict(shown_waiting)} != counted {dict(waiting[slug])}")
        if published.freed_slots != freed[slug]:
            problems.append(f"{slug}: freed slots in the figures {published.freed_slots} != releases {freed[slug]}")
    return problems
