"""Tickets of the waiting room, their transitions, and the per-day number sequences."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rathaus.db import Base, personal

OPEN = ("waiting", "called")  # the other statuses are final


def label_of(prefix: str, number: int) -> str:
    """What the board shows and the clerk calls out, e.g. W-042."""
    return f"{prefix}-{number:03d}"


class TicketSequence(Base):
    """The last number handed out per office, local day and prefix; bumped in the ticket's own transaction."""

    __tablename__ = "ticket_sequence"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        CheckConstraint(
            "status IN ('waiting', 'called', 'completed', 'no_show', 'closed')",
            name="status",
        ),
        CheckConstraint("kind IN ('appointment', 'walk_in')", name="kind"),
        CheckConstraint("lane IN ('transfer', 'appointment', 'walk_in')", name="lane"),
        Index("uq_ticket_number", "office_id", "day", "prefix", "number", unique=True),
        Index("ix_ticket_office_day_status", "office_id", "day", "status"),
        # A counter calls one person at a time, enforced by the database against double clicks and races.
        Index(
            "uq_ticket_counter_called",
            "counter_id",
            unique=True,
            sqlite_where=text("status = 'called'"),
            postgresql_where=text("status = 'called'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the citizen's ticket page is addressed by: random, so pages cannot be enumerated.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    prefix: Mapped[str] = mapped_column(String(4))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    lane: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"), unique=True)
    due_at: Mapped[datetime | None]  # the appointment's start
    arrived_at: Mapped[datetime]
    queued_at: Mapped[datetime]  # order within the walk-in and transfer lanes
    target_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id", ondelete="SET NULL"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id", ondelete="SET NULL"))
    called_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    recalls: Mapped[int] = mapped_column(SmallInteger, default=0)
    language: Mapped[str] = mapped_column(String(2), default="de")
    phone: Mapped[str | None] = mapped_column(String(20), info=personal())
    turn_near_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(String(300), default="")
    close_reason: Mapped[str | None] = mapped_column(String(32))

    items: Mapped[list[TicketService]] = relationship(
        order_by="TicketService.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def label(self) -> str:
        return label_of(self.prefix, self.number)

    @property
    def service_ids(self) -> list[int]:
        return [item.service_id for item in self.items]


class TicketService(Base):
    __tablename__ = "ticket_service"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)


class TicketEvent(Base):
    """One transition of a ticket: who, when, at which counter (service times and statistics come from these)."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(300), default="")


def transition(
    ticket_id: int,
    *,
    action: str,
    actor: str,
    previous: str | None,
    status: str,
    at: datetime,
    counter_id: int | None = None,
    detail: str = "",
) -> TicketEvent:
    """The record of one step of a ticket (add it to the session of the change)."""
    return TicketEvent(
        ticket_id=ticket_id,
        at=at,
        action=action,
        actor=actor,
        from_status=previous,
        to_status=status,
        counter_id=counter_id,
        detail=detail[:300],
    )
