"""One rating per visit: invited after the visit with a single-use token (only its hash is kept)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rathaus.db import Base, personal


class Rating(Base):
    __tablename__ = "rating"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
        Index("ix_rating_office_day", "office_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # booking:<id> or ticket:<id>: the unique key makes "at most one invitation per visit" the database's rule.
    visit: Mapped[str] = mapped_column(String(40), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"))
    service_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    mode: Mapped[str] = mapped_column(String(8), default="on_site")
    day: Mapped[date] = mapped_column(Date)  # the office's date of the visit
    created_at: Mapped[datetime]  # the invitation; the purge erases the comment by its age
    expires_at: Mapped[datetime]
    rated_at: Mapped[datetime | None]
    stars: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text, info=personal())
