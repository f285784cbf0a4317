"""Scheduled work of the queue: closing office days; the live hub's start and stop with the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.jobs import run_unit
from rathaus.offices.catalog import Catalog
from rathaus.queue import service
from rathaus.queue.live import QueueHub
from rathaus.runtime import Runtime
from rathaus.web import runtime_of, told_of_stop_signals


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

    with told_of_stop_signals(lambda: loop.call_soon_threadsafe(stop_streams)):
        yield
