"""An office's configuration read back from the database, as a Config and as the TOML text `rathaus load` reads.

Edits made on the admin pages go through here too: read the office's configuration, change it, then check and
apply it with the loader (`import_office`). So a page accepts exactly what a file may declare, with the same
checks and messages, and there is one way to change services, bundles, counters and hours, not two.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from rathaus.db import operation
from rathaus.errors import RathausError
from rathaus.offices._load import LoadReport, load_config
from rathaus.offices.catalog import Catalog
from rathaus.offices.config import (
    WEEKDAYS,
    BundleConfig,
    ClosureConfig,
    Config,
    ConfigError,
    CounterConfig,
    FacilitiesConfig,
    HolidaysConfig,
    OfficeConfig,
    ReleasesConfig,
    ServiceConfig,
    SpecialHoursConfig,
    validate_config,
)
from rathaus.offices.models import Bundle, Closure, Counter, Office, Service, TravelTime
from rathaus.offices.rules import in_mode_order


async def office_config(session: AsyncSession, *, office_id: int, every_service: bool = False) -> Config:
    """What a configuration file declares for this office: the office with its travel times to other offices, the
    services its counters offer and the bundles made of those services (closures declared by staff are not
    configuration and stay out, nor do the city's life events across offices, which no single office owns).

    `every_service` adds the services no counter of this office offers (and their life events), as an edit that
    gives a counter a new service needs them.
    """
    office = await session.scalar(
        select(Office)
        .where(Office.id == office_id)
        .options(
            selectinload(Office.counters).selectinload(Counter.services),
            selectinload(Office.opening_hours),
            selectinload(Office.special_hours),
        )
    )
    if office is None:
        raise RathausError("unknown_office", office=str(office_id))
    counters = [c for c in office.counters if c.active]
    offered = {s.id for c in counters for s in c.services}
    query = select(Service) if every_service else select(Service).where(Service.id.in_(offered))
    services = (await session.scalars(query.order_by(Service.id))).all()
    slugs = {s.id: s.slug for s in services}
    bundles = (await session.scalars(select(Bundle).options(selectinload(Bundle.items)).order_by(Bundle.id))).all()
    closures = (
        await session.scalars(
            select(Closure).where(Closure.office_id == office_id, Closure.source == "config").order_by(Closure.start_at)
        )
    ).all()
    travel = {
        slug: minutes
        for slug, minutes in await session.execute(
            select(Office.slug, TravelTime.minutes)
            .join(TravelTime, TravelTime.to_office_id == Office.id)
            .where(TravelTime.from_office_id == office_id)
            .order_by(Office.slug)
        )
    }
    tz = ZoneInfo(office.timezone)
    return Config(
        services=[_service(s) for s in services],
        bundles=[
            BundleConfig(
                slug=b.slug,
                name=b.name.as_dict(),
                services=[slugs[i.service_id] for i in b.items],
                description=b.description.as_dict(),
            )
            for b in bundles
            if b.items and all(i.service_id in slugs for i in b.items)
        ],
        offices=[msgspec.structs.replace(_office(office, counters, slugs, list(closures), tz), travel_minutes=travel)],
    )


def _service(s: Service) -> ServiceConfig:
    return ServiceConfig(
        slug=s.slug,
        name=s.name.as_dict(),
        duration_minutes=s.duration_minutes,
        bring=s.bring.as_dict(),
        fee_eur=None if s.fee_cents is None else s.fee_cents / 100,
        bookable_online=s.bookable_online,
        walk_ins=s.walk_ins_allowed,
        walk_in_cutoff_minutes=s.walk_in_cutoff_minutes,
        keywords={language: list(words) for language, words in sorted(s.keywords.items())},
        modes=in_mode_order(s.modes or ["on_site"]),
    )


def _office(
    office: Office, counters: list[Counter], slugs: dict[int, str], closures: list[Closure], tz: ZoneInfo
) -> OfficeConfig:
    hours: dict[str, list[str]] = {}
    for h in office.opening_hours:
        hours.setdefault(WEEKDAYS[h.weekday], []).append(f"{h.opens:%H:%M}-{h.closes:%H:%M}")
    special = [
        SpecialHoursConfig(
            date=day, hours=[f"{r.opens:%H:%M}-{r.closes:%H:%M}" for r in rows], note=rows[0].note.as_dict()
        )
        for day, group in groupby(office.special_hours, key=lambda r: r.day)
        for rows in [list(group)]
    ]
    return OfficeConfig(
        slug=office.slug,
        name=office.name.as_dict(),
        counters=[
            CounterConfig(
                name=c.name,
                services=[slugs[s.id] for s in c.services],
                walk_in_only=c.walk_in_only,
                modes=in_mode_order(c.modes or ["on_site"]),
            )
            for c in counters
        ],
        hours={day: hours[day] for day in WEEKDAYS if day in hours},
        timezone=office.timezone,
        address=office.address,
        phone=office.phone,
        email=office.email,
        website=office.website,
        latitude=office.latitude,
        longitude=office.longitude,
        slot_minutes=office.slot_minutes,
        lead_time_minutes=office.lead_time_minutes,
        horizon_days=office.horizon_days,
        buffer_minutes=office.buffer_minutes,
        walk_in_cutoff_minutes=office.walk_in_cutoff_minutes,
        check_in_grace_minutes=office.check_in_grace_minutes,
        verification=office.verification,  # type: ignore[arg-type]  # the database's check constraint holds it
        hold_minutes=office.hold_minutes,
        agenda_shows_names=office.agenda_shows_names,
        special_hours=special,
        closures=[_closure(c, tz) for c in closures],
        holidays=None
        if office.holidays_country is None
        else HolidaysConfig(
            country=office.holidays_country,
            subdivision=office.holidays_subdivision,
            public=office.holidays_public is not False,
        ),
        releases=None
        if office.release_time is None or office.release_days_ahead is None or not office.release_weekdays
        else ReleasesConfig(
            at=f"{office.release_time:%H:%M}",
            days_ahead=office.release_days_ahead,
            weekdays=[WEEKDAYS[d] for d in sorted(office.release_weekdays)],
        ),
        facilities=FacilitiesConfig(
            step_free=office.step_free,
            parking=office.parking,
            bicycle_stands=office.bicycle_stands,
            quiet_room=office.quiet_room,
            note=office.facilities_note.as_dict(),
        ),
    )


def _closure(c: Closure, tz: ZoneInfo) -> ClosureConfig:
    start = c.start_at.astimezone(tz)
    end = c.end_at.astimezone(tz)
    if c.all_day:
        last = end.date() - timedelta(days=1)
        return ClosureConfig(
            reason=c.reason.as_dict(), date=start.date(), until=last if last != start.date() else None, public=c.public
        )
    return ClosureConfig(
        reason=c.reason.as_dict(), start=start.replace(tzinfo=None), end=end.replace(tzinfo=None), public=c.public
    )


@operation
async def import_office(
    session: AsyncSession, *, catalog: Catalog, office_id: int, config: Config, now: datetime, source: str = "import"
) -> LoadReport:
    """Check `config` as `rathaus load` does and apply it, all or nothing; it must declare this office only."""
    slug = await session.scalar(select(Office.slug).where(Office.id == office_id))
    declared = [o.slug for o in config.offices]
    if declared != [slug]:
        raise ConfigError([f"{source}: offices: declare exactly this office ({slug!r}), found {declared!r}"])
    checked = validate_config(config, source=source)
    return await load_config(session, catalog=catalog, config=checked, now=now)


async def edit_office(
    session: AsyncSession,
    *,
    catalog: Catalog,
    office_id: int,
    change: Callable[[Config], Config],
    now: datetime,
) -> LoadReport:
    """Change the office's configuration (read from the database) and apply it through the loader."""
    current = await office_config(session, office_id=office_id, every_service=True)
    return await import_office(
        session, catalog=catalog, office_id=office_id, config=change(current), now=now, source="edit"
    )


def replace_office(config: Config, **changes: Any) -> Config:
    """The configuration with its (only) office changed."""
    return msgspec.structs.replace(config, offices=[msgspec.structs.replace(config.offices[0], **changes)])


# --- TOML ----------------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dump_toml(config: Config, *, header: str = "") -> str:
    """The configuration as TOML that `rathaus load` reads; fields left at their defaults are left out."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += _table(config, "")
    return "\n".join(lines).strip() + "\n"


def _table(struct: msgspec.Struct, path: str) -> list[str]:
    simple: list[str] = []
    nested: list[str] = []
    for field in msgspec.structs.fields(struct):
        value = getattr(struct, field.name)
        if value is None or value == _default(field):
            continue
        key = f"{path}.{_key(field.name)}" if path else _key(field.name)
        if isinstance(value, msgspec.Struct):
            nested += ["", f"[{key}]", *_table(value, key)]
        elif isinstance(value, list) and value and isinstance(value[0], msgspec.Struct):
            for item in value:
                nested += ["", f"[[{key}]]", *_table(item, key)]
        else:
            simple.append(f"{_key(field.name)} = {_value(value)}")
    return simple + nested


def _default(field: msgspec.structs.FieldInfo) -> object:
    if field.default is not msgspec.NODEFAULT:
        return field.default
    if field.default_factory is not msgspec.NODEFAULT:
        return field.default_factory()
    return msgspec.NODEFAULT


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _string(text: str) -> str:
    # JSON's escapes are TOML's, except that TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
