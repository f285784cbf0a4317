"""What the front desk and counter pages show, computed from the domains' answers (no queries here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rathaus import i18n
from rathaus.booking.models import Booking
from rathaus.i18n import N_
from rathaus.offices.rules import MODE_NAMES, OfficeRules, ServiceRule
from rathaus.queue import schemas
from rathaus.queue.office_pages import when

BOOKING_STATUS = {
    "pending": N_("Awaiting confirmation"),
    "confirmed": N_("Booked"),
    "checked_in": N_("Checked in"),
    "serving": N_("Being served"),
    "completed": N_("Done"),
    "no_show": N_("No-show"),
    "cancelled": N_("Cancelled"),
}
TICKET_STATUS = {
    "waiting": N_("Waiting"),
    "called": N_("Called"),
    "completed": N_("Done"),
    "no_show": N_("No-show"),
}


def _t(msgid: str) -> str:
    return i18n.translations(i18n.current_language()).gettext(msgid)


def clock_time(instant: datetime, office: OfficeRules) -> str:
    """An instant as the office's wall clock (HH:MM)."""
    return f"{instant.astimezone(office.tz):%H:%M}"


def day_and_time(iso: object, office: OfficeRules) -> str | None:
    """An ISO instant from a refusal's answer as a date and time in the reader's language."""
    if not isinstance(iso, str):
        return None
    return when(datetime.fromisoformat(iso), office, i18n.current_language())


def agenda(
    bookings: Sequence[Booking], office: OfficeRules, services: Mapping[int, ServiceRule], now: datetime
) -> list[dict[str, Any]]:
    """Today's appointments by time: status, services with what to bring, and whether the citizen is late."""
    language = i18n.current_language()
    rows = []
    for booking in bookings:
        chosen = [services[item.service_id] for item in booking.items if item.service_id in services]
        late = booking.status == "confirmed" and now > booking.start_at + office.check_in_grace
        rows.append(
            {
                "time": clock_time(booking.start_at, office),
                "end": clock_time(booking.end_at, office),
                "code": booking.code,
                "name": booking.name or "",
                "status": booking.status,
                "status_label": _t(BOOKING_STATUS.get(booking.status, booking.status)),
                "services": [s.name.get(language) for s in chosen],
                "bring": [(s.name.get(language), s.bring.get(language)) for s in chosen if s.bring.get(language)],
                "late": late,
                "can_check_in": booking.status == "confirmed",
                "mode": booking.mode,
                "mode_label": _t(MODE_NAMES.get(booking.mode, booking.mode)),
                "call_number": booking.call_number,
                "meeting_url": booking.meeting_url,
            }
        )
    return rows


def ticket(t: schemas.Ticket, services: Mapping[str, ServiceRule], now: datetime) -> dict[str, Any]:
    """A ticket on the counter page: number, services, wait so far, position and estimate."""
    language = i18n.current_language()
    waited = max(0, int((now - t.arrived_at).total_seconds() // 60))
    return {
        "id": t.id,
        "number": t.number,
        "status": _t(TICKET_STATUS.get(t.status, t.status)),
        "kind": t.kind,
        "services": [services[slug].name.get(language) for slug in t.services if slug in services],
        "position": t.position,
        "estimate": t.estimated_wait_minutes,
        "waited": waited,
        "arrived": f"{t.arrived_at:%H:%M}",
        "due": f"{t.due_at:%H:%M}" if t.due_at else None,
        "late": t.late,
        "note": t.note,
        "counter": t.counter,
        "ticket_url": t.ticket_url,
    }
