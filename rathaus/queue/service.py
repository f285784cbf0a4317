"""The queue domain's operations: tickets, the call order, estimates and the day's end."""

from rathaus.queue._day_end import close_days
from rathaus.queue._state import Estimate, QueueState, calls_from_waiting_room
from rathaus.queue._tickets import (
    QueueContext,
    WalkInRequest,
    call_next,
    check_in,
    find_counter,
    finish,
    finish_called,
    mark_turn_near_told,
    public_ticket,
    queue_state,
    recall,
    staff_ticket,
    transfer,
    walk_in,
)

__all__ = [
    "Estimate",
    "QueueContext",
    "QueueState",
    "WalkInRequest",
    "call_next",
    "calls_from_waiting_room",
    "check_in",
    "close_days",
    "find_counter",
    "finish",
    "finish_called",
    "mark_turn_near_told",
    "public_ticket",
    "queue_state",
    "recall",
    "staff_ticket",
    "transfer",
    "walk_in",
]
