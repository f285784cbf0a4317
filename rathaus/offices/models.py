"""The catalogue: offices, services, bundles, counters, opening hours, closures and the catalogue version."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
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
from rathaus.localized import Localized, LocalizedText

ON_SITE_ONLY = text("'[\"on_site\"]'")

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
    name: Mapped[Localized] = mapped_column(LocalizedText, server_default=text("'{}'"))
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
    # The building's facilities for the office page; None: not declared (nothing is claimed either way).
    step_free: Mapped[bool | None] = mapped_column(Boolean)
    parking: Mapped[bool | None] = mapped_column(Boolean)
    bicycle_stands: Mapped[bool | None] = mapped_column(Boolean)
    quiet_room: Mapped[bool | None] = mapped_column(Boolean)
    facilities_note: Mapped[Localized] = mapped_column(LocalizedText, default=Localized, server_default=text("'{}'"))
    # The public holidays the office observes (from its configuration; None: none): a job loads each new year's.
    holidays_country: Mapped[str | None] = mapped_column(String(2))
    holidays_subdivision: Mapped[str | None] = mapped_column(String(16))
    holidays_public: Mapped[bool | None] = mapped_column(Boolean)
    # Slots released in batches on a published schedule (None: continuously, up to the horizon): on these
    # weekdays (0 Monday) at this local time, the day this many days ahead opens.
    release_weekdays: Mapped[list[int] | None] = mapped_column(JSON)
    release_time: Mapped[time | None] = mapped_column(Time)
    release_days_ahead: Mapped[int | None] = mapped_column(SmallInteger)
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
    name: Mapped[Localized] = mapped_column(LocalizedText, server_default=text("'{}'"))
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    bring: Mapped[Localized] = mapped_column(LocalizedText, default=Localized, server_default=text("'{}'"))
    fee_cents: Mapped[int | None]
    bookable_online: Mapped[bool] = mapped_column(Boolean, default=True)
    walk_ins_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    walk_in_cutoff_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    # Search words per language ({"de": ["ummelden"], …}): what citizens type that the name does not say.
    keywords: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    # How the service can be given (on_site, phone, video); a counter that serves it must also take the mode.
    modes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["on_site"], server_default=ON_SITE_ONLY)
    updated_at: Mapped[datetime]


class Bundle(Base):
    """A life event ("Lebenslage") that needs several services, e.g. moving house."""

    __tablename__ = "bundle"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[Localized] = mapped_column(LocalizedText, server_default=text("'{}'"))
    description: Mapped[Localized] = mapped_column(LocalizedText, default=Localized, server_default=text("'{}'"))
    items: Mapped[list[BundleService]] = relationship(order_by="BundleService.position", cascade="all, delete-orphan")


class BundleService(Base):
    __tablename__ = "bundle_service"

    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundle.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    service: Mapped[Service] = relationship()


class LifeEvent(Base):
    """A life event whose appointments may lie at different offices, with steps outside the offices as a checklist.

    `steps` holds `{"key", "services": [slug], "offices": [slug], "after": [key]}` in order and `checklist`
    `{"text": {lang: text}, "description": {lang: text}, "url"}`; both are checked when the configuration is
    loaded, and a step naming a service or office that is gone hides the life event until it is fixed.
    """

    __tablename__ = "life_event"
    __table_args__ = (CheckConstraint("max_days BETWEEN 1 AND 14", name="max_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[Localized] = mapped_column(LocalizedText, server_default=text("'{}'"))
    description: Mapped[Localized] = mapped_column(LocalizedText, default=Localized, server_default=text("'{}'"))
    max_days: Mapped[int] = mapped_column(SmallInteger, default=1)
    steps: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    checklist: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class TravelTime(Base):
    """Minutes from one office to another, as the first office declared it."""

    __tablename__ = "travel_time"
    __table_args__ = (
        CheckConstraint("minutes >= 0", name="minutes"),
        CheckConstraint("from_office_id <> to_office_id", name="distinct"),
    )

    from_office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    to_office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    minutes: Mapped[int] = mapped_column(SmallInteger)


class Counter(Base):
    __tablename__ = "counter"
    __table_args__ = (UniqueConstraint("office_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    walk_in_only: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The appointment modes this counter (or caseworker) takes: its capacity per mode.
    modes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["on_site"], server_default=ON_SITE_ONLY)

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
    note: Mapped[Localized] = mapped_column(LocalizedText, default=Localized, server_default=text("'{}'"))


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
    reason: Mapped[Localized] = mapped_column(LocalizedText, server_default=text("'{}'"))
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    # config | holidays | staff: a reload replaces only what the file declared
    source: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OfficeRelease(Base):
    """A scheduled release that was made: at its instant the day `day` opened, after its offers to waiting wishes.

    One row per office and instant, written in the transaction that made the offers: the database lets a release
    happen once however many instances try, and the booking window opens with the row.
    """

    __tablename__ = "office_release"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    made_at: Mapped[datetime]


class CatalogVersion(Base):
    """One row counting changes to offices, services, hours and closures, so instances reload only when needed."""

    __tablename__ = "catalog_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime]


class BarrierReport(Base):
    """A barrier a citizen met on our pages, reported from the accessibility statement (BITV 2.0 § 7)."""

    __tablename__ = "barrier_report"
    __table_args__ = (CheckConstraint("status IN ('new', 'answered', 'closed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    page: Mapped[str] = mapped_column(String(2000), default="")
    text: Mapped[str] = mapped_column(Text)
    # Only to answer the report: the booking purge erases it once the retention period has passed.
    email: Mapped[str | None] = mapped_column(String(320), info=personal())
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
