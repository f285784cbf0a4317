"""The waiting list's routes, dependencies, jobs and its reaction to freed capacity."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.events import BookingChanged, CreationProbes
from rathaus.events import Handler
from rathaus.runtime import Runtime
from rathaus.waitlist import service
from rathaus.waitlist.controllers import (
    OfferController,
    WaitlistFiguresController,
    WaitlistPolicyController,
    WishController,
)
from rathaus.waitlist.deps import DEPENDENCIES, waitlist_context
from rathaus.waitlist.jobs import expire_offers, expire_wishes, offer_free_slots, publish_releases, reopen_cooled_slots
from rathaus.waitlist.pages import WaitlistPages
from rathaus.wiring import Wiring


def _on_booking_changed(runtime: Runtime) -> Handler:
    # The check of a new booking against the waiting list asks its question in the booking's own statement.
    runtime.get(CreationProbes).add(service.WAITING_PROBE)

    async def handle(session: AsyncSession, event: BookingChanged) -> None:
        await service.booking_changed(session, ctx=waitlist_context(runtime), event=event)

    return handle


WIRING = Wiring(
    routes=[WishController, OfferController, WaitlistPolicyController, WaitlistFiguresController, WaitlistPages],
    dependencies=DEPENDENCIES,
    jobs=[
        (expire_offers, 30),
        (publish_releases, 20),
        (reopen_cooled_slots, 30),
        (offer_free_slots, 300),
        (expire_wishes, 3600),
    ],
    subscriptions=[(BookingChanged, _on_booking_changed)],
    components=[
        (
            service.FiguresCache,
            lambda runtime: service.FiguresCache(timedelta(seconds=runtime.settings.availability_cache_seconds)),
        )
    ],
)
