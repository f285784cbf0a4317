"""Wishes, the releases of capacity they compete for, the lottery draws and the offers made to them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rathaus.db import Base, personal

WISH_STATUSES = ("unverified", "active", "fulfilled", "withdrawn", "expired")
OFFER_STATUSES = ("open", "accepted", "declined", "expired", "cancelled")
_OPEN = text("status = 'open'")


class Wish(Base):
    """A citizen's wish for an appointment: services, offices, days and times, reachable on one channel."""

    __tablename__ = "wish"
    __table_args__ = (
        CheckConstraint(f"status IN {WISH_STATUSES}", name="status"),
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint("first_day <= last_day", name="days"),
        Index("ix_wish_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    name: Mapped[str | None] = mapped_column(String(200), info=personal())
    email: Mapped[str | None] = mapped_column(String(320), info=personal(), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), info=personal(), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(2))
    first_day: Mapped[date]
    last_day: Mapped[date]
    verification_code_hash: Mapped[str | None] = mapped_column(String(64))
    verification_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    services: Mapped[list[WishService]] = relationship(
        order_by="WishService.position", cascade="all, delete-orphan", lazy="selectin"
    )
    offices: Mapped[list[WishOffice]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    windows: Mapped[list[WishWindow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class WishService(Base):
    """A service of the appointment wished for (all of them in one appointment)."""

    __tablename__ = "wish_service"

    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)


class WishOffice(Base):
    """An office where the wish may be met."""

    __tablename__ = "wish_office"

    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), primary_key=True, index=True)


class WishWindow(Base):
    """A time of day on one weekday (0 Monday) when the appointment may lie, in the office's time zone."""

    __tablename__ = "wish_window"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("from_minute < to_minute AND from_minute >= 0 AND to_minute <= 1440", name="minutes"),
    )

    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    from_minute: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    to_minute: Mapped[int] = mapped_column(SmallInteger)


class Release(Base):
    """Capacity that appeared at an office in [start, end) and the order its wishes get offers in."""

    __tablename__ = "wish_release"
    __table_args__ = (
        CheckConstraint("ordering IN ('fifo', 'lottery')", name="ordering"),
        CheckConstraint("ordering = 'fifo' OR seed IS NOT NULL", name="seed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    at: Mapped[datetime]
    cause: Mapped[str] = mapped_column(String(16))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    ordering: Mapped[str] = mapped_column(String(8))
    # The lottery's seed: the draws follow from it and the eligible wishes (reproducible).
    seed: Mapped[int | None] = mapped_column(BigInteger)


class Draw(Base):
    """One eligible wish's place in a lottery release: each wish draws once."""

    __tablename__ = "wish_draw"
    __table_args__ = (Index("uq_wish_draw_release_rank", "release_id", "rank", unique=True),)

    release_id: Mapped[int] = mapped_column(ForeignKey("wish_release.id", ondelete="CASCADE"), primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)


class Offer(Base):
    """A slot held for one wish until it is accepted, declined or runs out."""

    __tablename__ = "wish_offer"
    __table_args__ = (
        CheckConstraint(f"status IN {OFFER_STATUSES}", name="status"),
        # A wish has at most one open offer at a time.
        Index("uq_wish_offer_open_wish", "wish_id", unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_wish_offer_status_expires", "status", "expires_at"),
        Index("ix_wish_offer_office_start", "office_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("wish_release.id", ondelete="CASCADE"), index=True)
    # The held booking; a slot's cells are claimed by at most one booking, so by at most one open offer.
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class OfferLock(Base):
    """One open offer per person and service: a key per contact and service, held while the offer is open."""

    __tablename__ = "wish_offer_lock"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("wish_offer.id", ondelete="CASCADE"), index=True)


class WaitlistPolicy(Base):
    """An office's choice of order among its wishes."""

    __tablename__ = "waitlist_policy"
    __table_args__ = (CheckConstraint("ordering IN ('fifo', 'lottery')", name="ordering"),)

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    ordering: Mapped[str] = mapped_column(String(8))


class Cooldown(Base):
    """A freed slot held back from open booking for the cool-down, while no waiting wish takes it.

    Its booking is a hold like an offer's: open availability never shows the slot before `until`; a wish that
    matches meanwhile gets it offered, otherwise it opens at `until`.
    """

    __tablename__ = "wish_cooldown"

    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("wish_release.id", ondelete="CASCADE"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    created_at: Mapped[datetime]
    until: Mapped[datetime] = mapped_column(index=True)
