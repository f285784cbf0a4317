"""Who is called next, and when each waiting person will probably be called: pure functions over plain values.

The call order at instant t, for one counter, among the tickets it can serve:
  1. transfers (sent on from another counter; they have waited already), in the order they were sent on;
  2. appointments that are due (start <= t) and arrived within the grace period, by appointment time;
  3. walk-ins and late appointments, in arrival order;
  4. appointments checked in early, not yet due, by appointment time (an idle counter need not wait for them).
The same rule drives call-next and the wait estimates, so the estimate predicts what the counters will do.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A ticket waiting (present) or an appointment expected today that has not checked in yet (absent)."""

    key: int
    lane: str  # transfer | appointment | walk_in
    kind: str  # appointment | walk_in
    services: frozenset[int]
    queued_at: datetime
    due_at: datetime | None
    expected: timedelta
    target_counter: int | None = None
    present: bool = True


@dataclass(frozen=True, slots=True)
class CounterState:
    id: int
    services: frozenset[int]
    walk_in_only: bool
    free_at: datetime


def can_serve(counter_id: int, services: frozenset[int], walk_in_only: bool, item: QueueItem) -> bool:
    """True if the counter offers every service of the item and the item is not meant for another counter."""
    if item.target_counter is not None and item.target_counter != counter_id:
        return False
    if walk_in_only and item.lane == "appointment":
        return False
    return item.services <= services


def order_key(item: QueueItem, at: datetime) -> tuple[int, datetime, int]:
    """Sort key of the call order at instant `at` (smaller is called first)."""
    if item.lane == "transfer":
        return (0, item.queued_at, item.key)
    if item.lane == "appointment" and item.due_at is not None:
        return (1 if item.due_at <= at else 3, item.due_at, item.key)
    return (2, item.queued_at, item.key)


def next_for(counter: CounterState, items: Iterable[QueueItem], at: datetime) -> QueueItem | None:
    """The item this counter calls at `at`, or None."""
    callable_now = [
        item
        for item in items
        if can_serve(counter.id, counter.services, counter.walk_in_only, item)
        and (item.present or (item.due_at is not None and item.due_at <= at))
    ]
    return min(callable_now, key=lambda item: order_key(item, at), default=None)


def simulate(items: list[QueueItem], counters: list[CounterState], now: datetime) -> dict[int, datetime]:
    """When each item will probably be called: the counters work through the queue by the call order.

    Items that no counter can serve are missing from the answer. Items are grouped by what decides who may
    call them (lane, presence, services, target counter); within a group the call order never changes, so
    each step compares only the groups' first items.
    """
    groups: dict[tuple[str, bool, frozenset[int], int | None], deque[QueueItem]] = defaultdict(deque)
    for item in sorted(items, key=lambda i: order_key(i, now)[1:]):
        groups[(item.lane, item.present, item.services, item.target_counter)].append(item)
    starts: dict[int, datetime] = {}
    free = [(max(c.free_at, now), index) for index, c in enumerate(counters)]
    heapq.heapify(free)
    while free and any(groups.values()):
        at, index = heapq.heappop(free)
        counter = counters[index]
        best: deque[QueueItem] | None = None
        best_key: tuple[int, datetime, int] | None = None
        wake: datetime | None = None
        for queue in groups.values():
            if not queue or not can_serve(counter.id, counter.services, counter.walk_in_only, queue[0]):
                continue
            head = queue[0]
            if not head.present and head.due_at is not None and head.due_at > at:
                wake = head.due_at if wake is None else min(wake, head.due_at)
                continue
            key = order_key(head, at)
            if best_key is None or key < best_key:
                best, best_key = queue, key
        if best is None:
            # Nothing for this counter now: it waits for the next expected appointment it could serve.
            if wake is not None:
                heapq.heappush(free, (wake, index))
            continue
        item = best.popleft()
        starts[item.key] = at
        heapq.heappush(free, (at + item.expected, index))
    return starts
