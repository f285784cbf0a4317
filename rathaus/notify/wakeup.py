"""Waking this process's dispatchers as soon as a transaction that added outbox rows commits."""

from __future__ import annotations

import asyncio
import contextlib

_waiting: set[Wakeup] = set()


class Wakeup:
    """An event that `wake_dispatchers()` sets from any thread; one per running dispatcher loop."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    def __enter__(self) -> Wakeup:
        _waiting.add(self)
        return self

    def __exit__(self, *_: object) -> None:
        _waiting.discard(self)

    def set(self) -> None:
        """Wake the dispatcher (safe from other threads and loops)."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to wake
            self._loop.call_soon_threadsafe(self.event.set)

    async def wait(self, seconds: float) -> bool:
        """Wait until woken or `seconds` pass; True if woken."""
        try:
            await asyncio.wait_for(self.event.wait(), seconds)
        except TimeoutError:
            return False
        finally:
            self.event.clear()
        return True


def wake_dispatchers() -> None:
    """Tell every dispatcher of this process that new messages may be due."""
    for waiter in list(_waiting):
        waiter.set()
