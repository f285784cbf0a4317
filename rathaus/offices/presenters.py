"""Turning catalogue values into API shapes, in the reader's language and the office's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from rathaus import i18n
from rathaus.i18n import N_
from rathaus.offices import schemas
from rathaus.offices.catalog import BundleRule, CatalogSnapshot, LifeEventRule
from rathaus.offices.config import WEEKDAYS
from rathaus.offices.rules import ClosureRule, OfficeRules, ServiceRule, day_bounds, wall_to_utc

UPCOMING_DAYS = 7
# Releases not made in this time ahead (the office is closed that day) are named with the schedule.
SKIPPED_RELEASES_AHEAD = timedelta(weeks=4)
NO_RELEASE_WHEN_CLOSED = N_(
    "No release on public holidays or other days the office is closed; the days it would have opened are released "
    "with the next release."
)


def service(rule: ServiceRule, language: str) -> schemas.Service:
    """A service as the API shows it."""
    return schemas.Service(
        slug=rule.slug,
        name=rule.name.get(language),
        name_de=rule.name.get("de"),
        name_en=rule.name.get("en"),
        duration_minutes=_minutes(rule.duration),
        what_to_bring=rule.bring.get(language),
        fee_eur=None if rule.fee_cents is None else rule.fee_cents / 100,
        bookable_online=rule.bookable_online,
        walk_ins_allowed=rule.walk_ins_allowed,
        walk_in_cutoff_minutes=None if rule.walk_in_cutoff is None else _minutes(rule.walk_in_cutoff),
    )


def bundle(rule: BundleRule, language: str) -> schemas.Bundle:
    """A life event with its services."""
    return schemas.Bundle(
        slug=rule.slug,
        name=rule.name.get(language),
        description=rule.description.get(language),
        services=[s.slug for s in rule.services],
        duration_minutes=sum(_minutes(s.duration) for s in rule.services),
    )


def life_event(rule: LifeEventRule, language: str) -> schemas.LifeEvent:
    """A life event across offices with its steps and checklist."""
    return schemas.LifeEvent(
        slug=rule.slug,
        name=rule.name.get(language),
        description=rule.description.get(language),
        max_days=rule.max_days,
        steps=[
            schemas.Step(
                key=step.key,
                services=[s.slug for s in step.services],
                offices=[o.slug for o in step.offices],
                after=sorted(step.after),
                duration_minutes=sum(_minutes(s.duration) for s in step.services),
            )
            for step in rule.steps
        ],
        checklist=[
            schemas.ChecklistItem(item.text.get(language), item.description.get(language), item.url)
            for item in rule.checklist
        ],
    )


def closure(rule: ClosureRule, office: OfficeRules, language: str) -> schemas.Closure:
    """A closure with local times."""
    return schemas.Closure(
        id=rule.id,
        start=rule.start.astimezone(office.tz),
        end=rule.end.astimezone(office.tz),
        all_day=rule.all_day,
        reason=rule.reason.get(language),
        public=rule.public,
    )


def office_cutoff(office: OfficeRules, snapshot: CatalogSnapshot) -> timedelta:
    """The cut-off shown with opening hours: the office's own, else the shortest walk-in service at it."""
    if office.walk_in_cutoff is not None:
        return office.walk_in_cutoff
    offered = {sid for counter in office.counters for sid in counter.services}
    durations = [
        snapshot.services_by_id[sid].duration for sid in offered if snapshot.services_by_id[sid].walk_ins_allowed
    ]
    return min(durations, default=timedelta())


def office(
    rules: OfficeRules,
    snapshot: CatalogSnapshot,
    *,
    language: str,
    now: datetime,
    staff_view: bool = False,
) -> schemas.Office:
    """An office with its weekly hours, the next days' windows and cut-offs, and upcoming public closures."""
    cutoff = office_cutoff(rules, snapshot)
    today = rules.local_day(now)
    days = [_day(rules, today + timedelta(days=i), cutoff, language) for i in range(UPCOMING_DAYS)]
    closures = [closure(c, rules, language) for c in rules.closures if c.end > now and (c.public or staff_view)]
    counters = None
    if staff_view:
        counters = [
            schemas.Counter(c.name, c.walk_in_only, sorted(snapshot.services_by_id[s].slug for s in c.services))
            for c in rules.counters
        ]
    extra = rules.extra
    return schemas.Office(
        slug=rules.slug,
        name=rules.name.get(language),
        timezone=rules.tz.key,
        address=str(extra.get("address", "")),
        phone=str(extra.get("phone", "")),
        email=str(extra.get("email", "")),
        website=str(extra.get("website", "")),
        latitude=_float(extra.get("latitude")),
        longitude=_float(extra.get("longitude")),
        slot_minutes=_minutes(rules.slot),
        lead_time_minutes=_minutes(rules.lead),
        horizon_days=rules.horizon.days,
        walk_in_cutoff_minutes=_minutes(cutoff),
        verification=rules.verification,
        weekly_hours={
            WEEKDAYS[day]: [f"{w.opens:%H:%M}-{w.closes:%H:%M}" for w in windows]
            for day, windows in sorted(rules.weekly.items())
        },
        next_days=days,
        upcoming_closures=closures[:50],
        counters=counters,
        releases=releases(rules, language=language, now=now),
    )


def releases(rules: OfficeRules, *, language: str, now: datetime) -> schemas.Releases | None:
    """The office's published release schedule with its next release, or None where slots open continuously."""
    schedule = rules.releases
    if schedule is None:
        return None
    upcoming = rules.next_release(now)
    ahead = now + SKIPPED_RELEASES_AHEAD
    made = set(rules.release_instants(after=now, until=ahead))
    return schemas.Releases(
        weekdays=[WEEKDAYS[d] for d in sorted(schedule.weekdays)],
        at=f"{schedule.at:%H:%M}",
        days_ahead=schedule.days_ahead,
        next_release=None if upcoming is None else upcoming.astimezone(rules.tz),
        next_day=None if upcoming is None else schedule.day_of(upcoming, rules.tz),
        released_through=rules.released_through,
        closed_days=i18n.translations(language).gettext(NO_RELEASE_WHEN_CLOSED),
        skipped=[rules.local_day(at) for at in schedule.instants(rules.tz, after=now, until=ahead) if at not in made],
    )


def office_valid_until(rules: OfficeRules, now: datetime) -> datetime:
    """When `office(rules, …, now=now)` next answers differently with the same rules: at the office's next local
    midnight (the days shown move on), when one of its closures ends (it is no longer upcoming) or at the next
    instant of its release schedule, made or left out (another release is next, the releases left out change)."""
    midnight = day_bounds(rules.local_day(now), rules.tz)[1]
    schedule = rules.releases
    upcoming = [] if schedule is None else schedule.instants(rules.tz, after=now, until=now + timedelta(days=8))[:1]
    return min([midnight, *upcoming, *(c.end for c in rules.closures if c.end > now)])


def _day(rules: OfficeRules, day: date, cutoff: timedelta, language: str) -> schemas.Day:
    windows = []
    for w in rules.windows_on(day):
        closes = wall_to_utc(day, w.closes, rules.tz)
        until = max(closes - cutoff, wall_to_utc(day, w.opens, rules.tz)).astimezone(rules.tz)
        windows.append(schemas.Window(f"{w.opens:%H:%M}", f"{w.closes:%H:%M}", f"{until:%H:%M}", w.note.get(language)))
    start, end = day_bounds(day, rules.tz)
    closed = [c.reason.get(language) for c in rules.closures_between(start, end) if c.public]
    return schemas.Day(date=day, weekday=WEEKDAYS[day.weekday()], windows=windows, closures=closed)


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
