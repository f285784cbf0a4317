"""Staff users, the offices they work at (by id: the catalogue sits above this package), their API tokens,
browser sessions and sign-in attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from rathaus.db import Base

staff_user_office = Table(
    "staff_user_office",
    Base.metadata,
    Column("user_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", ForeignKey("office.id", ondelete="CASCADE"), primary_key=True),
)


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint("role IN ('admin', 'desk')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class StaffToken(Base):
    __tablename__ = "staff_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random id, the database only its hash."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SignInAttempt(Base):
    """One sign-in attempt, for the growing delay and the lock, and for the record.

    Neither the name typed nor the client's address is kept: only keyed hashes of both, so that attempts on an
    account that does not exist are counted (and locked) like any other without writing the name down.
    """

    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        CheckConstraint("outcome IN ('success', 'failure', 'refused')", name="outcome"),
        Index("ix_sign_in_attempt_account_at", "account_key", "at"),
        Index("ix_sign_in_attempt_client_at", "client_key", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    account_key: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    outcome: Mapped[str] = mapped_column(String(8))
    # "page" (the sign-in form) or "api" (the token endpoint)
    channel: Mapped[str] = mapped_column(String(8))
