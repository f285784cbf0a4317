"""Live updates of the waiting-room board and the citizens' ticket pages (server-sent events via Channels).

A change only publishes a tiny "office N changed" message on the shared channels backend (PostgreSQL
LISTEN/NOTIFY when several instances run, memory on SQLite). Each instance then reads the office's state
once, however many boards and phones it serves, and every open stream renders its own view from that.
"""

from __future__ import annotations

import asyncio
import logging
import time as monotonic
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import after_commit
from rathaus.queue import presenters
from rathaus.queue._state import load_state
from rathaus.web import Services

log = logging.getLogger("rathaus.queue.live")
HEARTBEAT_SECONDS = 15.0


def channel_of(office_id: int) -> str:
    return f"rathaus_queue_{office_id}"


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """One read of an office's waiting room, encoded for every kind of reader."""

    stamp: str | None
    board: bytes
    tickets: dict[str, dict[str, bytes]]  # public id -> language -> the ticket page's JSON


Render = Callable[[LiveSnapshot], bytes]


class QueueHub:
    """Publishes queue changes and keeps one current snapshot per office for this instance's streams."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self._channels: ChannelsPlugin | None = None
        self._latest: dict[int, LiveSnapshot] = {}
        self._inflight: dict[int, tuple[str | None, float, asyncio.Task[LiveSnapshot]]] = {}

    def bind(self, services: Services, channels: ChannelsPlugin) -> None:
        self._services = services
        self._channels = channels

    def changed_after_commit(self, session: AsyncSession, office_id: int) -> None:
        """Tell every instance, once the transaction has committed, that the office's queue changed."""
        after_commit(session, lambda: self.changed(office_id))

    def changed(self, office_id: int) -> None:
        if self._channels is not None:
            self._channels.publish({"stamp": uuid.uuid4().hex}, channels=[channel_of(office_id)])

    async def snapshot(self, office_id: int, stamp: str | None, *, since: float | None = None) -> LiveSnapshot:
        """The office's state after the change `stamp` (None: as it is now), read once for all streams.

        A read already running is joined if it serves the same change, or (stamp None) began after `since`
        (default: now), so that nothing committed before the caller asked is missed.
        """
        since = monotonic.monotonic() if since is None else since
        latest = self._latest.get(office_id)
        if stamp is not None and latest is not None and latest.stamp == stamp:
            return latest
        running = self._inflight.get(office_id)
        if running is not None and not running[2].done():
            running_stamp, started, task = running
            if (stamp is not None and running_stamp == stamp) or (stamp is None and started >= since):
                return await asyncio.shield(task)
        task = asyncio.get_running_loop().create_task(self._read(office_id, stamp))
        self._inflight[office_id] = (stamp, monotonic.monotonic(), task)
        return await asyncio.shield(task)

    async def _read(self, office_id: int, stamp: str | None) -> LiveSnapshot:
        services = self._require()
        now = services.clock.now()
        async with services.read_session_maker() as session:
            catalog = await services.catalog.get(session, now=now)
            office = catalog.office_by_id(office_id)
            state = await load_state(session, office=office, services=catalog.services_by_id, now=now)
        board = msgspec.json.encode(presenters.board(state))
        tickets = {
            t.public_id: {
                lang: msgspec.json.encode(presenters.public_ticket(t, state, catalog.services_by_id, lang))
                for lang in ("de", "en")
            }
            for t in state.tickets
        }
        snapshot = LiveSnapshot(stamp, board, tickets)
        if stamp is not None:
            self._latest[office_id] = snapshot
        return snapshot

    async def stream(self, office_id: int, render: Render) -> AsyncGenerator[ServerSentEventMessage, None]:
        """Server-sent events: the current view at once, then a new one after every change, and heartbeats."""
        channels = self._require_channels()
        inbox: asyncio.Queue[bytes] = asyncio.Queue()

        async def receive(data: bytes) -> None:
            inbox.put_nowait(data)

        async with (
            channels.start_subscription([channel_of(office_id)]) as subscriber,
            subscriber.run_in_background(receive, join=False),
        ):
            since = monotonic.monotonic()
            last = render(await self.snapshot(office_id, None, since=since))
            yield ServerSentEventMessage(data=last.decode(), event="update")
            while True:
                try:
                    data = await asyncio.wait_for(inbox.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keep-alive")
                    continue
                while not inbox.empty():  # a burst of changes: only the last one matters
                    data = inbox.get_nowait()
                stamp = msgspec.json.decode(data).get("stamp")
                current = render(await self.snapshot(office_id, stamp, since=monotonic.monotonic()))
                if current != last:
                    last = current
                    yield ServerSentEventMessage(data=current.decode(), event="update")

    def _require(self) -> Services:
        if self._services is None:
            raise RuntimeError("the queue hub is not bound to the app yet")
        return self._services

    def _require_channels(self) -> ChannelsPlugin:
        if self._channels is None:
            raise RuntimeError("the queue hub is not bound to the app yet")
        return self._channels
