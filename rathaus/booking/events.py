"""What happens to bookings, announced to the packages that react (messages, calendars)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

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


@dataclass(frozen=True, slots=True)
class CreationProbe:
    """A question a reaction to `created` asks inside the statement that writes the booking, so that the reaction
    needs no query of its own when the answer says there is nothing to do.

    `sql(services)` is a scalar SQL expression that yields an integer; it may use the new booking's parameters
    `:email`, `:phone` and `:s0` … (its service ids, `services` of them). It is read in the booking's transaction,
    as a query of the reaction's own would be: the database answers it, on every instance alike.
    """

    name: str
    sql: Callable[[int], str]


@dataclass(frozen=True, slots=True)
class WithBookingId:
    """A value that holds the id of a booking not yet written: in an integer column the id itself, in a text column
    the text `before` + id + `after` (e.g. a key "confirmation:<id>:0:email"). The booking's statement fills it in."""

    before: str = ""
    after: str = ""


NEW_BOOKING_ID = WithBookingId()


@dataclass(frozen=True, slots=True)
class NewRows:
    """Rows of a reacting package's own table (columns by name) that the statement writing a new booking writes
    too, so that they cost no statement of their own. A value may be a `WithBookingId`."""

    table: Table
    rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class CreationRows:
    """A reaction to `created` that hands over its rows before the booking is written (see `NewRows`).

    `build(session, event)` gets the `created` event as it will be published, except that the booking has no id
    yet (0: the rows name it with `WithBookingId`); it returns the rows or None for none. The published event then
    names the reaction in `written`, and the reaction adds nothing.
    """

    name: str
    build: Callable[[AsyncSession, BookingChanged], Awaitable[NewRows | None]]


class CreationProbes:
    """The probes and row builders of one instance, added by the packages that react to new bookings (a `Wiring`
    component)."""

    def __init__(self) -> None:
        self.probes: tuple[CreationProbe, ...] = ()
        self.rows: tuple[CreationRows, ...] = ()

    def add(self, probe: CreationProbe) -> None:
        """Ask `probe` with every booking written from now on."""
        self.probes = (*self.probes, probe)

    def add_rows(self, builder: CreationRows) -> None:
        """Write `builder`'s rows with every booking written from now on."""
        self.rows = (*self.rows, builder)


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
    # The answers to the creation probes by their names, when the booking was written by the statement that
    # asks them (a `created` booking); a probe not named here was not asked.
    answers: Mapping[str, int] = field(default_factory=dict)
    # The reactions whose rows the booking's statement wrote (see `CreationRows`): they have nothing left to do.
    written: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingMoved(DomainEvent):
    """The front desk moved a booking through the office day (checked_in, serving, completed, no_show)."""

    booking_id: int
    office_id: int
    status: str
    previous: str
