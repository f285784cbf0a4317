"""The booking domain's routes, dependencies, jobs, reactions and the availability cache."""

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking import service
from rathaus.booking.controllers import AvailabilityController, BookingController, ClosureController
from rathaus.booking.deps import DEPENDENCIES, booking_context
from rathaus.booking.events import CreationProbes
from rathaus.booking.itinerary_controllers import ItineraryController, LifeEventController
from rathaus.booking.itinerary_pages import ItineraryPages
from rathaus.booking.jobs import expire_holds, purge_personal_data, warm_availability
from rathaus.booking.pages import BookingPages
from rathaus.events import Handler
from rathaus.offices.catalog import Catalog
from rathaus.offices.events import ClosureDeclared
from rathaus.runtime import Runtime
from rathaus.wiring import Wiring


def _availability(runtime: Runtime) -> service.AvailabilityCache:
    return service.AvailabilityCache(runtime.get(Catalog), runtime.read_session_maker)


def _on_closure(runtime: Runtime) -> Handler:
    async def handle(session: AsyncSession, event: ClosureDeclared) -> None:
        await service.cancel_for_closure(session, ctx=booking_context(runtime), closure=event)

    return handle


WIRING = Wiring(
    routes=[
        AvailabilityController,
        BookingController,
        ClosureController,
        LifeEventController,
        ItineraryController,
        BookingPages,
        ItineraryPages,
    ],
    dependencies=DEPENDENCIES,
    jobs=[(expire_holds, 60), (purge_personal_data, 3600)],
    lifespans=[warm_availability],
    subscriptions=[(ClosureDeclared, _on_closure)],
    components=[(service.AvailabilityCache, _availability), (CreationProbes, lambda _runtime: CreationProbes())],
)
