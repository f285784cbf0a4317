"""Transparency: how the waiting list of an office serves its citizens, per service (no personal data)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.waitlist.models import Offer, Release, Wish, WishOffice, WishService

# Capacity that a booking gave back (a cancellation, a hold that ran out), as opposed to a sweep's free slots.
FREED = ("cancelled", "expired")


@dataclass
class ServiceFigures:
    service_id: int
    waiting: int = 0
    offers: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by status
    days_to_appointment: list[float] = field(default_factory=list)

    @property
    def median_days_to_appointment(self) -> float | None:
        """From registering the wish to the accepted appointment, in days."""
        return round(statistics.median(self.days_to_appointment), 1) if self.days_to_appointment else None


@dataclass(frozen=True, slots=True)
class OfficeFigures:
    services: list[ServiceFigures]
    freed_slots: int  # releases of capacity a booking gave back
    freed_to_wishes: int  # … of which an offer was accepted

    @property
    def share_to_wishes(self) -> float | None:
        """The share of freed slots that went to wishes."""
        return round(self.freed_to_wishes / self.freed_slots, 3) if self.freed_slots else None


async def figures(session: AsyncSession, *, office_id: int) -> OfficeFigures:
    """The office's waiting-list figures so far."""
    by_service: dict[int, ServiceFigures] = {}

    def of(service_id: int) -> ServiceFigures:
        return by_service.setdefault(service_id, ServiceFigures(service_id))

    waiting = await session.execute(
        select(WishService.service_id, func.count())
        .join(WishOffice, WishOffice.wish_id == WishService.wish_id)
        .join(Wish, Wish.id == WishService.wish_id)
        .where(WishOffice.office_id == office_id, Wish.status == "active")
        .group_by(WishService.service_id)
    )
    for service_id, count in waiting.tuples():
        of(service_id).waiting = count
    offers = await session.execute(
        select(WishService.service_id, Offer.status, Offer.start_at, Wish.created_at)
        .join(Offer, Offer.wish_id == WishService.wish_id)
        .join(Wish, Wish.id == Offer.wish_id)
        .where(Offer.office_id == office_id)
    )
    for service_id, status, start_at, registered in offers.tuples():
        figures = of(service_id)
        figures.offers[status] += 1
        if status == "accepted":
            figures.days_to_appointment.append((start_at - registered).total_seconds() / 86400)
    freed = await session.scalar(
        select(func.count()).select_from(Release).where(Release.office_id == office_id, Release.cause.in_(FREED))
    )
    accepted = (
        select(Offer.release_id).where(Offer.status == "accepted", Offer.office_id == office_id).distinct().subquery()
    )
    to_wishes = await session.scalar(
        select(func.count())
        .select_from(Release)
        .join(accepted, accepted.c.release_id == Release.id)
        .where(Release.cause.in_(FREED))
    )
    return OfficeFigures(sorted(by_service.values(), key=lambda f: f.service_id), int(freed or 0), int(to_wishes or 0))


class FiguresCache:
    """Each office's figures, read from the database at most once per `ttl` (the office page is read often; its
    figures may be as old as the page itself may be)."""

    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        self._kept: dict[int, tuple[datetime, OfficeFigures]] = {}

    async def get(self, session: AsyncSession, *, office_id: int, now: datetime) -> OfficeFigures:
        """The office's figures as of at most `ttl` ago."""
        kept = self.peek(office_id=office_id, now=now)
        if kept is not None:
            return kept
        found = await figures(session, office_id=office_id)
        self._kept[office_id] = (now, found)
        return found

    def peek(self, *, office_id: int, now: datetime) -> OfficeFigures | None:
        """The kept figures if they are at most `ttl` old, without reading (None otherwise)."""
        kept = self._kept.get(office_id)
        return kept[1] if kept is not None and now - kept[0] < self.ttl else None
