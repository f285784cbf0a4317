"""What happens to bookings, announced to the packages that react (messages, calendars)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rathaus.events import DomainEvent


@dataclass(frozen=True, slots=True)
class BookingFacts:
    """A booking as it stands after the change: what a reaction may need, without the table."""

    id: int
    code: str
    office_id: int
    status: str
    start: datetime
    end: datetime
    language: str
    email: str | None
    phone: str | None
    sequence: int  # the calendar SEQUENCE: grows with every change the citizen is told about


@dataclass(frozen=True, slots=True)
class Verification:
    """The code that turns a held booking into a confirmed one, and where it must be sent."""

    code: str
    channel: str  # email | sms


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingChanged(DomainEvent):
    """A booking was created, confirmed, moved, cancelled, expired or moved through the office day.

    `change` is one of created, confirmed, rescheduled, cancelled, expired, checked_in, serving, completed,
    no_show. `manage_token` is the manage token sealed with the app secret: known only while the citizen's own
    request runs (only its hash is stored), so messages written now can carry the manage link.
    """

    booking: BookingFacts
    change: str
    manage_token: str | None = None
    verification: Verification | None = None
    reason: str | None = None  # why it was cancelled: citizen, office, closure
    detail: Mapping[str, str] = field(default_factory=dict)  # e.g. the closure's reason in each language
    # The code of the itinerary this booking is a part of, when it was booked as one (its confirmation covers
    # every part).
    itinerary: str | None = None
    # Confirmed with the code sent to the citizen's contact: from now on the booking counts toward the person's
    # limits (which count verified contacts only).
    verified: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingMoved(DomainEvent):
    """The front desk moved a booking through the office day (checked_in, serving, completed, no_show)."""

    booking_id: int
    office_id: int
    status: str
    previous: str
