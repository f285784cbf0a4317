"""Races decided by the database, over real sockets: ticket numbers and concurrent calls."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from rathaus.clock import ManualClock
from tests.conftest import Harness, LiveServer
from tests.queue.helpers import OPENING, queue_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio


async def _together(
    client: httpx.AsyncClient, requests: list[tuple[str, dict[str, Any]]], headers: dict[str, str]
) -> list[httpx.Response]:
    gate = asyncio.Event()

    async def one(path: str, body: dict[str, Any]) -> httpx.Response:
        await gate.wait()
        return await client.post(path, json=body, headers=headers)

    tasks = [asyncio.create_task(one(path, body)) for path, body in requests]
    await asyncio.sleep(0)  # every task waits at the gate; then all go at once
    gate.set()
    return list(await asyncio.gather(*tasks))


def _client(server: LiveServer, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=server.url, limits=limits, timeout=120)


async def test_fifty_concurrent_walk_ins_get_fifty_consecutive_numbers(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    clock.set(OPENING)
    await harness.load(queue_config(counters=[{"name": f"Schalter {i}", "services": ["a"]} for i in range(1, 9)]))
    headers = {"Authorization": f"Bearer {await staff_token(harness, 'desk', role='desk')}"}
    server = live_server_factory(db_url, clock, db_pool_size=10)

    async with _client(server, 50) as client:
        answers = await _together(client, [("/api/v1/offices/amt/queue/walk-ins", {"services": ["a"]})] * 50, headers)

    assert [a.status_code for a in answers] == [201] * 50, [a.text for a in answers if a.status_code != 201][:3]
    numbers = sorted(a.json()["number"] for a in answers)
    assert numbers == [f"W-{n:03d}" for n in range(1, 51)]


async def test_counters_calling_at_the_same_moment_never_get_the_same_ticket(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    clock.set(OPENING)
    counters = [f"Schalter {i}" for i in range(1, 9)]
    await harness.load(queue_config(counters=[{"name": name, "services": ["a"]} for name in counters]))
    headers = {"Authorization": f"Bearer {await staff_token(harness, 'desk', role='desk')}"}
    server = live_server_factory(db_url, clock, db_pool_size=10)

    async with _client(server, 16) as client:
        for _ in range(12):
            assert (
                await client.post("/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=headers)
            ).status_code == 201
        seen: list[int] = []
        for expected_wins in (8, 4):
            # Each counter presses "next" twice at once (a double click) while every other counter does too.
            calls = [("/api/v1/offices/amt/queue/call-next", {"counter": name}) for name in counters for _ in range(2)]
            answers = await _together(client, calls, headers)
            won = [a.json() for a in answers if a.status_code == 200]
            assert {a.status_code for a in answers} <= {200, 404, 409}
            assert len(won) == expected_wins
            assert len({t["counter"] for t in won}) == len(won)  # one ticket per counter at a time
            seen += [t["id"] for t in won]
            for ticket in won:
                done = await client.post(f"/api/v1/tickets/{ticket['id']}/complete", headers=headers)
                assert done.status_code == 200
    assert len(seen) == len(set(seen)) == 12  # every ticket called exactly once
