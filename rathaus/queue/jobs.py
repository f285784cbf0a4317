"""Scheduled work of the queue: closing office days; the live hub's start and stop with the server."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import FrameType

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.jobs import run_unit
from rathaus.offices.catalog import Catalog
from rathaus.queue import service
from rathaus.queue.live import QueueHub
from rathaus.runtime import Runtime
from rathaus.web import runtime_of


async def close_days(runtime: Runtime) -> int:
    """Close tickets left open after closing and mark absent appointments as no-shows."""
    now = runtime.clock.now()

    async def unit(session: AsyncSession) -> int:
        snapshot = await runtime.get(Catalog).get(session, now=now)
        return await service.close_days(session, snapshot=snapshot, now=now)

    changed: int = await run_unit(runtime, unit)
    return changed


@asynccontextmanager
async def live_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Connect the queue hub to this app's services and channels; end its streams as soon as the server stops."""
    hub = runtime_of(app.state).get(QueueHub)
    hub.bind(runtime_of(app.state), app.plugins.get(ChannelsPlugin))
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    def stop_streams() -> None:
        task = loop.create_task(hub.stop_streams())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    with _told_of_stop_signals(lambda: loop.call_soon_threadsafe(stop_streams)):
        yield


@contextmanager
def _told_of_stop_signals(callback: Callable[[], object]) -> Iterator[None]:
    """Call `callback` on SIGTERM and SIGINT before the server's own handler, which stays in charge.

    The server (uvicorn) stops accepting on these signals, then waits up to its grace for every open response and
    only then shuts the app down: event streams never finish by themselves, so the app must hear the signal.
    Signals reach only the main thread; an app served from another thread (tests) is not told, nor is one whose
    signals nobody handles (the process simply ends).
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)} if in_main_thread else {}
    previous = {sig: handler for sig, handler in handlers.items() if callable(handler)}

    def chained(signum: int, frame: FrameType | None) -> None:
        callback()
        handler = previous[signal.Signals(signum)]
        assert callable(handler)
        handler(signum, frame)

    for sig in previous:
        signal.signal(sig, chained)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
