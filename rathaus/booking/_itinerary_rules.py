"""The rules an itinerary's parts keep together: the steps' order, travel between offices, the days they span."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.itinerary import LocalDay, Part, StepOptions, Travel, valid
from rathaus.booking.models import Booking, Itinerary, ItineraryPart
from rathaus.errors import RathausError
from rathaus.offices.catalog import CatalogSnapshot, LifeEventRule

MAX_SEARCH_DAYS = 31


def life_event_of(snapshot: CatalogSnapshot, slug: str) -> LifeEventRule:
    """The life event, or the unknown_life_event error."""
    try:
        return snapshot.life_events[slug]
    except KeyError:
        raise RathausError("unknown_life_event", life_event=slug[:64]) from None


def travel_of(snapshot: CatalogSnapshot) -> tuple[Travel, LocalDay]:
    """Travel time between offices and an office's local day, by office slug."""

    def travel(origin: str, target: str) -> timedelta:
        return snapshot.travel(snapshot.offices[origin], snapshot.offices[target])

    def local_day(office: str, instant: datetime) -> date:
        return snapshot.offices[office].local_day(instant)

    return travel, local_day


def check_sequence(snapshot: CatalogSnapshot, event: LifeEventRule, parts: list[Part]) -> None:
    """Refuse parts out of order, too close for the travel between their offices, or spread over too many days."""
    options = [StepOptions(step.key, step.after, {}) for step in event.steps]
    travel, local_day = travel_of(snapshot)
    if not valid(parts, options, travel=travel, local_day=local_day, max_days=MAX_SEARCH_DAYS):
        raise RathausError("itinerary_order")
    if not valid(parts, options, travel=travel, local_day=local_day, max_days=event.max_days):
        raise RathausError("itinerary_spread", days=event.max_days)


async def check_moved_part(
    session: AsyncSession, snapshot: CatalogSnapshot, *, booking: Booking, start: datetime, end: datetime
) -> None:
    """If `booking` is part of an itinerary, refuse moving it where it breaks the itinerary's rules.

    Parts already cancelled no longer bind the others.
    """
    row = await session.scalar(select(ItineraryPart).where(ItineraryPart.booking_id == booking.id))
    if row is None:
        return
    itinerary = await session.get_one(Itinerary, row.itinerary_id)
    event = snapshot.life_events.get(itinerary.life_event)
    if event is None:
        return
    siblings = await session.execute(
        select(ItineraryPart.step, Booking)
        .join(Booking, Booking.id == ItineraryPart.booking_id)
        .where(ItineraryPart.itinerary_id == itinerary.id, Booking.status.in_(("pending", "confirmed")))
    )
    parts = [
        Part(
            step,
            snapshot.office_by_id(other.office_id).slug,
            start if other.id == booking.id else other.start_at,
            end if other.id == booking.id else other.end_at,
        )
        for step, other in siblings.tuples()
    ]
    kept = {p.step for p in parts}
    remaining = replace(event, steps=tuple(replace(s, after=s.after & kept) for s in event.steps if s.key in kept))
    check_sequence(snapshot, remaining, sorted(parts, key=lambda p: p.start))
