"""Live updates of the waiting-room board and the citizens' ticket pages (server-sent events via Channels).

A change only publishes a tiny "office N changed" message on the shared channels backend (PostgreSQL
LISTEN/NOTIFY when several instances run, memory on SQLite). Each instance then reads the office's state
once, however many boards and phones it serves, and every open stream renders its own view from that.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.rules import ServiceRule
from rathaus.db import after_commit
from rathaus.queue import presenters
from rathaus.queue._state import QueueState, load_state
from rathaus.web import Services

log = logging.getLogger("rathaus.queue.live")
HEARTBEAT_SECONDS = 15.0


def channel_of(office_id: int) -> str:
    return f"rathaus_queue_{office_id}"


class LiveSnapshot:
    """One read of an office's waiting room; each view is encoded once, when a stream first needs it."""

    def __init__(self, state: QueueState, services: Mapping[int, ServiceRule]) -> None:
        self.board = msgspec.json.encode(presenters.board(state))
        self._state = state
        self._services = services
        self._by_public_id = {t.public_id: t for t in state.tickets}
        self._views: dict[tuple[str, str], bytes] = {}

    def ticket(self, public_id: str, language: str) -> bytes | None:
        """The ticket page's JSON, or None for a ticket not of this office's current day."""
        key = (public_id, language)
        view = self._views.get(key)
        if view is None:
            ticket = self._by_public_id.get(public_id)
            if ticket is None:
                return None
            view = msgspec.json.encode(presenters.public_ticket(ticket, self._state, self._services, language))
            self._views[key] = view
        return view


Render = Callable[[LiveSnapshot], bytes]


class _OfficeFeed:
    """The reads of one office's state on this instance: one at a time, each serving every request before it."""

    def __init__(self) -> None:
        self.requested = 0  # bumped by every change seen and every fresh look
        self.completed = -1
        self.snapshot: LiveSnapshot | None = None
        self.reader: asyncio.Task[None] | None = None
        self.done = asyncio.Condition()
        self.stamps: dict[str, int] = {}  # change -> request number, for the recent changes

    def request_for(self, stamp: str | None) -> int:
        if stamp is not None and stamp in self.stamps:
            return self.stamps[stamp]
        self.requested += 1
        if stamp is not None:
            self.stamps[stamp] = self.requested
            if len(self.stamps) > _REMEMBERED_CHANGES:
                del self.stamps[next(iter(self.stamps))]
        return self.requested


# Changes remembered per office so that every stream seeing one change asks for the same read.
_REMEMBERED_CHANGES = 1000


class QueueHub:
    """Publishes queue changes and reads each office's state once per burst of changes for all streams."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self._channels: ChannelsPlugin | None = None
        self._feeds: dict[int, _OfficeFeed] = {}

    def bind(self, services: Services, channels: ChannelsPlugin) -> None:
        self._services = services
        self._channels = channels

    def changed_after_commit(self, session: AsyncSession, office_id: int) -> None:
        """Tell every instance, once the transaction has committed, that the office's queue changed."""
        after_commit(session, lambda: self.changed(office_id))

    def changed(self, office_id: int) -> None:
        if self._channels is not None:
            self._channels.publish({"stamp": uuid.uuid4().hex}, channels=[channel_of(office_id)])

    async def snapshot(self, office_id: int, stamp: str | None = None) -> LiveSnapshot:
        """The office's state read after the change `stamp` reached this instance (None: after this call).

        Reads run one at a time per office; a read serves every request made before it began, so a burst
        of changes and a crowd of streams cost a few reads, not one per change and stream.
        """
        feed = self._feeds.setdefault(office_id, _OfficeFeed())
        wanted = feed.request_for(stamp)
        while feed.completed < wanted or feed.snapshot is None:
            reader = feed.reader
            if reader is not None and reader.done() and not reader.cancelled() and reader.exception() is not None:
                feed.reader = None
                raise RuntimeError("reading the waiting room failed") from reader.exception()
            if reader is None or reader.done():
                reader = feed.reader = asyncio.get_running_loop().create_task(self._read_until_current(office_id, feed))
            async with feed.done:
                await feed.done.wait_for(lambda task=reader: feed.completed >= wanted or task.done())  # type: ignore[misc]
        return feed.snapshot

    async def _read_until_current(self, office_id: int, feed: _OfficeFeed) -> None:
        try:
            while feed.completed < feed.requested:
                target = feed.requested
                snapshot = await self._read(office_id)
                async with feed.done:
                    feed.snapshot, feed.completed = snapshot, target
                    feed.done.notify_all()
        finally:
            async with feed.done:
                feed.done.notify_all()  # a failed read wakes its waiters, who report the failure

    async def _read(self, office_id: int) -> LiveSnapshot:
        services = self._require()
        now = services.clock.now()
        async with services.read_session_maker() as session:
            catalog = await services.catalog.get(session, now=now)
            office = catalog.office_by_id(office_id)
            state = await load_state(session, office=office, services=catalog.services_by_id, now=now)
        return LiveSnapshot(state, catalog.services_by_id)

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
            last = render(await self.snapshot(office_id))
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
                current = render(await self.snapshot(office_id, stamp))
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
