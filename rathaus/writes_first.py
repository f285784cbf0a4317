"""Writes first: while requests that write are in flight, reads start only a few per turn of the event loop.

On SQLite every write goes through one connection whose statements each hop to aiosqlite's thread and back, and
each hop's return waits in the event loop's queue behind whatever is ready. Reads answered from memory are ready
all the time when many people read (64 open connections keep 64 requests queued), so a booking waited a full
queue of reads at every hop while holding the write lock: measured in process (bench/bookings_beside_reads.py),
16 bookers beside 64 readers committed 6 bookings/s, alone 53-94/s. Letting only a few reads start per turn while a
write is in flight keeps the queue short, so the write's hops come round quickly; reads still use every turn,
and with no write in flight they pass without waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from rathaus.freshness import HomeLoop

# Methods that only read; any other request counts as a write while it runs.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadAdmission:
    """Counts requests that write, and admits reads at most `per_turn` per turn of the loop while any runs (in
    order of arrival). Only reads on the serving loop wait (the tests also send requests from another one)."""

    def __init__(self, per_turn: int) -> None:
        self.per_turn = per_turn
        self.writes = 0
        self.home = HomeLoop()
        self._admitted = 0
        self._parked: deque[asyncio.Future[None]] = deque()
        self._turn_pending = False

    def open(self) -> bool:
        """Whether a read may start at once: nothing writes and nobody waits."""
        return self.writes == 0 and not self._parked

    async def admit(self) -> None:
        """Return when this read may start (at once when `open`)."""
        if self.open() or not self.home.here():
            return
        loop = asyncio.get_running_loop()
        self._end_turn_soon(loop)
        if self._admitted < self.per_turn and not self._parked:
            self._admitted += 1
            return
        waiter: asyncio.Future[None] = loop.create_future()
        self._parked.append(waiter)
        await waiter

    def _end_turn_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._turn_pending:
            self._turn_pending = True
            # Runs after everything ready now: the reads admitted in the next turn queue behind the writes' hops.
            loop.call_soon(self._next_turn, loop)

    def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        self._turn_pending = False
        self._admitted = 0
        limit = self.per_turn if self.writes else len(self._parked)
        while self._parked and self._admitted < limit:
            waiter = self._parked.popleft()
            if not waiter.done():  # a request cancelled while it waited takes no place
                waiter.set_result(None)
                self._admitted += 1
        if self._parked:
            self._end_turn_soon(loop)


def writes_first(admission: ReadAdmission) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: count the requests that write, and let reads in through `admission`."""

    def middleware_of(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
            elif scope["method"] in _READS:
                if not admission.open():  # checked here first: most reads find it open, and then no coroutine
                    await admission.admit()
                await app(scope, receive, send)
            else:
                admission.writes += 1
                try:
                    await app(scope, receive, send)
                finally:
                    admission.writes -= 1

        return middleware

    return middleware_of
