"""Call-next chooses in SQL: the database must pick what the call order (`ordering.next_for`) picks."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete

from rathaus.offices.catalog import Catalog
from rathaus.offices.rules import OfficeRules
from rathaus.queue._state import item_of, ticket_rows
from rathaus.queue._tickets import _first_callable
from rathaus.queue.models import Ticket, TicketService
from rathaus.queue.ordering import CounterState, next_for
from tests.conftest import Harness
from tests.queue.helpers import OPENING, queue_config

pytestmark = pytest.mark.anyio

NOW = OPENING + timedelta(minutes=30)
COUNTERS = [
    {"name": "Schalter 1", "services": ["a", "b", "c"]},
    {"name": "Schalter 2", "services": ["a"]},
    {"name": "Schalter 3", "services": ["a", "b"], "walk_in_only": True},
]


def _room(rng: random.Random, office: OfficeRules, service_ids: list[int]) -> list[Ticket]:
    """A random waiting room: every lane, ties in time, tickets for one counter, some no longer waiting."""
    tickets = []
    for number in range(1, rng.randint(0, 14) + 1):
        lane = rng.choice(["transfer", "appointment", "appointment", "walk_in", "walk_in"])
        booked = lane == "appointment" or (lane != "walk_in" and rng.random() < 0.5)
        minutes = rng.choice([-40, -20, -5, 0, 0, 5, 20])  # repeated values: equal instants, the id decides
        tickets.append(
            Ticket(
                public_id=f"room-{number}",
                office_id=office.id,
                day=office.local_day(NOW),
                prefix="A" if booked else "W",
                number=number,
                kind="appointment" if booked else "walk_in",
                lane=lane,
                status=rng.choice(["waiting"] * 5 + ["completed"]),
                due_at=NOW + timedelta(minutes=minutes) if booked and rng.random() < 0.9 else None,
                arrived_at=NOW - timedelta(minutes=50),
                queued_at=NOW + timedelta(minutes=rng.choice([-45, -30, -30, -10, 0])),
                target_counter_id=rng.choice([None, None, *(c.id for c in office.counters)]),
                items=[
                    TicketService(service_id=sid, position=i)
                    for i, sid in enumerate(rng.sample(service_ids, rng.choice([1, 1, 2])))
                ],
            )
        )
    return tickets


async def test_the_database_calls_whom_the_call_order_names(harness: Harness) -> None:
    harness.clock.set(OPENING)
    await harness.load(queue_config(counters=COUNTERS))
    rng = random.Random(15)
    async with harness.session() as session:
        snapshot = await harness.runtime.get(Catalog).get(session, now=NOW)
        office = snapshot.offices["amt"]
        service_ids = sorted(s.id for s in snapshot.services.values())
        compared = 0
        for _ in range(60):
            await session.execute(delete(Ticket))
            session.add_all(_room(rng, office, service_ids))
            await session.flush()
            waiting = [
                item_of(t, None) for t in await ticket_rows(session, office=office, now=NOW, statuses=("waiting",))
            ]
            for counter in office.counters:
                expected = next_for(CounterState(counter.id, counter.services, counter.walk_in_only, NOW), waiting, NOW)
                picked = await session.scalar(_first_callable(office, counter, NOW))
                assert picked == (expected.key if expected else None)
                compared += expected is not None
            await session.rollback()
    assert compared > 60  # most rooms had someone to call
