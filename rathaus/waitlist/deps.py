"""What controllers and jobs use to reach the waiting list's context."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from rathaus.booking.deps import booking_context
from rathaus.runtime import Runtime
from rathaus.waitlist.service import WaitlistContext
from rathaus.web import runtime_of

WaitlistCtx = NamedDependency[WaitlistContext]


def waitlist_context(runtime: Runtime) -> WaitlistContext:
    """The waiting list's context of this instance."""
    return WaitlistContext(booking=booking_context(runtime), settings=runtime.settings.waitlist)


def provide_waitlist_ctx(state: State) -> WaitlistContext:
    """The waiting list's context."""
    return waitlist_context(runtime_of(state))


DEPENDENCIES = {"waitlist_ctx": Provide(provide_waitlist_ctx, sync_to_thread=False)}
