"""Turning domain values into API shapes, in the reader's language and the office's time zone."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from rathaus.booking import schemas
from rathaus.booking.models import Booking
from rathaus.booking.service import BookingView, DayAvailability, ItineraryOptions, ItineraryView


def availability_json(result: DayAvailability) -> bytes:
    """The availability answer, encoded once per cached day and booking window."""
    key = (result.low, result.high)
    encoded = result.slots.encoded.get(key)
    if encoded is None:
        answer = schemas.Availability(
            office=result.office.slug,
            date=result.day,
            services=[s.slug for s in result.services],
            duration_minutes=sum(_minutes(s.duration) for s in result.services),
            # The availability service keeps slots in the office's zone already.
            slots=[schemas.Slot(s.start, s.end) for s in result.bookable],
            mode=result.mode,
        )
        encoded = result.slots.encoded.setdefault(key, msgspec.json.encode(answer))
    return encoded


def booking(result: BookingView, *, with_history: bool = False) -> schemas.Booking:
    """A booking for its holder (personal data included: only the token holder sees it)."""
    b: Booking = result.booking
    tz = result.office.tz
    counter = next((c.name for c in result.office.counters if c.id == b.counter_id), "")
    history = None
    if with_history:
        history = [
            schemas.BookingHistoryItem(e.at.astimezone(tz), e.action, e.actor, e.from_status, e.to_status)
            for e in b.events
        ]
    return schemas.Booking(
        code=b.code,
        status=b.status,
        office=result.office.slug,
        services=[s.slug for s in result.services],
        start=b.start_at.astimezone(tz),
        end=b.end_at.astimezone(tz),
        counter=counter,
        language=b.language,
        name=b.name,
        email=b.email,
        phone=b.phone,
        ical_sequence=b.ical_sequence,
        hold_expires_at=None if b.hold_expires_at is None else b.hold_expires_at.astimezone(tz),
        cancel_reason=b.cancel_reason,
        manage_token=result.manage_token,
        history=history,
        mode=b.mode,
        call_number=b.call_number,
        meeting_url=b.meeting_url,
    )


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def itineraries(result: ItineraryOptions) -> schemas.Itineraries:
    """Proposed itineraries, each part in its office's time zone."""
    steps = {step.key: step for step in result.life_event.steps}
    return schemas.Itineraries(
        life_event=result.life_event.slug,
        itineraries=[
            schemas.ProposedItinerary(
                day=p.day,
                days=p.days,
                parts=[
                    schemas.ProposedPart(
                        step=part.step,
                        office=part.office,
                        services=[s.slug for s in steps[part.step].services],
                        start=part.start.astimezone(result.offices[part.office].tz),
                        end=part.end.astimezone(result.offices[part.office].tz),
                    )
                    for part in p.parts
                ],
            )
            for p in result.proposals
        ],
    )


def itinerary(result: ItineraryView) -> schemas.Itinerary:
    """A booked itinerary for the holder of its manage token."""
    active = [p for p in result.parts if p.booking.status != "cancelled"]
    status = "cancelled" if not active else ("confirmed" if len(active) == len(result.parts) else "partly_cancelled")
    return schemas.Itinerary(
        code=result.itinerary.code,
        life_event=result.life_event.slug,
        status=status,
        parts=[booking(part) for part in result.parts],
        manage_token=result.manage_token,
    )
