"""What controllers, jobs and other packages use to reach the booking domain's context."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from rathaus.booking._availability import AvailabilityCache
from rathaus.booking._bookings import BookingContext
from rathaus.booking.events import CreationProbes
from rathaus.offices.catalog import Catalog
from rathaus.runtime import Runtime
from rathaus.web import runtime_of

BookingCtx = NamedDependency[BookingContext]


def booking_context(runtime: Runtime) -> BookingContext:
    """The booking domain's context of this instance."""
    return BookingContext(
        catalog=runtime.get(Catalog),
        cache=runtime.get(AvailabilityCache),
        secret_key=runtime.settings.secret_key,
        video_url_template=runtime.settings.video_url_template,
        max_changes=runtime.settings.booking_max_changes,
        probes=runtime.get(CreationProbes).probes,
        rows=runtime.get(CreationProbes).rows,
    )


def provide_booking_ctx(state: State) -> BookingContext:
    """The booking domain's context."""
    return booking_context(runtime_of(state))


DEPENDENCIES = {"booking_ctx": Provide(provide_booking_ctx, sync_to_thread=False)}
