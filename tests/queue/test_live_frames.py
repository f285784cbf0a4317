"""What the live streams send when many watch one office: each view is encoded once for all the streams that show
it, and a stream that falls behind sends the newest view once instead of every one it missed.

The app runs on the test's own event loop (its lifespan entered here, requests through httpx's ASGI transport), so
the test can hold the hub's streams as a slow client would: by not asking for the next frame.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest

from rathaus.app import create_app
from rathaus.clock import ManualClock
from rathaus.offices.catalog import Catalog
from rathaus.queue.live import LiveSnapshot, QueueHub
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


async def read_done(hub: QueueHub, office_id: int) -> None:
    """Wait until the hub's read of the office reflects every change heard."""
    while hub.peek(office_id) is None:
        await asyncio.sleep(0.005)


async def test_boards_share_one_frame_and_a_stream_behind_sends_only_the_newest_view(
    db_url: str, clock: ManualClock
) -> None:
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
        hub = runtime.get(QueueHub)
        streams: list[AsyncGenerator[bytes, None]] = [hub.stream(office_id, board) for _ in range(3)]
        try:
            for stream in streams:
                assert shown(await anext(stream))["next"] == []

            # Three changes, each read on its own while the streams do not ask for more (their clients are slow).
            for _ in range(3):
                walk_in = {"services": ["a"]}
                answer = await client.post("/api/v1/offices/amt/queue/walk-ins", json=walk_in, headers=headers)
                assert answer.status_code == 201, answer.text
                await read_done(hub, office_id)

            frames = [await anext(stream) for stream in streams]
            assert shown(frames[0])["next"] == ["W-001", "W-002", "W-003"]  # the newest view, not W-001 alone
            assert frames[1] is frames[0] and frames[2] is frames[0]  # encoded once for every board

            # Nothing else is pending for them: the views they skipped are gone, not queued.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(streams[0]), timeout=0.2)
        finally:
            for stream in streams:
                await stream.aclose()
