"""The live-board fan-out on PostgreSQL: LISTEN/NOTIFY through Litestar's asyncpg channels backend, publishing on a
connection that is kept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import asyncpg
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend

log = logging.getLogger("rathaus.queue.channels")


class KeptConnectionChannelsBackend(AsyncPgChannelsBackend):
    """Litestar's backend opens a new connection for every message it publishes and closes it again: a PostgreSQL
    server process started and ended for every change of a waiting room (three a counter's turn). This one sends
    its NOTIFYs on one connection, made when first needed and made anew after a failure.

    A message that cannot be sent is logged and dropped (the other instances' boards catch up with the next change);
    Litestar's publishing task would otherwise end at the first error and publish nothing more.
    """

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn=dsn)
        self._publisher: asyncpg.Connection | None = None
        self._publishing = asyncio.Lock()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        if self._queue is None:
            raise RuntimeError("the channels backend has not started")
        text = data.decode()
        async with self._publishing:
            try:
                if self._publisher is None or self._publisher.is_closed():
                    self._publisher = await self._connect()
                for channel in channels:
                    await self._publisher.execute("SELECT pg_notify($1, $2);", channel, text)
            except Exception as error:  # whatever it was (asyncpg has errors of several families), start anew
                log.warning("publishing a queue change failed: %s", type(error).__name__)
                broken, self._publisher = self._publisher, None
                if broken is not None:
                    broken.terminate()

    async def on_shutdown(self) -> None:
        async with self._publishing:
            publisher, self._publisher = self._publisher, None
            if publisher is not None:
                await publisher.close()
        await super().on_shutdown()
