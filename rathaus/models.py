"""Every table of every package, imported in one place so metadata and migrations see them all."""

from rathaus.booking.models import Booking, BookingEvent, BookingService, IdempotentRequest, SlotClaim
from rathaus.db import Base
from rathaus.fairness.models import RequestCount, SpentProof
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
from rathaus.waitlist.models import (
    Draw,
    Offer,
    OfferLock,
    Release,
    WaitlistPolicy,
    Wish,
    WishOffice,
    WishService,
    WishWindow,
)

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
    "Draw",
    "IdempotentRequest",
    "NotifyEvent",
    "NotifyPolicy",
    "Offer",
    "OfferLock",
    "Office",
    "OpeningHours",
    "OutboxMessage",
    "Rating",
    "Release",
    "RequestCount",
    "Service",
    "SignInAttempt",
    "SlotClaim",
    "SmsOptOut",
    "SpecialHours",
    "SpentProof",
    "StaffSession",
    "StaffToken",
    "StaffUser",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "TicketService",
    "WaitlistPolicy",
    "Wish",
    "WishOffice",
    "WishService",
    "WishWindow",
]
