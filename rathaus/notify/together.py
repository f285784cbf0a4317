"""Messages about an itinerary's parts sent as one: one confirmation for all, one reminder per day, one code for
parts held until the contact is confirmed.

Each part gets its own confirmation and reminder rows (so that a part moved or cancelled alone is handled like any
booking); when they are sent, the first active part of the group speaks for the others and theirs are withdrawn.
The group is read at sending time, so a part cancelled meanwhile is left out and the next one takes over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from rathaus import i18n
from rathaus.booking import links
from rathaus.booking.models import Booking
from rathaus.notify.models import OutboxMessage
from rathaus.notify.render import when
from rathaus.offices.catalog import CatalogSnapshot
from rathaus.settings import Settings
from rathaus.tokens import unseal

ACTIVE = ("pending", "confirmed")
GROUPED = ("confirmation", "reminder", "verification")
MERGED = "sent together with the itinerary's first appointment"


def itinerary_of(row: OutboxMessage) -> str | None:
    """The code of the itinerary a message's booking belongs to, if any."""
    code = (row.payload or {}).get("itinerary")
    return code if isinstance(code, str) else None


def group_of(
    row: OutboxMessage,
    booking: Booking | None,
    parts: Mapping[str, Sequence[Booking]],
    snapshot: CatalogSnapshot | None,
) -> list[Booking] | None:
    """The bookings the message speaks for (the booking alone unless grouped), or None if another part's
    message covers this one."""
    code = itinerary_of(row)
    if booking is None or code is None or row.kind not in GROUPED or snapshot is None:
        return [] if booking is None else [booking]
    group = [b for b in parts.get(code, ()) if b.status in ACTIVE or b.id == booking.id]
    if row.kind == "reminder":
        day = _local_day(booking, snapshot)
        group = [b for b in group if _local_day(b, snapshot) == day]
    if not group or group[0].id != booking.id:
        return None
    return group


def _local_day(booking: Booking, snapshot: CatalogSnapshot) -> date:
    return snapshot.office_by_id(booking.office_id).local_day(booking.start_at)


def context(
    row: OutboxMessage,
    group: Sequence[Booking],
    snapshot: CatalogSnapshot,
    single: dict[str, Any],
    ics: tuple[bytes, str] | None,
    *,
    settings: Settings,
) -> tuple[dict[str, Any], tuple[bytes, str] | None]:
    """The message context of the group's first booking (`single`), with every appointment of the group listed
    (each with its manage link) and one calendar attachment holding them all."""
    from rathaus.notify.calendar.invite import CalendarPart, itinerary_invitation

    language = i18n.choose(row.language)
    base = settings.public_base_url.rstrip("/")
    sealed = (row.payload or {}).get("sealed_manage_token")
    token = unseal(sealed, settings.secret_key) if isinstance(sealed, str) else None
    parts = []
    calendar = []
    bring: dict[str, str] = {}
    for booking in group:
        office = snapshot.office_by_id(booking.office_id)
        services = [
            snapshot.services_by_id[i.service_id] for i in booking.items if i.service_id in snapshot.services_by_id
        ]
        manage_url = links.manage_url(base, code=booking.code, token=token) if token else None
        parts.append(
            {
                "when": when(booking.start_at, office.tz, language),
                "office_name": office.name.get(language),
                "office_address": str(office.extra.get("address", "")),
                "services": [s.name.get(language) for s in services],
                "code": booking.code,
                "manage_url": manage_url,
            }
        )
        bring |= {s.name.get(language): s.bring.get(language) for s in services if s.bring.get(language)}
        calendar.append(CalendarPart(booking, office, services, manage_url))
    if ics is not None:
        ics = (
            itinerary_invitation(
                parts=calendar,
                method=ics[1],
                language=language,
                public_base_url=base,
                organizer=settings.smtp.mail_from,
            ),
            ics[1],
        )
    return {**single, "parts": parts, "bring": [{"service": k, "text": v} for k, v in bring.items()]}, ics
