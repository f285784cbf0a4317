"""A new ticket, call-next and complete write the ticket and its record together (one statement on PostgreSQL, one
hand-over to aiosqlite's thread on SQLite): all or nothing; of two counters claiming at once only one gets the
ticket; a write refused for the caller's office is undone."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select, text

from rathaus.booking.deps import booking_context
from rathaus.errors import RathausError
from rathaus.offices.catalog import Catalog
from rathaus.queue import service
from rathaus.queue._state import DurationsCache
from rathaus.queue.models import Ticket, TicketEvent
from tests.conftest import Harness
from tests.queue.helpers import Desk, queue_config, two_offices
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio

_REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON ticket_event WHEN NEW.action = '{action}'"
        " BEGIN SELECT RAISE(ABORT, 'not today'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'not today'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON ticket_event FOR EACH ROW WHEN (NEW.action = '{action}')"
        " EXECUTE FUNCTION refuse()",
    ],
}
_ALLOW = {
    "sqlite": ["DROP TRIGGER refuse"],
    "postgresql": ["DROP TRIGGER refuse ON ticket_event", "DROP FUNCTION refuse()"],
}


@asynccontextmanager
async def _not_recorded(harness: Harness, action: str) -> AsyncIterator[None]:
    """The database refuses every record of this action (the write's last part fails after the rest succeeded)."""
    dialect = harness.engine.dialect.name
    async with harness.engine.begin() as connection:
        for sql in _REFUSE[dialect]:
            await connection.execute(text(sql.replace("{action}", action)))
    try:
        yield
    finally:
        async with harness.engine.begin() as connection:
            for sql in _ALLOW[dialect]:
                await connection.execute(text(sql))


async def _records(harness: Harness) -> list[tuple[int, str, str | None, str, int | None, str]]:
    async with harness.session() as session:
        rows = await session.execute(
            select(
                TicketEvent.ticket_id,
                TicketEvent.action,
                TicketEvent.from_status,
                TicketEvent.to_status,
                TicketEvent.counter_id,
                TicketEvent.actor,
            ).order_by(TicketEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_call_whose_record_fails_leaves_the_ticket_waiting(harness: Harness) -> None:
    desk = await Desk.open(harness)
    ticket = (await desk.walk_in("a")).json()

    async with _not_recorded(harness, "call"):
        refused = await desk.call_next("Schalter 1")

    assert refused.status_code == 500
    assert (await desk.queue())["waiting"][0]["id"] == ticket["id"]
    assert [action for _, action, *_ in await _records(harness)] == ["issue"]
    called = await desk.call_next("Schalter 1")
    assert called.status_code == 200 and called.json()["id"] == ticket["id"]
    async with harness.session() as session:
        counter_id = await session.scalar(select(Ticket.counter_id).where(Ticket.id == ticket["id"]))
    assert (await _records(harness))[-1] == (ticket["id"], "call", "waiting", "called", counter_id, "desk")


async def test_a_walk_in_whose_record_fails_leaves_nothing_and_gives_its_number_back(harness: Harness) -> None:
    desk = await Desk.open(harness)

    async with _not_recorded(harness, "issue"):
        refused = await desk.walk_in("a", "b")

    assert refused.status_code == 500
    assert (await desk.queue())["waiting"] == []
    ticket = (await desk.walk_in("b", "a", phone="0151 12345678")).json()
    assert ticket["number"] == "W-001" and ticket["services"] == ["b", "a"] and ticket["position"] == 1
    assert [t["services"] for t in (await desk.queue())["waiting"]] == [["b", "a"]]  # read back in their order
    assert await _records(harness) == [(ticket["id"], "issue", None, "waiting", None, "desk")]


async def test_two_counters_claiming_the_last_ticket_at_once_record_one_call(harness: Harness) -> None:
    counters = [{"name": f"Schalter {i}", "services": ["a"]} for i in (1, 2)]
    desk = await Desk.open(harness, queue_config(counters=counters))
    ticket = (await desk.walk_in("a")).json()
    runtime, now = harness.runtime, harness.clock.now()
    ctx = service.QueueContext(booking_context(runtime), runtime.read_session_maker, "", DurationsCache())
    async with harness.session() as session:
        office = (await runtime.get(Catalog).get(session, now=now)).offices["amt"]
    gate = asyncio.Event()

    async def call(counter: str) -> int | str:
        async with harness.session() as session:
            await gate.wait()
            try:
                row = await service.call_next(session, ctx=ctx, office=office, counter_ref=counter, actor="d", now=now)
            except RathausError as error:
                return error.code
            await session.commit()
            return row.id

    calls = [asyncio.create_task(call(counter)) for counter in ("Schalter 1", "Schalter 2")]
    await asyncio.sleep(0)
    gate.set()
    outcomes = await asyncio.gather(*calls)

    assert sorted(outcomes, key=str) == sorted([ticket["id"], "nothing_to_call"], key=str)
    assert [action for _, action, *_ in await _records(harness)] == ["issue", "call"]


async def test_a_desk_of_another_office_cannot_complete_a_called_ticket(harness: Harness) -> None:
    desk = await Desk.open(harness, two_offices())
    ticket = (await desk.walk_in("a")).json()
    assert (await desk.call_next("Schalter 1")).status_code == 200
    outsider = {"Authorization": f"Bearer {await staff_token(harness, 'outsider', role='desk', offices=('zwei',))}"}

    refused = await harness.client.post(f"/api/v1/tickets/{ticket['id']}/complete", headers=outsider)

    assert refused.status_code == 403
    assert [t["id"] for t in (await desk.queue())["called"]] == [ticket["id"]]
    assert [action for _, action, *_ in await _records(harness)] == ["issue", "call"]
    done = await desk.ticket_action(ticket["id"], "complete")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    called_by = (await _records(harness))[1][4]
    assert (await _records(harness))[-1] == (ticket["id"], "completed", "called", "completed", called_by, "desk")
