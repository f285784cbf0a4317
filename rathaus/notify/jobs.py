"""The dispatcher inside the app: ticked by the scheduler, and woken at once when a commit adds due messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from litestar import Litestar

from rathaus.notify.dispatcher import Dispatcher, DispatchStats
from rathaus.notify.wakeup import Wakeup

if TYPE_CHECKING:
    from rathaus.runtime import Runtime

log = logging.getLogger("rathaus.notify")
# One dispatcher per app instance (keyed by its Runtime object), shared by the tick job and the wake-up loop.
_dispatchers: dict[int, Dispatcher] = {}


def dispatcher_for(runtime: Runtime) -> Dispatcher:
    """This instance's dispatcher (channels from the settings)."""
    dispatcher = _dispatchers.get(id(runtime))
    if dispatcher is None or dispatcher.runtime is not runtime:
        dispatcher = _dispatchers[id(runtime)] = Dispatcher(runtime)
    return dispatcher


async def dispatch_outbox(runtime: Runtime) -> DispatchStats:
    """Send every due message (the scheduler's tick; also catches rows whose lease ran out)."""
    return await dispatcher_for(runtime).dispatch()


async def wake_loop(dispatcher: Dispatcher, *, idle_seconds: float) -> None:
    """Dispatch whenever a commit in this process adds due messages, when the next row falls due or another
    dispatcher's claim runs out, and every `idle_seconds` anyway."""
    with Wakeup() as wakeup:
        while True:
            pause = idle_seconds
            try:
                await dispatcher.dispatch()
                pause = await dispatcher.next_look(within=idle_seconds)
            except Exception as error:  # the next wake-up or tick retries
                log.error("dispatch failed: %s", type(error).__name__)
            await wakeup.wait(pause)


@asynccontextmanager
async def notify_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Run the wake-up loop while the app runs (when its scheduler is on); close provider connections after."""
    from rathaus.web import runtime_of

    runtime = runtime_of(app.state)
    task: asyncio.Task[None] | None = None
    if runtime.settings.scheduler:
        idle = runtime.settings.notify.idle_seconds
        task = asyncio.create_task(wake_loop(dispatcher_for(runtime), idle_seconds=idle))
    try:
        yield
    finally:
        dispatcher = _dispatchers.get(id(runtime))
        if dispatcher is not None:  # the scheduler's tick or the wake-up loop may be in a pass
            await dispatcher.stop(grace=runtime.settings.shutdown_grace_seconds)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        dispatcher = _dispatchers.pop(id(runtime), None)
        if dispatcher is not None:
            await dispatcher.channels.close()
