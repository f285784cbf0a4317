"""Bookings, their services and history, the claims that prevent double booking, idempotent requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rathaus.db import Base, personal


class Booking(Base):
    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'checked_in', 'serving', 'completed', 'no_show', "
            "'cancelled', 'expired')",
            name="status",
        ),
        CheckConstraint("start_at < end_at", name="order"),
        CheckConstraint("mode IN ('on_site', 'phone', 'video')", name="mode"),
        Index("ix_booking_office_start", "office_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2), default="de")
    name: Mapped[str | None] = mapped_column(String(200), info=personal())
    email: Mapped[str | None] = mapped_column(String(320), info=personal())
    phone: Mapped[str | None] = mapped_column(String(20), info=personal())
    # How the appointment takes place; a phone appointment's number to call (any valid number, landlines too)
    # and a video appointment's own meeting link (its room name is a secret of the citizen and the office).
    mode: Mapped[str] = mapped_column(String(8), default="on_site", server_default="on_site")
    call_number: Mapped[str | None] = mapped_column(String(20), info=personal())
    meeting_url: Mapped[str | None] = mapped_column(String(500), info=personal())
    token_hash: Mapped[str] = mapped_column(String(64))
    verification_code_hash: Mapped[str | None] = mapped_column(String(64))
    verification_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    hold_expires_at: Mapped[datetime | None]
    ical_sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    closure_id: Mapped[int | None] = mapped_column(ForeignKey("closure.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    purged_at: Mapped[datetime | None]

    items: Mapped[list[BookingService]] = relationship(
        order_by="BookingService.position", cascade="all, delete-orphan", lazy="selectin"
    )
    events: Mapped[list[BookingEvent]] = relationship(
        order_by="BookingEvent.id", cascade="all, delete-orphan", lazy="raise"
    )


class BookingService(Base):
    __tablename__ = "booking_service"

    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)


class BookingEvent(Base):
    """One status transition of a booking: who, when and a dotted action name."""

    __tablename__ = "booking_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(300), default="")


class SlotClaim(Base):
    """One slot-grid cell of one counter held by one booking; the primary key forbids double booking."""

    __tablename__ = "slot_claim"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counter.id", ondelete="CASCADE"), primary_key=True)
    cell_start: Mapped[datetime] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    # Set while the booking is an unverified hold; an expired claim no longer blocks anyone.
    expires_at: Mapped[datetime | None]


class Itinerary(Base):
    """Appointments of one life event at one or more offices, booked together and managed with one token.

    Each part is an ordinary booking (its counter claims, check-in, reminders); its token hash is the
    itinerary's, so the one manage link opens the whole and every part.
    """

    __tablename__ = "itinerary"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    life_event: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2), default="de")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    parts: Mapped[list[ItineraryPart]] = relationship(
        order_by="ItineraryPart.position", cascade="all, delete-orphan", lazy="selectin"
    )


class ItineraryPart(Base):
    """One booking of an itinerary: which step of the life event it serves."""

    __tablename__ = "itinerary_part"

    itinerary_id: Mapped[int] = mapped_column(ForeignKey("itinerary.id", ondelete="CASCADE"), primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), unique=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    step: Mapped[str] = mapped_column(String(64))


class IdempotentRequest(Base):
    """The first answer to a booking request carrying an Idempotency-Key."""

    __tablename__ = "idempotent_request"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    # Empty only inside the transaction that creates the booking; inserted first so that concurrent
    # requests with the same key queue on this row instead of both booking.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    # The manage token encrypted with the app secret, so a replay can repeat the first answer.
    sealed_token: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
