"""What the live streams send when many watch one office: each view is encoded once for all the streams that show
it, and a stream that falls behind sends the newest view once instead of every one it missed.

The app runs on the test's own event loop (its lifespan entered here, requests through httpx's ASGI transport), so
the test can hold the hub's streams as a slow client would: by not asking for the next frame.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from rathaus.app import create_app
from rathaus.clock import ManualClock
from rathaus.offices.catalog import Catalog
from rathaus.queue.live import KEEP_ALIVE, SETTLE_SECONDS, LiveSnapshot, QueueHub
from rathaus.runtime import Runtime
from rathaus.web import runtime_of
from tests import conftest
from tests.conftest import open_harness
from tests.queue.helpers import OPENING, queue_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio


async def board(snapshot: LiveSnapshot) -> bytes:
    return snapshot.board


def shown(frame: bytes) -> dict[str, Any]:
    event, data = frame.decode().split("\r\n")[:2]
    assert event == "event: update"
    found: dict[str, Any] = json.loads(data.removeprefix("data: "))
    return found


@dataclass
class LiveApp:
    client: httpx.AsyncClient
    headers: dict[str, str]
    hub: QueueHub
    office_id: int
    runtime: Runtime

    async def walk_in(self) -> None:
        answer = await self.client.post(
            "/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=self.headers
        )
        assert answer.status_code == 201, answer.text


@asynccontextmanager
async def live_app(db_url: str, clock: ManualClock) -> AsyncIterator[LiveApp]:
    """The queue office's app on this event loop, with a desk clerk's token."""
    clock.set(OPENING)
    async with open_harness(db_url, clock) as harness:
        await harness.load(queue_config())
        headers = {"Authorization": f"Bearer {await staff_token(harness, 'desk', role='desk')}"}
    app = create_app(conftest.test_settings(db_url), clock=clock)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        runtime: Runtime = runtime_of(app.state)
        async with runtime.read_session_maker() as session:
            office_id = (await runtime.get(Catalog).office(session, "amt", now=clock.now())).id
        yield LiveApp(client, headers, runtime.get(QueueHub), office_id, runtime)


async def test_boards_share_one_frame_and_a_stream_behind_sends_only_the_newest_view(
    db_url: str, clock: ManualClock
) -> None:
    async with live_app(db_url, clock) as live:
        streams: list[AsyncGenerator[bytes, None]] = [live.hub.stream(live.office_id, board) for _ in range(3)]
        try:
            for stream in streams:
                assert shown(await anext(stream))["next"] == []

            # Three changes, each read on its own while the streams do not ask for more (their clients are slow).
            for _ in range(3):
                await live.walk_in()
                await live.hub.snapshot(live.office_id)  # read before the next change

            frames = [await anext(stream) for stream in streams]
            assert shown(frames[0])["next"] == ["W-001", "W-002", "W-003"]  # the newest view, not W-001 alone
            assert frames[1] is frames[0] and frames[2] is frames[0]  # encoded once for every board

            # Nothing else is pending for them: the views they skipped are gone, not queued.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(streams[0]), timeout=0.2)
        finally:
            for stream in streams:
                await stream.aclose()


async def test_streams_add_no_read_to_a_change_made_here(db_url: str, clock: ManualClock) -> None:
    """A walk-in's answer waits for a read of the waiting room; the streams open on this instance get that same read,
    and the change's own message, when it comes back through the channel, starts no second one."""
    async with live_app(db_url, clock) as live:
        reads: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
            if "SELECT DISTINCT ticket.counter_id" in statement:  # once in every read of the waiting room
                reads.append(statement)

        async def reads_of_a_walk_in() -> int:
            before = len(reads)
            await live.walk_in()
            # Had the message come back as a new change, its read would follow after the settle time.
            await asyncio.sleep(SETTLE_SECONDS * 5)
            return len(reads) - before

        engine = live.runtime.read_engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        streams = [live.hub.stream(live.office_id, board) for _ in range(3)]
        try:
            alone = await reads_of_a_walk_in()
            for stream in streams:
                await anext(stream)
            watched = await reads_of_a_walk_in()
            frames = [await anext(stream) for stream in streams]
            assert shown(frames[0])["next"] == ["W-001", "W-002"]
            assert watched == alone
        finally:
            event.remove(engine, "before_cursor_execute", count)
            for stream in streams:
                await stream.aclose()


async def test_a_quiet_stream_sends_keep_alives_and_then_the_next_change(
    db_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rathaus.queue.live.HEARTBEAT_SECONDS", 0.05)
    async with live_app(db_url, clock) as live:
        stream = live.hub.stream(live.office_id, board)
        try:
            assert shown(await anext(stream))["next"] == []
            assert await asyncio.wait_for(anext(stream), timeout=5) == KEEP_ALIVE
            assert await asyncio.wait_for(anext(stream), timeout=5) == KEEP_ALIVE
            await live.walk_in()
            assert shown(await asyncio.wait_for(anext(stream), timeout=5))["next"] == ["W-001"]
        finally:
            await stream.aclose()
