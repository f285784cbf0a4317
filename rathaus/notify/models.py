"""The notification outbox: rows written in the same transaction as the change they announce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rathaus.db import Base, personal

OUTBOX_STATUSES = ("pending", "claimed", "sent", "delivered", "failed", "dead", "withdrawn", "expired")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint(
            "status IN ('pending', 'claimed', 'sent', 'delivered', 'failed', 'dead', 'withdrawn', 'expired')",
            name="status",
        ),
        Index("ix_outbox_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # verification | confirmation | reminder | change | cancellation | turn_near | called | test
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id", ondelete="SET NULL"))
    recipient: Mapped[str | None] = mapped_column(String(320), info=personal())
    language: Mapped[str] = mapped_column(String(2), default="de")
    # What the template needs beyond the booking row (e.g. a verification code); purged with the booking.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info=personal())
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Unique and always given: it lets the ORM write several rows in one INSERT … RETURNING on SQLite too
    # (SQLAlchemy matches the returned ids to the objects by it; SQLite has no other such column).
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True, insert_sentinel=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class NotifyPolicy(Base):
    """An office's reminder policy; offices without a row use the defaults in rathaus.notify.policy."""

    __tablename__ = "notify_policy"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    # Minutes before the appointment, comma-separated, e.g. "1440,120" for 24 h and 2 h.
    reminder_offsets: Mapped[str] = mapped_column(String(100), default="1440,120")
    # No SMS between quiet_start and quiet_end, office time ("21:00" to "08:00"): moved to quiet_end, not dropped.
    quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    # Queue: tell a waiting citizen when this many people are ahead.
    turn_near_ahead: Mapped[int] = mapped_column(SmallInteger, default=3)
    updated_at: Mapped[datetime]


class NotifyEvent(Base):
    """One step in a message's history (claimed, sent, retry, failed, delivered, ...), as providers report it."""

    __tablename__ = "notify_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    provider_status: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(300), default="")


class SmsOptOut(Base):
    """A mobile number that replied STOP: no SMS goes to it until it replies START."""

    __tablename__ = "sms_opt_out"

    phone: Mapped[str] = mapped_column(
        String(20),
        primary_key=True,
        info=personal(retained_because="an opt-out must be honoured for as long as the number could be messaged"),
    )
    created_at: Mapped[datetime]
