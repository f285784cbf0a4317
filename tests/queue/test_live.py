"""The board and the ticket page stream changes through the running app (and across instances on PostgreSQL)."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from rathaus.clock import ManualClock
from rathaus.queue.live import QueueHub
from rathaus.web import runtime_of
from tests.conftest import Harness, LiveServer
from tests.queue.helpers import OPENING, queue_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio


async def _updates(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON of each `update` event of a server-sent event stream."""
    event, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            data += line.partition(":")[2].strip()
        elif not line and data:
            if event == "update":
                yield json.loads(data)
            event, data = "", ""


async def _setup(harness: Harness, clock: ManualClock) -> dict[str, str]:
    clock.set(OPENING)
    await harness.load(queue_config())
    return {"Authorization": f"Bearer {await staff_token(harness, 'desk', role='desk')}"}


async def test_board_and_ticket_page_receive_a_call_within_a_second(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    headers = await _setup(harness, clock)
    server = live_server_factory(db_url, clock)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        ticket = (
            await client.post("/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=headers)
        ).json()
        async with (
            client.stream("GET", "/api/v1/offices/amt/board/events") as board,
            client.stream("GET", f"/api/v1/tickets/{ticket['public_id']}/events?lang=en") as page,
        ):
            assert board.headers["content-type"].startswith("text/event-stream")
            board_updates, page_updates = _updates(board), _updates(page)
            initial = await anext(board_updates)
            assert initial["next"] == ["W-001"] and initial["called"] == []
            assert (await anext(page_updates))["position"] == 1

            pressed = time.monotonic()
            called = await client.post(
                "/api/v1/offices/amt/queue/call-next", json={"counter": "Schalter 2"}, headers=headers
            )
            assert called.status_code == 200
            shown = await asyncio.wait_for(anext(board_updates), timeout=1.0)
            board_latency = time.monotonic() - pressed
            mine = await asyncio.wait_for(anext(page_updates), timeout=1.0)

    assert shown["called"][0] == {**shown["called"][0], "number": "W-001", "counter": "Schalter 2"}
    assert shown["next"] == []
    assert mine["status"] == "called" and mine["counter"] == "Schalter 2"
    assert board_latency < 1.0


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # several instances share PostgreSQL
async def test_a_board_on_one_instance_sees_a_call_made_on_another(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    headers = await _setup(harness, clock)
    display_server, desk_server = live_server_factory(db_url, clock), live_server_factory(db_url, clock)
    async with (
        httpx.AsyncClient(base_url=display_server.url, timeout=10) as display,
        httpx.AsyncClient(base_url=desk_server.url, timeout=10) as desk,
        display.stream("GET", "/api/v1/offices/amt/board/events") as board,
    ):
        updates = _updates(board)
        assert (await anext(updates))["waiting_count"] == 0
        await desk.post("/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=headers)
        assert (await asyncio.wait_for(anext(updates), timeout=1.0))["next"] == ["W-001"]
        await desk.post("/api/v1/offices/amt/queue/call-next", json={"counter": "Schalter 1"}, headers=headers)
        shown = await asyncio.wait_for(anext(updates), timeout=1.0)
    assert shown["called"][0]["number"] == "W-001"


async def test_board_json_and_pages(harness: Harness, clock: ManualClock) -> None:
    headers = await _setup(harness, clock)
    ticket = (
        await harness.client.post("/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=headers)
    ).json()

    board = await harness.client.get("/api/v1/offices/amt/board")
    page = await harness.client.get("/offices/amt/board")
    mine = await harness.client.get(f"/tickets/{ticket['public_id']}", headers={"Accept-Language": "en"})

    assert board.json()["next"] == ["W-001"] and board.json()["walk_in_wait_minutes"] == 0
    assert page.status_code == 200 and "W-001" in page.text and 'lang="de"' in page.text
    assert mine.status_code == 200 and "You are number 1 in the queue." in mine.text
    assert (await harness.client.get("/offices/nowhere/board")).status_code == 404


async def test_board_says_closed_outside_opening_hours(harness: Harness, clock: ManualClock) -> None:
    await _setup(harness, clock)
    clock.set(OPENING - timedelta(minutes=1))

    board = (await harness.client.get("/api/v1/offices/amt/board")).json()
    page = await harness.client.get("/offices/amt/board")

    assert board["open_now"] is False and board["walk_in_wait_minutes"] is None
    assert "Geschlossen" in page.text


async def test_a_stream_ends_when_its_instance_stops_hearing_changes(
    sqlite_harness: Harness,
    sqlite_url: str,
    clock: ManualClock,
    live_server_factory: Callable[..., LiveServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A board must not show a frozen room: the stream ends, and the browser's EventSource reconnects."""
    monkeypatch.setattr("rathaus.queue.live.HEARTBEAT_SECONDS", 0.05)
    await _setup(sqlite_harness, clock)
    server = live_server_factory(sqlite_url, clock)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=10) as client,
        client.stream("GET", "/api/v1/offices/amt/board/events") as board,
    ):
        updates = _updates(board)
        await anext(updates)
        listener = runtime_of(server.app.state).get(QueueHub)._feeds[1].listener
        listener.get_loop().call_soon_threadsafe(listener.cancel)  # as if the LISTEN connection were lost

        rest = [update async for update in updates]  # ends instead of waiting forever

    assert rest == []
