"""The call order and the wait simulation as pure functions."""

import random
from datetime import UTC, datetime, timedelta

from rathaus.queue.ordering import CounterState, QueueItem, next_for, simulate

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def walk_in(key: int, arrived: int, services: frozenset[int] = frozenset({1}), minutes: int = 10) -> QueueItem:
    return QueueItem(key, "walk_in", "walk_in", services, NOW + arrived * MIN, None, minutes * MIN)


def appointment(key: int, due: int, *, present: bool = True, minutes: int = 10) -> QueueItem:
    return QueueItem(
        key,
        "appointment",
        "appointment",
        frozenset({1}),
        NOW + due * MIN,
        NOW + due * MIN,
        minutes * MIN,
        present=present,
    )


def counter(key: int, services: frozenset[int] = frozenset({1}), *, walk_in_only: bool = False) -> CounterState:
    return CounterState(key, services, walk_in_only, NOW)


def test_due_appointments_first_then_walk_ins_then_early_arrivals() -> None:
    items = [walk_in(1, -30), appointment(2, 0), appointment(3, 20), walk_in(4, -10)]
    order = []
    pending = list(items)
    while pending:
        chosen = next_for(counter(1), pending, NOW)
        assert chosen is not None
        order.append(chosen.key)
        pending.remove(chosen)
    assert order == [2, 1, 4, 3]


def test_transfers_go_first_and_only_to_their_counter() -> None:
    moved = QueueItem(9, "transfer", "walk_in", frozenset({1}), NOW, None, MIN, target_counter=2)
    items = [walk_in(1, -30), moved]
    assert next_for(counter(1), items, NOW).key == 1  # type: ignore[union-attr]
    assert next_for(counter(2), items, NOW).key == 9  # type: ignore[union-attr]


def test_walk_in_only_counters_leave_appointments_to_the_others() -> None:
    assert next_for(counter(1, walk_in_only=True), [appointment(1, 0)], NOW) is None


def test_simulation_fills_counters_and_waits_for_expected_appointments() -> None:
    items = [walk_in(1, 0, minutes=20), walk_in(2, 1, minutes=20), appointment(3, 10, present=False), walk_in(4, 2)]
    starts = simulate(items, [counter(1), counter(2)], NOW)
    # Both counters take a walk-in at once; at 20 minutes the booked appointment (due at 10) comes first.
    assert starts == {1: NOW, 2: NOW, 3: NOW + 20 * MIN, 4: NOW + 20 * MIN}


def test_simulation_leaves_out_what_no_counter_serves() -> None:
    starts = simulate([walk_in(1, 0, services=frozenset({7}))], [counter(1)], NOW)
    assert starts == {}


def test_a_newcomer_who_takes_no_time_moves_nobody_else() -> None:
    """The board's wait for a walk-in comes from the waiting room's own simulation with such a newcomer added."""
    rng = random.Random(15)
    for _ in range(200):
        services = [frozenset({1}), frozenset({2}), frozenset({1, 2})]
        items = []
        for key in range(1, rng.randint(0, 30)):
            lane = rng.choice(["walk_in", "appointment", "transfer"])
            at = NOW + rng.randint(-60, 60) * MIN
            due = at if lane == "appointment" else None
            target = rng.choice([None, 1, 2]) if lane == "transfer" else None
            present = lane != "appointment" or rng.random() < 0.7
            expected = rng.randint(1, 30) * MIN
            kind = "appointment" if lane == "appointment" else "walk_in"
            items.append(QueueItem(key, lane, kind, rng.choice(services), at, due, expected, target, present))
        counters = [
            CounterState(key, rng.choice(services), rng.random() < 0.3, NOW + rng.randint(0, 20) * MIN)
            for key in range(1, rng.randint(1, 4))
        ]
        newcomer = QueueItem(2**62, "walk_in", "walk_in", frozenset(), NOW, None, timedelta())

        alone = simulate(items, counters, NOW)
        together = simulate([*items, newcomer], counters, NOW)

        assert {key: start for key, start in together.items() if key != newcomer.key} == alone
        assert (newcomer.key in together) == bool(counters)
