"""Applying a configuration file: create or update everything it declares, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from rathaus.db import operation
from rathaus.localized import Localized
from rathaus.offices._closures import add_closure
from rathaus.offices._releases import open_first_release
from rathaus.offices.catalog import Catalog
from rathaus.offices.config import (
    WEEKDAYS,
    ClosureConfig,
    Config,
    ConfigError,
    OfficeConfig,
    parse_span,
    release_time,
)
from rathaus.offices.models import (
    Bundle,
    BundleService,
    Closure,
    Counter,
    LifeEvent,
    Office,
    OpeningHours,
    Service,
    SpecialHours,
    TravelTime,
)
from rathaus.offices.rules import in_mode_order, wall_to_utc

LOADED_SOURCES = ("config", "holidays")


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    # Ids of closures the file added; bookings inside them were cancelled (booking reacts to ClosureDeclared).
    new_closures: list[int] = field(default_factory=list)

    def summary(self, cancelled_bookings: int) -> str:
        """One line for the operator."""
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{cancelled_bookings} bookings cancelled by new closures"
        )


@operation
async def load_config(session: AsyncSession, *, catalog: Catalog, config: Config, now: datetime) -> LoadReport:
    """Create or update what `config` declares; loading the same file twice changes nothing."""
    report = LoadReport()
    services = await _load_services(session, config, now, report)
    await _load_bundles(session, config, services, report)
    for office_config in config.offices:
        await _load_office(session, catalog, office_config, services, now, report)
    await session.flush()
    offices = {o.slug: o for o in (await session.scalars(select(Office))).all()}
    await _load_travel(session, config, offices, report)
    await _load_life_events(session, config, offices, report)
    await session.flush()
    await catalog.changed(session, now=now)
    return report


async def _load_services(
    session: AsyncSession, config: Config, now: datetime, report: LoadReport
) -> dict[str, Service]:
    existing = {s.slug: s for s in (await session.scalars(select(Service))).all()}
    for sc in config.services:
        service = existing.get(sc.slug)
        values = {
            "name": Localized(sc.name),
            "duration_minutes": sc.duration_minutes,
            "bring": Localized(sc.bring),
            "fee_cents": None if sc.fee_eur is None else round(sc.fee_eur * 100),
            "bookable_online": sc.bookable_online,
            "walk_ins_allowed": sc.walk_ins,
            "walk_in_cutoff_minutes": sc.walk_in_cutoff_minutes,
            "keywords": {language: list(words) for language, words in sorted(sc.keywords.items())},
            "modes": in_mode_order(sc.modes),
        }
        if service is None:
            service = Service(slug=sc.slug, updated_at=now, **values)
            session.add(service)
            existing[sc.slug] = service
            report.created.append(f"service {sc.slug}")
        elif _assign(service, values):
            service.updated_at = now
            report.updated.append(f"service {sc.slug}")
    await session.flush()
    return existing


async def _load_bundles(
    session: AsyncSession, config: Config, services: dict[str, Service], report: LoadReport
) -> None:
    existing = {b.slug: b for b in (await session.scalars(select(Bundle).options(selectinload(Bundle.items)))).all()}
    for bc in config.bundles:
        bundle = existing.get(bc.slug)
        values = {
            "name": Localized(bc.name),
            "description": Localized(bc.description),
        }
        wanted = [services[slug].id for slug in bc.services]
        if bundle is None:
            bundle = Bundle(slug=bc.slug, **values)
            session.add(bundle)
            report.created.append(f"bundle {bc.slug}")
        elif _assign(bundle, values) | ([i.service_id for i in bundle.items] != wanted):
            report.updated.append(f"bundle {bc.slug}")
        if [i.service_id for i in bundle.items] != wanted:
            bundle.items = [BundleService(service_id=sid, position=k) for k, sid in enumerate(wanted)]


async def _load_office(
    session: AsyncSession,
    catalog: Catalog,
    oc: OfficeConfig,
    services: dict[str, Service],
    now: datetime,
    report: LoadReport,
) -> None:
    office = await session.scalar(
        select(Office)
        .where(Office.slug == oc.slug)
        .options(
            selectinload(Office.counters).selectinload(Counter.services),
            selectinload(Office.opening_hours),
            selectinload(Office.special_hours),
        )
    )
    values = {
        "name": Localized(oc.name),
        "timezone": oc.timezone,
        "address": oc.address,
        "phone": oc.phone,
        "email": oc.email,
        "website": oc.website,
        "latitude": oc.latitude,
        "longitude": oc.longitude,
        "slot_minutes": oc.slot_minutes,
        "lead_time_minutes": oc.lead_time_minutes,
        "horizon_days": oc.horizon_days,
        "buffer_minutes": oc.buffer_minutes,
        "walk_in_cutoff_minutes": oc.walk_in_cutoff_minutes,
        "check_in_grace_minutes": oc.check_in_grace_minutes,
        "verification": oc.verification,
        "hold_minutes": oc.hold_minutes,
        "agenda_shows_names": oc.agenda_shows_names,
        "step_free": oc.facilities.step_free,
        "parking": oc.facilities.parking,
        "bicycle_stands": oc.facilities.bicycle_stands,
        "quiet_room": oc.facilities.quiet_room,
        "facilities_note": Localized(oc.facilities.note),
        "holidays_country": oc.holidays.country if oc.holidays else None,
        "holidays_subdivision": oc.holidays.subdivision if oc.holidays else None,
        "holidays_public": oc.holidays.public if oc.holidays else None,
        "release_weekdays": [WEEKDAYS.index(d) for d in oc.releases.weekdays] if oc.releases else None,
        "release_time": release_time(oc.releases) if oc.releases else None,
        "release_days_ahead": oc.releases.days_ahead if oc.releases else None,
    }
    if office is None:
        office = Office(slug=oc.slug, created_at=now, updated_at=now, counters=[], opening_hours=[], special_hours=[])
        _assign(office, values)
        session.add(office)
        report.created.append(f"office {oc.slug}")
        created = True
    else:
        created = False
    changed = _assign(office, values)
    changed |= _load_counters(office, oc, services)
    changed |= _load_hours(office, oc)
    if changed and not created:
        office.updated_at = now
        report.updated.append(f"office {oc.slug}")
    await session.flush()
    await open_first_release(session, office=office, now=now)
    await _load_closures(session, catalog, office, oc, now, report)


async def _load_travel(session: AsyncSession, config: Config, offices: dict[str, Office], report: LoadReport) -> None:
    """Replace the travel times of each office the file declares by what it declares."""
    unknown = [
        f"offices[{i}].travel_minutes.{slug}: unknown office {slug!r}"
        for i, oc in enumerate(config.offices)
        for slug in oc.travel_minutes
        if slug not in offices
    ]
    if unknown:
        raise ConfigError(unknown)
    for oc in config.offices:
        origin = offices[oc.slug]
        rows = (await session.scalars(select(TravelTime).where(TravelTime.from_office_id == origin.id))).all()
        current = {row.to_office_id: row.minutes for row in rows}
        wanted = {offices[slug].id: minutes for slug, minutes in oc.travel_minutes.items()}
        if current == wanted:
            continue
        for row in rows:
            await session.delete(row)
        await session.flush()
        session.add_all(TravelTime(from_office_id=origin.id, to_office_id=t, minutes=m) for t, m in wanted.items())
        report.updated.append(f"travel times from {oc.slug}")


async def _load_life_events(
    session: AsyncSession, config: Config, offices: dict[str, Office], report: LoadReport
) -> None:
    unknown = [
        f"life_events[{i}].steps[{j}].offices: unknown office {slug!r}"
        for i, event in enumerate(config.life_events)
        for j, step in enumerate(event.steps)
        for slug in step.offices
        if slug not in offices
    ]
    if unknown:
        raise ConfigError(unknown)
    existing = {e.slug: e for e in (await session.scalars(select(LifeEvent))).all()}
    for ec in config.life_events:
        values = {
            "name": Localized(ec.name),
            "description": Localized(ec.description),
            "max_days": ec.max_days,
            "steps": [
                {"key": s.key, "services": list(s.services), "offices": list(s.offices), "after": list(s.after)}
                for s in ec.steps
            ],
            "checklist": [
                {"text": dict(sorted(c.text.items())), "description": dict(sorted(c.description.items())), "url": c.url}
                for c in ec.checklist
            ],
        }
        event = existing.get(ec.slug)
        if event is None:
            session.add(LifeEvent(slug=ec.slug, **values))
            report.created.append(f"life event {ec.slug}")
        elif _assign(event, values):
            report.updated.append(f"life event {ec.slug}")


def _load_counters(office: Office, oc: OfficeConfig, services: dict[str, Service]) -> bool:
    changed = False
    by_name = {c.name: c for c in office.counters}
    for cc in oc.counters:
        counter = by_name.pop(cc.name, None)
        wanted = [services[slug] for slug in cc.services]
        if counter is None:
            office.counters.append(
                Counter(
                    name=cc.name,
                    walk_in_only=cc.walk_in_only,
                    active=True,
                    services=wanted,
                    modes=in_mode_order(cc.modes),
                )
            )
            changed = True
            continue
        if {s.id for s in counter.services} != {s.id for s in wanted}:
            counter.services = wanted
            changed = True
        changed |= _assign(counter, {"walk_in_only": cc.walk_in_only, "active": True, "modes": in_mode_order(cc.modes)})
    for gone in by_name.values():
        # Past bookings refer to the counter, so it is retired rather than deleted.
        changed |= _assign(gone, {"active": False})
    return changed


def _special_order(window: tuple[date, time, time, Localized]) -> tuple[date, time, time]:
    return window[:3]


def _load_hours(office: Office, oc: OfficeConfig) -> bool:
    weekly = sorted(
        (WEEKDAYS.index(day), span.opens, span.closes)
        for day, texts in oc.hours.items()
        for span in map(parse_span, texts)
    )
    special = sorted(
        (
            (sh.date, span.opens, span.closes, Localized(sh.note))
            for sh in oc.special_hours
            for span in map(parse_span, sh.hours)
        ),
        key=_special_order,
    )
    current_weekly = sorted((h.weekday, h.opens, h.closes) for h in office.opening_hours)
    current_special = sorted(((h.day, h.opens, h.closes, h.note) for h in office.special_hours), key=_special_order)
    changed = False
    if weekly != current_weekly:
        office.opening_hours = [OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in weekly]
        changed = True
    if special != current_special:
        office.special_hours = [SpecialHours(day=d, opens=o, closes=c, note=note) for d, o, c, note in special]
        changed = True
    return changed


@dataclass(frozen=True, slots=True)
class WantedClosure:
    source: str
    start: datetime
    end: datetime
    all_day: bool
    reason: Localized
    public: bool


def _wanted_closures(oc: OfficeConfig, now: datetime) -> list[WantedClosure]:
    tz = ZoneInfo(oc.timezone)
    wanted = [_closure_from_config(c, tz) for c in oc.closures]
    if oc.holidays is not None:
        wanted += holiday_closures(
            country=oc.holidays.country,
            subdivision=oc.holidays.subdivision,
            public=oc.holidays.public,
            tz=tz,
            now=now,
        )
    return wanted


def holiday_closures(
    *, country: str, subdivision: str | None, public: bool, tz: ZoneInfo, now: datetime
) -> list[WantedClosure]:
    """This year's and the coming year's public holidays as whole-day closures, named in both languages."""
    year = now.astimezone(tz).year
    years = [year, year + 1]
    names_de = holidays.country_holidays(country, subdiv=subdivision, years=years, language="de")
    names_en = holidays.country_holidays(country, subdiv=subdivision, years=years, language="en_US")
    return [
        WantedClosure(
            "holidays",
            wall_to_utc(day, time(0), tz),
            wall_to_utc(day + timedelta(days=1), time(0), tz),
            True,
            Localized(de=name_de[:300], en=str(names_en.get(day, name_de))[:300]),
            public,
        )
        for day, name_de in sorted(names_de.items())
    ]


def _closure_from_config(c: ClosureConfig, tz: ZoneInfo) -> WantedClosure:
    if c.date is not None:
        last = c.until or c.date
        start = wall_to_utc(c.date, time(0), tz)
        end = wall_to_utc(last + timedelta(days=1), time(0), tz)
        return WantedClosure("config", start, end, True, Localized(c.reason), c.public)
    assert c.start is not None and c.end is not None  # checked when the file was read
    return WantedClosure(
        "config",
        wall_to_utc(c.start.date(), c.start.time(), tz),
        wall_to_utc(c.end.date(), c.end.time(), tz),
        False,
        Localized(c.reason),
        c.public,
    )


async def _load_closures(
    session: AsyncSession, catalog: Catalog, office: Office, oc: OfficeConfig, now: datetime, report: LoadReport
) -> None:
    existing = {
        (c.source, c.start_at, c.end_at): c
        for c in (
            await session.scalars(
                select(Closure).where(Closure.office_id == office.id, Closure.source.in_(LOADED_SOURCES))
            )
        ).all()
    }
    for w in _wanted_closures(oc, now):
        closure = existing.pop((w.source, w.start, w.end), None)
        if closure is not None:
            if _assign(closure, {"reason": w.reason, "public": w.public}):
                closure.updated_at = now
                report.updated.append(f"closure {oc.slug} {w.start:%Y-%m-%d}")
            continue
        closure = await add_closure(
            session,
            catalog=catalog,
            office_id=office.id,
            start=w.start,
            end=w.end,
            reason=w.reason,
            public=w.public,
            source=w.source,
            actor="config",
            now=now,
            all_day=w.all_day,
        )
        report.created.append(f"closure {oc.slug} {w.start:%Y-%m-%d}")
        report.new_closures.append(closure.id)
    for stale in existing.values():
        await session.delete(stale)
        report.updated.append(f"closure {oc.slug} {stale.start_at:%Y-%m-%d} removed")


def _assign(target: object, values: Mapping[str, object]) -> bool:
    """Set attributes that differ; True if anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed
