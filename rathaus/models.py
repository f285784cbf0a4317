"""Every table of every package, imported in one place so metadata and migrations see them all."""

from rathaus.booking.models import Booking, BookingEvent, BookingService, IdempotentRequest, SlotClaim
from rathaus.db import Base
from rathaus.notify.calendar.models import AgendaFeed
from rathaus.notify.models import NotifyEvent, NotifyPolicy, OutboxMessage, SmsOptOut
from rathaus.offices.models import (
    Bundle,
    BundleService,
    CatalogVersion,
    Closure,
    Counter,
    Office,
    OpeningHours,
    Service,
    SpecialHours,
)
from rathaus.queue.models import Ticket, TicketEvent, TicketSequence, TicketService
from rathaus.ratings.models import Rating
from rathaus.staff.models import SignInAttempt, StaffSession, StaffToken, StaffUser

__all__ = [
    "AgendaFeed",
    "Base",
    "Booking",
    "BookingEvent",
    "BookingService",
    "Bundle",
    "BundleService",
    "CatalogVersion",
    "Closure",
    "Counter",
    "IdempotentRequest",
    "NotifyEvent",
    "NotifyPolicy",
    "Office",
    "OpeningHours",
    "OutboxMessage",
    "Rating",
    "Service",
    "SignInAttempt",
    "SlotClaim",
    "SmsOptOut",
    "SpecialHours",
    "StaffSession",
    "StaffToken",
    "StaffUser",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "TicketService",
]
