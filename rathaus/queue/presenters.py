"""Queue values as the staff API, the board and the ticket page show them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rathaus.offices.rules import OfficeRules, ServiceRule
from rathaus.queue import schemas
from rathaus.queue._state import Estimate, QueueState, TicketRow

BOARD_CALLED = 8  # recent calls on the display
BOARD_NEXT = 6  # upcoming numbers on the display
_NO_ESTIMATE = Estimate(None, None)


def _counter_name(office: OfficeRules, counter_id: int | None) -> str | None:
    return next((c.name for c in office.counters if c.id == counter_id), None)


def ticket(
    t: TicketRow, state: QueueState | None, office: OfficeRules, services: Mapping[int, ServiceRule], base_url: str
) -> schemas.Ticket:
    """A ticket for staff, with position and estimate when `state` is given."""
    estimate = state.estimates.get(t.id, _NO_ESTIMATE) if state is not None else _NO_ESTIMATE
    return schemas.Ticket(
        id=t.id,
        public_id=t.public_id,
        number=t.label,
        kind=t.kind,
        status=t.status,
        position=estimate.position,
        estimated_wait_minutes=estimate.wait_minutes,
        services=[services[i].slug for i in t.service_ids],
        counter=_counter_name(office, t.counter_id or t.target_counter_id),
        arrived_at=t.arrived_at.astimezone(office.tz),
        due_at=t.due_at.astimezone(office.tz) if t.due_at else None,
        called_at=t.called_at.astimezone(office.tz) if t.called_at else None,
        finished_at=t.finished_at.astimezone(office.tz) if t.finished_at else None,
        late=t.due_at is not None and t.arrived_at > t.due_at + office.check_in_grace,
        note=t.note,
        ticket_url=f"{base_url}/tickets/{t.public_id}",
    )


def queue(state: QueueState, services: Mapping[int, ServiceRule], base_url: str) -> schemas.Queue:
    """The whole waiting room for the front desk."""
    return schemas.Queue(
        office=state.office.slug,
        at=state.now.astimezone(state.office.tz),
        waiting=[ticket(t, state, state.office, services, base_url) for t in state.waiting],
        called=[ticket(t, state, state.office, services, base_url) for t in state.called],
        walk_in_wait_minutes=state.walk_in_wait_minutes(),
        completed_today=state.counts.get("completed", 0),
        no_show_today=state.counts.get("no_show", 0),
        counters_staffed=[c.name for c in state.office.counters if c.id in {s.id for s in state.counters}],
    )


def board(state: QueueState) -> schemas.Board:
    """What the waiting-room display shows: recent calls with counters, the next numbers, the current wait."""
    office = state.office
    return schemas.Board(
        office=office.slug,
        office_name_de=office.name.get("de"),
        office_name_en=office.name.get("en"),
        at=state.now.astimezone(office.tz),
        time_zone=office.tz.key,
        open_now=state.open_now,
        opens_next=_local(state.opens_next(), office),
        called=[
            schemas.BoardCall(
                number=t.label,
                counter=_counter_name(office, t.counter_id) or "",
                recalls=t.recalls,
                called_at=t.called_at.astimezone(office.tz) if t.called_at else None,
            )
            for t in state.called[:BOARD_CALLED]
        ],
        next=[t.label for t in state.waiting[:BOARD_NEXT]],
        waiting_count=len(state.waiting),
        walk_in_wait_minutes=state.walk_in_wait_minutes(),
    )


def _local(instant: datetime | None, office: OfficeRules) -> datetime | None:
    return None if instant is None else instant.astimezone(office.tz)


def public_ticket(
    t: TicketRow, state: QueueState, services: Mapping[int, ServiceRule], language: str
) -> schemas.PublicTicket:
    """A citizen's own ticket."""
    estimate = state.estimates.get(t.id, _NO_ESTIMATE)
    office = state.office
    return schemas.PublicTicket(
        number=t.label,
        status=t.status,
        position=estimate.position,
        estimated_wait_minutes=estimate.wait_minutes,
        counter=_counter_name(office, t.counter_id) if t.status == "called" else None,
        office=office.slug,
        office_name=office.name.get(language),
        services=[services[i].name.get(language) for i in t.service_ids],
        called_at=t.called_at.astimezone(office.tz) if t.called_at else None,
    )
