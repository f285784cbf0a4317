"""Offices, services, bundles, counters, hours, closures, bookings and the claims that prevent double booking."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rathaus.db import Base, personal

counter_service = Table(
    "counter_service",
    Base.metadata,
    Column("counter_id", ForeignKey("counter.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
)


class Office(Base):
    __tablename__ = "office"
    __table_args__ = (
        CheckConstraint("slot_minutes > 0 AND 1440 % slot_minutes = 0", name="slot_minutes"),
        CheckConstraint("verification IN ('off', 'email', 'sms')", name="verification"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    slot_minutes: Mapped[int] = mapped_column(SmallInteger, default=15)
    lead_time_minutes: Mapped[int] = mapped_column(Integer, default=60)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    buffer_minutes: Mapped[int] = mapped_column(SmallInteger, default=0)
    walk_in_cutoff_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    # How late a booked citizen may check in and still be served at the appointment's time.
    check_in_grace_minutes: Mapped[int] = mapped_column(SmallInteger, default=10, server_default=text("10"))
    verification: Mapped[str] = mapped_column(String(8), default="off")
    hold_minutes: Mapped[int] = mapped_column(SmallInteger, default=15)
    # Whether staff agenda feeds show citizens' names (off: booking code and services only).
    agenda_shows_names: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    counters: Mapped[list[Counter]] = relationship(back_populates="office", order_by="Counter.id")
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        order_by="(OpeningHours.weekday, OpeningHours.opens)", cascade="all, delete-orphan"
    )
    special_hours: Mapped[list[SpecialHours]] = relationship(
        order_by="(SpecialHours.day, SpecialHours.opens)", cascade="all, delete-orphan"
    )


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (CheckConstraint("duration_minutes > 0", name="duration"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    bring_de: Mapped[str] = mapped_column(Text, default="")
    bring_en: Mapped[str] = mapped_column(Text, default="")
    fee_cents: Mapped[int | None]
    bookable_online: Mapped[bool] = mapped_column(Boolean, default=True)
    walk_ins_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    walk_in_cutoff_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime]


class Bundle(Base):
    """A life event ("Lebenslage") that needs several services, e.g. moving house."""

    __tablename__ = "bundle"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[list[BundleService]] = relationship(order_by="BundleService.position", cascade="all, delete-orphan")


class BundleService(Base):
    __tablename__ = "bundle_service"

    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    service: Mapped[Service] = relationship()


class Counter(Base):
    __tablename__ = "counter"
    __table_args__ = (UniqueConstraint("office_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    walk_in_only: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    office: Mapped[Office] = relationship(back_populates="counters")
    services: Mapped[list[Service]] = relationship(secondary=counter_service, order_by="Service.id")


class OpeningHours(Base):
    """A weekly opening window, in the office's local time (weekday 0 = Monday)."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens < closes", name="order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class SpecialHours(Base):
    """An extra opening window on one date (an evening service, a Saturday opening)."""

    __tablename__ = "special_hours"
    __table_args__ = (CheckConstraint("opens < closes", name="order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    note_de: Mapped[str] = mapped_column(String(300), default="")
    note_en: Mapped[str] = mapped_column(String(300), default="")


class Closure(Base):
    __tablename__ = "closure"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="order"),
        Index("ix_closure_office_end", "office_id", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    reason_de: Mapped[str] = mapped_column(String(300))
    reason_en: Mapped[str] = mapped_column(String(300))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    # config | holidays | staff: a reload replaces only what the file declared
    source: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Booking(Base):
    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'checked_in', 'serving', 'completed', 'no_show', "
            "'cancelled', 'expired')",
            name="status",
        ),
        CheckConstraint("start_at < end_at", name="order"),
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


class CatalogVersion(Base):
    """One row counting changes to offices, services, hours and closures, so instances reload only when needed."""

    __tablename__ = "catalog_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime]
