"""The booking domain's operations: the only code that changes booking state."""

from rathaus.booking._agenda import agenda
from rathaus.booking._availability import AvailabilityCache, DayAvailability, availability, day_slots
from rathaus.booking._bookings import (
    BookingContext,
    BookingRequest,
    BookingView,
    book,
    cancel,
    cancel_booking,
    confirm,
    expire_holds,
    reschedule,
    validate_start,
    view,
)
from rathaus.booking._closures import add_closure, list_closures, remove_closure
from rathaus.booking._frontdesk import booking_by_code, expected_arrivals, move
from rathaus.booking._privacy import erase, personal_columns, purge_personal_data

__all__ = [
    "AvailabilityCache",
    "BookingContext",
    "BookingRequest",
    "BookingView",
    "DayAvailability",
    "add_closure",
    "agenda",
    "availability",
    "book",
    "booking_by_code",
    "cancel",
    "cancel_booking",
    "confirm",
    "day_slots",
    "erase",
    "expected_arrivals",
    "expire_holds",
    "list_closures",
    "move",
    "personal_columns",
    "purge_personal_data",
    "remove_closure",
    "reschedule",
    "validate_start",
    "view",
]
