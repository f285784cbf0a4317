"""The booking domain's operations: the only code that changes booking state."""

from rathaus.booking._agenda import agenda
from rathaus.booking._availability import (
    AvailabilityCache,
    DayAvailability,
    availability,
    day_slots,
    first_free_day,
    next_free_slot,
    offered_modes,
    unchanged,
)
from rathaus.booking._bookings import (
    BookingContext,
    BookingRequest,
    BookingView,
    book,
    cancel,
    cancel_booking,
    confirm,
    expire_holds,
    facts,
    reschedule,
    validate_start,
    view,
)
from rathaus.booking._closures import cancel_for_closure, cancelled_by_closures, closure_cancellations
from rathaus.booking._frontdesk import booking_by_code, expected_arrivals, move
from rathaus.booking._lookup import bookings_by_id, next_by_phone
from rathaus.booking._privacy import erase, personal_columns, purge_personal_data

__all__ = [
    "AvailabilityCache",
    "BookingContext",
    "BookingRequest",
    "BookingView",
    "DayAvailability",
    "agenda",
    "availability",
    "book",
    "booking_by_code",
    "bookings_by_id",
    "cancel",
    "cancel_booking",
    "cancel_for_closure",
    "cancelled_by_closures",
    "closure_cancellations",
    "confirm",
    "day_slots",
    "erase",
    "expected_arrivals",
    "expire_holds",
    "facts",
    "first_free_day",
    "move",
    "next_by_phone",
    "next_free_slot",
    "offered_modes",
    "personal_columns",
    "purge_personal_data",
    "reschedule",
    "unchanged",
    "validate_start",
    "view",
]
