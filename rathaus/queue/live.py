"""Live updates of the waiting-room board and the citizens' ticket pages (server-sent events via Channels).

A change only publishes a tiny "office N changed" message on the shared channels backend (PostgreSQL
LISTEN/NOTIFY when several instances run, memory on SQLite). Each instance listens once per office that has
open streams, reads the office's state once per burst of changes, however many boards and phones it serves,
and wakes every open stream, which renders its own view from that one read.

Each view is encoded once per read for every stream that shows it (a hundred boards send the same bytes), as the
finished event-stream frame. A stream that falls behind (its client reads slowly, so the last send is still
waiting) never queues the views it missed: when it can send again it sends the newest read's view, once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import suppress
from datetime import datetime

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import after_commit
from rathaus.offices.catalog import Catalog
from rathaus.offices.rules import ServiceRule
from rathaus.queue import presenters
from rathaus.queue._state import DurationsCache, QueueState, TicketRow, load_state
from rathaus.runtime import Runtime

log = logging.getLogger("rathaus.queue.live")
HEARTBEAT_SECONDS = 15.0
# When the server stops, open streams end with this reconnection delay (ms) for the browser's EventSource: it comes
# back through the load balancer to another instance, or to this one restarted, instead of holding the shutdown.
RECONNECT_MILLISECONDS = 2000
# After a change is heard, wait this long before reading: a counter completing and calling the next person,
# or several counters at once, then cost one read, and the read does not delay the call that follows.
SETTLE_SECONDS = 0.02


def channel_of(office_id: int) -> str:
    return f"rathaus_queue_{office_id}"


KEEP_ALIVE = b": keep-alive\r\n\r\n"
STOPPING = f": server stopping\r\nretry: {RECONNECT_MILLISECONDS}\r\n\r\n".encode()


def update_frame(view: bytes) -> bytes:
    """The event-stream frame of a view. Compact JSON has no line breaks (those inside strings are escaped), so
    the view is one `data` line as it is."""
    return b"event: update\r\ndata: " + view + b"\r\n\r\n"


def event_stream(frames: AsyncGenerator[bytes, None]) -> Stream:
    """A response of server-sent events from finished frames (Litestar's ServerSentEvent would format each one
    again for every client)."""
    return Stream(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"},
    )


class LiveSnapshot:
    """One read of an office's waiting room (begun at `as_of`); each view is encoded once, when a stream first
    needs it."""

    def __init__(self, state: QueueState, services: Mapping[int, ServiceRule], as_of: datetime) -> None:
        self.as_of = as_of
        self.board = msgspec.json.encode(presenters.board(state))
        self.state = state
        self._services = services
        self._by_public_id = {t.public_id: t for t in state.tickets}
        self._views: dict[tuple[str, str], bytes] = {}
        self._frames: dict[bytes, bytes] = {}

    def ticket(self, public_id: str, language: str) -> bytes | None:
        """The ticket page's JSON, or None for a ticket that is not open (waiting or called) today."""
        key = (public_id, language)
        view = self._views.get(key)
        if view is None:
            ticket = self._by_public_id.get(public_id)
            if ticket is None:
                return None
            view = self.encode(ticket, language)
            self._views[key] = view
        return view

    def encode(self, ticket: TicketRow, language: str) -> bytes:
        """Any ticket of the office as its page shows it, against this state of the waiting room."""
        return msgspec.json.encode(presenters.public_ticket(ticket, self.state, self._services, language))

    def frame(self, view: bytes) -> bytes:
        """The view as an event-stream frame, made once for all the streams that send it."""
        found = self._frames.get(view)
        if found is None:
            found = self._frames[view] = update_frame(view)
        return found


Render = Callable[[LiveSnapshot], Awaitable[bytes]]


class _OfficeFeed:
    """This instance's reads of one office's state: one at a time, each serving every request made before it."""

    def __init__(self) -> None:
        self.requested = 0  # bumped by every change heard and every fresh look asked for
        self.completed = -1  # the request number the current snapshot answers
        self.snapshot: LiveSnapshot | None = None
        self.reader: asyncio.Task[None] | None = None
        # Set, and replaced by a fresh one, whenever a read completes or fails or the server stops. An event and
        # not a condition: every open stream waits here after every read, and a condition's waiter gives its lock
        # back, waits, takes the lock again and checks its predicate again.
        self.news = asyncio.Event()
        self.streams = 0
        self.listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        # One timer for all the feed's streams: every HEARTBEAT_SECONDS it counts a beat and wakes them, and each
        # sends a keep-alive (a timeout per stream would be set and cancelled again at every read).
        self.beats = 0
        self.beating: asyncio.Task[None] | None = None
        # Set by a caller that waits for the next read (an answer to a request): the read starts without settling.
        self.hurry = asyncio.Event()

    def announce(self) -> None:
        """Wake everyone waiting for this feed to move on."""
        news, self.news = self.news, asyncio.Event()
        news.set()

    def deaf(self) -> bool:
        """Whether this instance no longer hears the office's changes."""
        return self.listener is None or self.listener.done()

    async def beat(self) -> None:
        """Every HEARTBEAT_SECONDS, count a beat and wake the streams (each sends a keep-alive)."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self.beats += 1
            self.announce()

    def reads_here(self) -> bool:
        """Whether this feed's streams listen on the running event loop (the app's; tests commit from another)."""
        try:
            return self.listener is not None and self.listener.get_loop() is asyncio.get_running_loop()
        except RuntimeError:
            return False


class QueueHub:
    """Publishes queue changes; per office, listens for them and reads the state once for all streams."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._channels: ChannelsPlugin | None = None
        self._feeds: dict[int, _OfficeFeed] = {}
        self._stopping = False
        # Marks this instance's own change messages, which it has acted on before sending them.
        self._origin = uuid.uuid4().hex
        self.durations = DurationsCache()

    def bind(self, runtime: Runtime, channels: ChannelsPlugin) -> None:
        self._runtime = runtime
        self._channels = channels

    async def stop_streams(self) -> None:
        """The server is stopping: every open stream ends now, telling its browser when to reconnect."""
        self._stopping = True
        for feed in self._feeds.values():
            feed.announce()

    def changed_after_commit(self, session: AsyncSession, office_id: int) -> None:
        """Tell every instance, once the transaction has committed, that the office's queue changed."""
        after_commit(session, lambda: self.changed(office_id))

    def changed(self, office_id: int) -> None:
        """A committed change: this instance reads the office again for its streams (once per burst) and tells the
        others; its own message, when it comes back through the channel, costs no second read."""
        feed = self._feeds.get(office_id)
        handled = False
        if feed is not None:
            feed.requested += 1  # heard here at once: `peek` no longer offers the read before it
            if feed.streams and feed.reads_here():
                if feed.reader is None or feed.reader.done():
                    self._start_reader(office_id, feed, settle=SETTLE_SECONDS)
                handled = True
        if self._channels is not None:
            message = {"office": office_id, "origin": self._origin, "handled": handled}
            self._channels.publish(message, channels=[channel_of(office_id)])

    async def snapshot(self, office_id: int) -> LiveSnapshot:
        """The office's state, read after this call began (shared with every caller waiting for a read)."""
        feed = self._feeds.setdefault(office_id, _OfficeFeed())
        feed.requested += 1
        feed.hurry.set()
        wanted = feed.requested
        while feed.completed < wanted or feed.snapshot is None:
            reader = feed.reader
            if reader is not None and reader.done() and not reader.cancelled() and reader.exception() is not None:
                feed.reader = None
                raise RuntimeError("reading the waiting room failed") from reader.exception()
            if reader is None or reader.done():
                self._start_reader(office_id, feed)
            await feed.news.wait()
        return feed.snapshot

    def peek(self, office_id: int) -> LiveSnapshot | None:
        """The office's last read on this instance, whatever its age, without reading: None if there is none or a
        change was heard since it began (this instance's own changes always are)."""
        feed = self._feeds.get(office_id)
        return None if feed is None or feed.completed < feed.requested else feed.snapshot

    async def stream(self, office_id: int, render: Render) -> AsyncGenerator[bytes, None]:
        """Server-sent event frames: the current view at once, then a new one after every change, and heartbeats."""
        feed = self._feeds.setdefault(office_id, _OfficeFeed())
        feed.streams += 1
        try:
            loop = asyncio.get_running_loop()
            if feed.deaf():
                feed.listening.clear()
                feed.listener = loop.create_task(self._listen(office_id, feed))
            if feed.beating is None or feed.beating.done():
                feed.beating = loop.create_task(feed.beat())
            await feed.listening.wait()  # read only once changes can no longer be missed
            snapshot = await self.snapshot(office_id)
            last = await render(snapshot)
            seen = feed.completed
            yield snapshot.frame(last)
            while True:
                # Runs again only once the previous frame has been handed to the connection: reads completed in
                # the meantime are not queued, the newest one is sent.
                newer = await self._newer_than(feed, seen)
                if self._stopping:
                    yield STOPPING
                    return
                if not newer:
                    if feed.deaf():
                        return  # this instance no longer hears changes: the browser reconnects and starts anew
                    yield KEEP_ALIVE
                    continue
                seen = feed.completed
                latest = feed.snapshot
                assert latest is not None
                current = await render(latest)
                if current != last:
                    last = current
                    yield latest.frame(current)
        finally:
            feed.streams -= 1
            if feed.streams == 0:  # nobody watches this office here any more
                for task in (feed.listener, feed.beating):
                    if task is not None:
                        task.cancel()

    async def _listen(self, office_id: int, feed: _OfficeFeed) -> None:
        """Turn every change message for the office into a new read (bursts collapse into few reads)."""
        try:
            async with self._require_channels().start_subscription([channel_of(office_id)]) as subscriber:
                feed.listening.set()
                async for message in subscriber.iter_events():
                    heard = msgspec.json.decode(message)
                    if heard.get("origin") == self._origin and heard.get("handled"):
                        continue  # `changed` has already asked for the read
                    feed.requested += 1
                    if feed.reader is None or feed.reader.done():
                        self._start_reader(office_id, feed, settle=SETTLE_SECONDS)
        except Exception as error:
            log.warning("listening for changes of office %s failed: %s", office_id, type(error).__name__)
            raise
        finally:
            feed.listening.set()  # streams waiting for it go on, notice the listener is gone and end
            feed.announce()

    def _start_reader(self, office_id: int, feed: _OfficeFeed, *, settle: float = 0.0) -> asyncio.Task[None]:
        feed.reader = asyncio.get_running_loop().create_task(self._read_until_current(office_id, feed, settle))
        return feed.reader

    async def _read_until_current(self, office_id: int, feed: _OfficeFeed, settle: float) -> None:
        try:
            while feed.completed < feed.requested:
                if settle and not feed.hurry.is_set():
                    with suppress(TimeoutError):
                        async with asyncio.timeout(settle):
                            await feed.hurry.wait()
                feed.hurry.clear()
                target = feed.requested
                feed.snapshot, feed.completed = await self._read(office_id), target
                feed.announce()
        except Exception as error:
            log.warning("reading the waiting room of office %s failed: %s", office_id, type(error).__name__)
            raise
        finally:
            feed.announce()  # waiters of a failed read wake up and report it

    async def _read(self, office_id: int) -> LiveSnapshot:
        runtime = self._require()
        now = runtime.clock.now()
        async with runtime.read_session_maker() as session:
            catalog = await runtime.get(Catalog).get(session, now=now)
            office = catalog.office_by_id(office_id)
            state = await load_state(
                session, office=office, services=catalog.services_by_id, durations_cache=self.durations, now=now
            )
        return LiveSnapshot(state, catalog.services_by_id, now)

    async def _newer_than(self, feed: _OfficeFeed, seen: int) -> bool:
        """Wait until a read newer than `seen` completes (True), or the next heartbeat, the server stopping or the
        listener ending (False)."""
        beat = feed.beats
        while feed.completed <= seen and feed.beats == beat and not self._stopping and not feed.deaf():
            await feed.news.wait()
        return feed.completed > seen

    def _require(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the queue hub is not bound to the app yet")
        return self._runtime

    def _require_channels(self) -> ChannelsPlugin:
        if self._channels is None:
            raise RuntimeError("the queue hub is not bound to the app yet")
        return self._channels
