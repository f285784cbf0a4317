"""Office rules and services read from the database into immutable values, cached per instance.

Reads on the hot paths (availability, offices, the queue) use these snapshots. A change made on this
instance invalidates them after its commit; other instances see it within `ttl` seconds, because a snapshot
whose version was not checked for `ttl` is never served. The database stays the judge whenever something is
written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from rathaus.db import after_commit, dialect_insert
from rathaus.errors import RathausError
from rathaus.freshness import Age, HomeLoop, SingleFlight, age_of
from rathaus.localized import Localized
from rathaus.offices.models import (
    Bundle,
    CatalogVersion,
    Closure,
    Counter,
    LifeEvent,
    Office,
    OfficeRelease,
    Service,
    TravelTime,
)
from rathaus.offices.rules import (
    ON_SITE,
    ClosureRule,
    CounterRule,
    Facilities,
    OfficeRules,
    ReleaseSchedule,
    ServiceRule,
    Window,
)

log = logging.getLogger("rathaus.offices.catalog")

# Closures this far in the past still matter (a day that has begun, feeds showing the recent past).
_CLOSURE_LOOKBACK = timedelta(days=31)
# session.info key: a snapshot loaded by a transaction for its own later reads (see `Catalog.own`).
_OWN = "rathaus_catalog_own"


@dataclass(frozen=True, slots=True)
class BundleRule:
    slug: str
    name: Localized
    description: Localized
    services: tuple[ServiceRule, ...]


@dataclass(frozen=True, slots=True)
class StepRule:
    """One appointment of a life event: these services together, at one of these offices."""

    key: str
    services: tuple[ServiceRule, ...]
    offices: tuple[OfficeRules, ...]
    after: frozenset[str]  # keys of the steps that must come first


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    text: Localized
    description: Localized
    url: str


@dataclass(frozen=True, slots=True)
class LifeEventRule:
    slug: str
    name: Localized
    description: Localized
    max_days: int
    steps: tuple[StepRule, ...]
    checklist: tuple[ChecklistItem, ...]


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    offices: dict[str, OfficeRules]
    services: dict[str, ServiceRule]
    services_by_id: dict[int, ServiceRule]
    bundles: dict[str, BundleRule]
    version: int
    changed_at: datetime | None  # when the catalog last changed (None before the first change)
    checked_at: datetime  # when `version` was last found to be the database's
    life_events: dict[str, LifeEventRule] = field(default_factory=dict)
    # Travel time from one office to another by their ids, as declared (see `travel`).
    travel_times: dict[tuple[int, int], timedelta] = field(default_factory=dict)

    def office_by_id(self, office_id: int) -> OfficeRules:
        """The office with this id."""
        return next(o for o in self.offices.values() if o.id == office_id)

    def travel(self, origin: OfficeRules, target: OfficeRules) -> timedelta:
        """How long it takes from one office to the next: as declared for this direction, else for the other,
        else nothing; within one office the time its counters keep free after an appointment."""
        if origin.id == target.id:
            return origin.buffer
        declared = self.travel_times.get((origin.id, target.id), self.travel_times.get((target.id, origin.id)))
        return declared if declared is not None else timedelta()


class Catalog:
    """The cached snapshot of all offices and services, and a generation counter per change.

    A snapshot is served for at most `ttl` seconds after its version was last checked against the database.
    Past half of that one background task checks it again, so that busy instances rarely wait; past `ttl` the
    reader checks it itself with its own session (one reader at a time, the others wait for its answer). A
    check costs one tiny query unless the version changed; a change committed on this instance drops the
    snapshot at once. `generation` grows with every change seen, here or from another instance.
    """

    def __init__(self, *, ttl: float, sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.ttl = ttl
        self.generation = 0
        self._snapshot: CatalogSnapshot | None = None
        self._sessions = sessions
        self._refresh: asyncio.Task[None] | None = None
        self.home = HomeLoop()
        self._checks: SingleFlight[None, CatalogSnapshot] = SingleFlight()

    def invalidate(self) -> None:
        """Forget everything cached; the next read loads afresh."""
        self.generation += 1
        self._snapshot = None

    async def changed(self, session: AsyncSession, *, now: datetime) -> None:
        """Record a change of offices, services, hours or closures in `session`'s transaction.

        Other instances see the new version within `ttl`; this one drops its snapshot after the commit.
        """
        statement = dialect_insert(session, CatalogVersion).values(id=1, version=1, changed_at=now)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[CatalogVersion.id],
                set_={"version": CatalogVersion.version + 1, "changed_at": statement.excluded.changed_at},
            )
        )
        after_commit(session, self.invalidate)

    def peek(self, *, now: datetime) -> CatalogSnapshot | None:
        """The snapshot without touching the database (one due for a check starts it in the background), or None
        if there is none that may be served."""
        snapshot = self._snapshot
        if snapshot is None:
            return None
        age = age_of(snapshot.checked_at, now=now, ttl=self.ttl)
        if age is Age.STALE:
            return None
        if age is Age.DUE:
            self._refresh_in_background(now)
        return snapshot

    def is_current(self, office: OfficeRules) -> bool:
        """True if `office` comes from the snapshot held now (what is computed from it may be cached)."""
        snapshot = self._snapshot
        return snapshot is not None and snapshot.offices.get(office.slug) is office

    async def own(self, session: AsyncSession, *, now: datetime) -> CatalogSnapshot:
        """The snapshot as `session`'s transaction sees it (its own changes too), served to that transaction from
        now on: a change that others must not see before it commits (a release) is already in force for it."""
        snapshot = await load_snapshot(session, now=now)
        sync = session.sync_session
        sync.info[_OWN] = (sync.get_transaction(), snapshot)
        return snapshot

    async def get(self, session: AsyncSession, *, now: datetime) -> CatalogSnapshot:
        """The current snapshot: checked (and if need be loaded) with `session` if it may no longer be served."""
        own = session.sync_session.info.get(_OWN)
        if own is not None and own[0] is session.sync_session.get_transaction():
            return own[1]  # type: ignore[no-any-return]
        snapshot = self.peek(now=now)
        if snapshot is not None:
            return snapshot
        return await self.check(session, now=now)

    async def check(self, session: AsyncSession, *, now: datetime) -> CatalogSnapshot:
        """The snapshot checked against the database now (reloaded if its version changed), however young."""
        return await self._checks.run(None, lambda: self._check(session, now))

    async def _check(self, session: AsyncSession, now: datetime) -> CatalogSnapshot:
        generation = self.generation
        old = self._snapshot
        version, _ = await _version(session)
        if old is not None and version == old.version:
            # Nothing changed anywhere: one tiny query instead of reloading every office.
            snapshot = replace(old, checked_at=max(now, old.checked_at))
        else:
            snapshot = await load_snapshot(session, now=now)
        if generation == self.generation:
            if old is not None and old.version != snapshot.version:
                self.generation += 1  # what was computed from the old rules is void
            self._snapshot = snapshot
        return snapshot

    async def current(self, *, now: datetime) -> CatalogSnapshot:
        """The current snapshot for a reader that holds no session (loaded in a session of its own if need be)."""
        snapshot = self.peek(now=now)
        if snapshot is not None:
            return snapshot
        if self._sessions is None:
            raise RuntimeError("a catalogue without sessions loads only through get()")
        async with self._sessions() as session:
            return await self.get(session, now=now)

    async def drain(self) -> None:
        """Stop a background check (before the database connections close)."""
        if self._refresh is not None:
            self._refresh.cancel()
            await asyncio.gather(self._refresh, return_exceptions=True)

    def _refresh_in_background(self, now: datetime) -> None:
        if self._sessions is None or not self.home.here() or self._checks.running(None):
            return
        if self._refresh is not None and not self._refresh.done():
            return
        sessions = self._sessions

        async def refresh() -> None:
            try:
                async with sessions() as session:
                    await self.check(session, now=now)
            except Exception as error:  # the snapshot stays until `ttl`; then a reader checks it itself
                log.warning("catalog refresh failed: %s", type(error).__name__)

        self._refresh = asyncio.get_running_loop().create_task(refresh())

    async def office(self, session: AsyncSession, slug: str, *, now: datetime) -> OfficeRules:
        """One office's rules, or the unknown_office error."""
        return office_of(await self.get(session, now=now), slug)

    async def services(self, session: AsyncSession, slugs: list[str], *, now: datetime) -> list[ServiceRule]:
        """Runtime by slug, in the order given, refusing unknown and repeated ones."""
        snapshot = await self.get(session, now=now)
        return resolve_services(snapshot, slugs)


def office_of(snapshot: CatalogSnapshot, slug: str) -> OfficeRules:
    """One office's rules, or the unknown_office error."""
    try:
        return snapshot.offices[slug]
    except KeyError:
        raise RathausError("unknown_office", office=slug[:64]) from None


def resolve_services(snapshot: CatalogSnapshot, slugs: list[str]) -> list[ServiceRule]:
    """Runtime by slug, in the order given, refusing none, unknown and repeated ones."""
    if not slugs:
        raise RathausError("no_services")
    seen: set[str] = set()
    rules = []
    for slug in slugs:
        if slug in seen:
            raise RathausError("duplicate_service", service=slug)
        seen.add(slug)
        try:
            rules.append(snapshot.services[slug])
        except KeyError:
            raise RathausError("unknown_service", service=slug[:64]) from None
    return rules


async def _version(session: AsyncSession) -> tuple[int, datetime | None]:
    row = (await session.execute(select(CatalogVersion.version, CatalogVersion.changed_at))).first()
    return (0, None) if row is None else (row[0], row[1])


async def load_snapshot(session: AsyncSession, *, now: datetime) -> CatalogSnapshot:
    """Read every office, counter, window, closure and service in a handful of queries."""
    version, changed_at = await _version(session)
    services = {s.id: service_rule(s) for s in (await session.scalars(select(Service).order_by(Service.id))).all()}
    offices = (
        await session.scalars(
            select(Office).options(
                selectinload(Office.opening_hours),
                selectinload(Office.special_hours),
                selectinload(Office.counters).selectinload(Counter.services),
            )
        )
    ).all()
    closures: dict[int, list[ClosureRule]] = defaultdict(list)
    for c in await session.scalars(
        select(Closure).where(Closure.end_at > now - _CLOSURE_LOOKBACK).order_by(Closure.start_at)
    ):
        closures[c.office_id].append(closure_rule(c))
    last_days = select(OfficeRelease.office_id, func.max(OfficeRelease.day)).group_by(OfficeRelease.office_id)
    released = {office_id: day for office_id, day in (await session.execute(last_days)).tuples()}
    rules = {o.slug: office_rules(o, closures[o.id], released.get(o.id)) for o in offices}
    bundles = {
        b.slug: BundleRule(
            b.slug,
            b.name,
            b.description,
            tuple(services[i.service_id] for i in b.items),
        )
        for b in (await session.scalars(select(Bundle).options(selectinload(Bundle.items)).order_by(Bundle.slug)))
    }
    by_slug = {s.slug: s for s in services.values()}
    life_events = {
        e.slug: rule
        for e in await session.scalars(select(LifeEvent).order_by(LifeEvent.slug))
        if (rule := life_event_rule(e, by_slug, rules)) is not None
    }
    travel = {
        (t.from_office_id, t.to_office_id): timedelta(minutes=t.minutes)
        for t in await session.scalars(select(TravelTime))
    }
    return CatalogSnapshot(
        offices=rules,
        services=by_slug,
        services_by_id=services,
        bundles=bundles,
        version=version,
        changed_at=changed_at,
        checked_at=now,
        life_events=life_events,
        travel_times=travel,
    )


def life_event_rule(
    e: LifeEvent, services: dict[str, ServiceRule], offices: dict[str, OfficeRules]
) -> LifeEventRule | None:
    """The immutable rule for one life event, or None while a step names a service or office that is gone."""
    steps = []
    for raw in e.steps:
        service_slugs = [str(slug) for slug in _strings(raw.get("services"))]
        office_slugs = [str(slug) for slug in _strings(raw.get("offices"))]
        if not all(slug in services for slug in service_slugs) or not all(slug in offices for slug in office_slugs):
            log.warning("life event %s names a service or office that is gone; hidden", e.slug)
            return None
        steps.append(
            StepRule(
                key=str(raw.get("key")),
                services=tuple(services[slug] for slug in service_slugs),
                offices=tuple(offices[slug] for slug in office_slugs),
                after=frozenset(_strings(raw.get("after"))),
            )
        )
    checklist = tuple(
        ChecklistItem(
            Localized(_texts(item.get("text"))), Localized(_texts(item.get("description"))), str(item.get("url", ""))
        )
        for item in e.checklist
    )
    return LifeEventRule(e.slug, e.name, e.description, e.max_days, tuple(steps), checklist)


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _texts(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def closure_rule(c: Closure) -> ClosureRule:
    """The immutable rule for one closure row."""
    return ClosureRule(c.id, c.start_at, c.end_at, c.all_day, c.reason, c.public)


def service_rule(s: Service) -> ServiceRule:
    """The immutable rule for one service row."""
    return ServiceRule(
        id=s.id,
        slug=s.slug,
        name=s.name,
        duration=timedelta(minutes=s.duration_minutes),
        bring=s.bring,
        fee_cents=s.fee_cents,
        bookable_online=s.bookable_online,
        walk_ins_allowed=s.walk_ins_allowed,
        walk_in_cutoff=_minutes(s.walk_in_cutoff_minutes),
        keywords={language: tuple(words) for language, words in (s.keywords or {}).items()},
        modes=_modes(s.modes),
    )


def office_rules(o: Office, closures: list[ClosureRule], released_through: date | None = None) -> OfficeRules:
    """The immutable rules for one office row with its children loaded (and the last day a release opened)."""
    weekly: dict[int, list[Window]] = defaultdict(list)
    for h in o.opening_hours:
        weekly[h.weekday].append(Window(h.opens, h.closes))
    special: dict[date, list[Window]] = defaultdict(list)
    for sh in o.special_hours:
        special[sh.day].append(Window(sh.opens, sh.closes, sh.note))
    return OfficeRules(
        id=o.id,
        slug=o.slug,
        name=o.name,
        tz=ZoneInfo(o.timezone),
        slot=timedelta(minutes=o.slot_minutes),
        lead=timedelta(minutes=o.lead_time_minutes),
        horizon=timedelta(days=o.horizon_days),
        buffer=timedelta(minutes=o.buffer_minutes),
        walk_in_cutoff=_minutes(o.walk_in_cutoff_minutes),
        verification=o.verification,
        hold=timedelta(minutes=o.hold_minutes),
        weekly=dict(weekly),
        special=dict(special),
        closures=tuple(closures),
        counters=tuple(
            CounterRule(c.id, c.name, c.walk_in_only, frozenset(s.id for s in c.services), _modes(c.modes))
            for c in o.counters
            if c.active
        ),
        agenda_shows_names=o.agenda_shows_names,
        check_in_grace=timedelta(minutes=o.check_in_grace_minutes),
        facilities=Facilities(o.step_free, o.parking, o.bicycle_stands, o.quiet_room, o.facilities_note),
        releases=release_schedule(o),
        released_through=released_through,
        extra={
            "address": o.address,
            "phone": o.phone,
            "email": o.email,
            "website": o.website,
            "latitude": o.latitude,
            "longitude": o.longitude,
        },
    )


def release_schedule(o: Office) -> ReleaseSchedule | None:
    """The office's published release schedule, or None where slots open continuously."""
    if o.release_time is None or o.release_days_ahead is None or not o.release_weekdays:
        return None
    return ReleaseSchedule(frozenset(o.release_weekdays), o.release_time, o.release_days_ahead)


def _modes(stored: list[str] | None) -> frozenset[str]:
    return frozenset(stored) if stored else ON_SITE


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)
