"""How old a cached value may be, and one computation at a time for values that have to be recomputed."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Age(enum.Enum):
    FRESH = "fresh"  # serve it
    DUE = "due"  # serve it, and recompute it behind the scenes so that readers rarely wait
    STALE = "stale"  # never serve it: the reader waits for a recomputation


def age_of(as_of: datetime, *, now: datetime, ttl: float) -> Age:
    """How a value that was true at `as_of` may be used at `now`, if it may be at most `ttl` seconds old.

    A value from the future by more than `ttl` (the clock was set back) counts as stale too.
    """
    # Asked for every kept answer served: plain seconds and module constants (a `timedelta(seconds=1)` built per
    # call and the enum's class lookups cost more than the rest of the check).
    age = (now - as_of).total_seconds()
    if age > ttl or age < -ttl:
        return _STALE
    return _DUE if age > ttl / 2 else _FRESH


_STALE, _DUE, _FRESH = Age.STALE, Age.DUE, Age.FRESH


class HomeLoop:
    """The event loop a component's own database sessions belong to: background reads start only there.

    The tests run the app on one event loop and their harness on another; a refresh that a reader on the
    harness's loop started would use the app's connections from the wrong thread (asyncpg then crashes the
    process). A reader elsewhere is answered as always; only the read behind the scenes is left to the app's own
    readers.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def settle(self) -> None:
        """Make the running loop the home (at the app's start)."""
        self._loop = asyncio.get_running_loop()

    def here(self) -> bool:
        """Whether the running loop is the home (any loop while none is settled: a CLI, a benchmark)."""
        return self._loop is None or self._loop is asyncio.get_running_loop()


class _Abandoned(Exception):
    """The reader computing a value went away before it had one; whoever waited computes it themselves."""


class SingleFlight(Generic[K, V]):
    """One computation per key at a time: readers arriving meanwhile wait for its result instead of repeating it.

    Each reader passes a computation of its own (bound to its own database session); only the first one runs.
    A waiter on another event loop (the tests run the app and their harness on two) computes on its own.
    """

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        """The result of `compute()`, or of the computation of `key` already running."""
        loop = asyncio.get_running_loop()
        running = self._running.get(key)
        if running is not None and not running.done() and running.get_loop() is loop:
            try:
                # Shielded: a waiter that is cancelled must not cancel the result the others wait for.
                return await asyncio.shield(running)
            except _Abandoned:
                return await compute()
        future: asyncio.Future[V] = loop.create_future()
        self._running[key] = future
        try:
            value = await compute()
        except BaseException:
            future.set_exception(_Abandoned())
            future.exception()  # retrieved: nobody may have waited for it
            raise
        finally:
            if self._running.get(key) is future:
                del self._running[key]
        future.set_result(value)
        return value

    def running(self, key: K) -> bool:
        """True while `key` is being computed."""
        future = self._running.get(key)
        return future is not None and not future.done()
