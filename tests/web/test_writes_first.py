"""Writes first on SQLite: while requests that write run, reads start only a few per turn of the event loop (in
order of arrival, none left behind); with nothing writing they pass without waiting."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rathaus.web import runtime_of
from rathaus.writes_first import ReadAdmission, writes_first
from tests.conftest import Harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio


def readers(admission: ReadAdmission, count: int, started: list[int]) -> list[asyncio.Task[None]]:
    async def read(number: int) -> None:
        await admission.admit()
        started.append(number)

    return [asyncio.create_task(read(n)) for n in range(count)]


async def turns_until_all(started: list[int], count: int) -> list[int]:
    """How many reads had started after each turn of the loop, until all had."""
    seen = []
    for _ in range(100):
        await asyncio.sleep(0)
        seen.append(len(started))
        if len(started) == count:
            return seen
    raise AssertionError(f"reads left waiting: {count - len(started)}")


async def test_reads_pass_at_once_while_nothing_writes() -> None:
    admission = ReadAdmission(per_turn=2)
    admit = admission.admit()
    with pytest.raises(StopIteration):
        admit.send(None)  # finished without suspending


async def test_while_a_write_runs_reads_start_a_few_per_turn_in_order_of_arrival() -> None:
    admission = ReadAdmission(per_turn=2)
    admission.writes = 1
    started: list[int] = []
    tasks = readers(admission, 9, started)
    seen = await turns_until_all(started, 9)
    assert all(later - earlier <= 2 for earlier, later in zip([0, *seen], seen, strict=False))
    assert len(seen) >= 5  # 9 reads, 2 per turn
    assert started == list(range(9))
    await asyncio.gather(*tasks)


async def test_when_the_writes_end_every_waiting_read_starts_at_the_next_turn() -> None:
    admission = ReadAdmission(per_turn=1)
    admission.writes = 1
    started: list[int] = []
    tasks = readers(admission, 10, started)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(started) < 10
    admission.writes = 0
    seen = await turns_until_all(started, 10)
    assert len(seen) <= 3
    assert started == list(range(10))
    await asyncio.gather(*tasks)


async def test_a_read_cancelled_while_it_waits_takes_no_place() -> None:
    admission = ReadAdmission(per_turn=1)
    admission.writes = 1
    started: list[int] = []
    tasks = readers(admission, 4, started)
    await asyncio.sleep(0)  # the first is admitted, the others wait
    tasks[1].cancel()
    await turns_until_all(started, 3)
    assert started == [0, 2, 3]
    assert tasks[1].cancelled()


async def test_the_middleware_counts_writes_while_they_run_even_when_they_fail() -> None:
    admission = ReadAdmission(per_turn=1)
    inside: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        inside.append(admission.writes)
        if scope["path"] == "/fails":
            raise RuntimeError("handler failed")

    middleware = writes_first(admission)(app)
    await middleware({"type": "http", "method": "POST", "path": "/ok"}, None, None)
    with pytest.raises(RuntimeError):
        await middleware({"type": "http", "method": "DELETE", "path": "/fails"}, None, None)
    await middleware({"type": "http", "method": "GET", "path": "/read"}, None, None)
    assert inside == [1, 1, 0]
    assert admission.writes == 0


async def test_on_sqlite_bookings_beside_readers_all_answer_and_postgresql_has_no_gate(
    harness: Harness, db_url: str
) -> None:
    components = runtime_of(harness.app.state).components
    if db_url.startswith("postgresql"):
        assert ReadAdmission not in components  # writes run side by side there
        return
    admission = components[ReadAdmission]
    await harness.load(make_config())
    url = "/api/v1/offices/amt/availability?services=a&date=2027-01-11"
    starts = [slot["start"] for slot in (await harness.client.get(url)).json()["slots"]]

    async def read_many() -> list[int]:
        return [(await harness.client.get(url)).status_code for _ in range(10)]

    async def book(i: int, start: str) -> int:
        answer = await harness.client.post("/api/v1/bookings", json=booking_body(start, email=f"w{i}@example.org"))
        return answer.status_code

    found = await asyncio.gather(
        *(book(i, start) for i, start in enumerate(starts[:6])), *(read_many() for _ in range(4))
    )
    assert found[:6] == [201] * 6
    assert all(statuses == [200] * 10 for statuses in found[6:])
    assert admission.writes == 0
