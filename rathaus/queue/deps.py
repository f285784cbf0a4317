"""What controllers inject from the queue domain: its context and the live-stream hub."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from rathaus.booking.deps import booking_context
from rathaus.queue.live import QueueHub
from rathaus.queue.service import QueueContext
from rathaus.web import runtime_of

QueueCtx = NamedDependency[QueueContext]
Hub = NamedDependency[QueueHub]


def provide_queue_ctx(state: State) -> QueueContext:
    """The queue domain's context."""
    runtime = runtime_of(state)
    hub = runtime.get(QueueHub)
    return QueueContext(
        booking=booking_context(runtime),
        read_sessions=runtime.read_session_maker,
        public_base_url=runtime.settings.public_base_url.rstrip("/"),
        durations=hub.durations,
    )


def provide_hub(state: State) -> QueueHub:
    """The instance's live-stream hub."""
    return runtime_of(state).get(QueueHub)


DEPENDENCIES = {
    "queue_ctx": Provide(provide_queue_ctx, sync_to_thread=False),
    "hub": Provide(provide_hub, sync_to_thread=False),
}
