"""The booking domain's operations: the only code that changes booking state."""

from rathaus.booking._agenda import agenda
from rathaus.booking._availability import (
    AvailabilityCache,
    DayAvailability,
    availability,
    check_online,
    day_slots,
    first_free_day,
    next_free_slot,
    offered_modes,
    uncached_day_slots,
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
from rathaus.booking._holds import (
    Hold,
    Holder,
    active_bookings_per_service,
    booking_service_ids,
    confirm_hold,
    hold,
    release_hold,
)
from rathaus.booking._lookup import bookings_by_id, next_by_phone
from rathaus.booking._privacy import erase, personal_columns, purge_personal_data

__all__ = [
    "AvailabilityCache",
    "BookingContext",
    "BookingRequest",
    "BookingView",
    "DayAvailability",
    "Hold",
    "Holder",
    "active_bookings_per_service",
    "agenda",
    "availability",
    "book",
    "booking_by_code",
    "booking_service_ids",
    "bookings_by_id",
    "cancel",
    "cancel_booking",
    "cancel_for_closure",
    "cancelled_by_closures",
    "check_online",
    "closure_cancellations",
    "confirm",
    "confirm_hold",
    "day_slots",
    "erase",
    "expected_arrivals",
    "expire_holds",
    "facts",
    "first_free_day",
    "hold",
    "move",
    "next_by_phone",
    "next_free_slot",
    "offered_modes",
    "personal_columns",
    "purge_personal_data",
    "release_hold",
    "reschedule",
    "uncached_day_slots",
    "validate_start",
    "view",
]
