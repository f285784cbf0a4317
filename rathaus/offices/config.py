"""The declarative configuration file (TOML): its shape, and checks that name the place of every mistake."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from rathaus.localized import DEFAULT_LANGUAGE
from rathaus.offices.rules import Mode

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


# A text per language code (`{ de = "…", en = "…", tr = "…" }`): a further language needs no migration.
# German is required (see `check`): it is what readers of a language without a translation see.
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")]
Text = dict[Language, Short]
LongText = dict[Language, Annotated[str, msgspec.Meta(max_length=5000)]]
# Words citizens search with that the name lacks (`{ de = ["ummelden"], en = ["moving house"] }`).
Keywords = dict[Language, Annotated[list[Short], msgspec.Meta(max_length=50)]]


Modes = Annotated[list[Mode], msgspec.Meta(min_length=1, max_length=3)]


class ServiceConfig(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Text
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=480)]
    bring: LongText = msgspec.field(default_factory=dict)
    fee_eur: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None
    bookable_online: bool = True
    walk_ins: bool = True
    walk_in_cutoff_minutes: Minutes | None = None
    keywords: Keywords = msgspec.field(default_factory=dict)
    # How the service can be given: on_site, phone, video (a counter taking the mode must serve it too).
    modes: Modes = msgspec.field(default_factory=lambda: ["on_site"])


class BundleConfig(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Text
    services: list[Slug]
    description: LongText = msgspec.field(default_factory=dict)


class StepConfig(msgspec.Struct, forbid_unknown_fields=True):
    """One appointment of a life event: services served together, at one of the offices named."""

    key: Slug
    services: list[Slug]
    offices: list[Slug]
    # Steps that must be done before this one (declared earlier in the list), e.g. registering the new address
    # before re-registering the car.
    after: list[Slug] = msgspec.field(default_factory=list)


class ChecklistConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Something outside the city's offices that the life event needs (forwarding mail, the bank, a school)."""

    text: Text
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=500)]
    description: LongText = msgspec.field(default_factory=dict)


class LifeEventConfig(msgspec.Struct, forbid_unknown_fields=True):
    """A life event ("Lebenslage") whose appointments may lie at different offices."""

    slug: Slug
    name: Text
    steps: list[StepConfig]
    description: LongText = msgspec.field(default_factory=dict)
    # Where one day is not possible, the appointments may spread over at most this many days.
    max_days: Annotated[int, msgspec.Meta(ge=1, le=14)] = 1
    checklist: list[ChecklistConfig] = msgspec.field(default_factory=list)


class CounterConfig(msgspec.Struct, forbid_unknown_fields=True):
    name: Short
    services: list[Slug]
    walk_in_only: bool = False
    # The appointment modes this counter or caseworker takes.
    modes: Modes = msgspec.field(default_factory=lambda: ["on_site"])


class SpecialHoursConfig(msgspec.Struct, forbid_unknown_fields=True):
    date: dt.date
    hours: list[str]
    note: LongText = msgspec.field(default_factory=dict)


class ClosureConfig(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text
    date: dt.date | None = None
    until: dt.date | None = None
    start: datetime | None = None
    end: datetime | None = None
    public: bool = True


class HolidaysConfig(msgspec.Struct, forbid_unknown_fields=True):
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")] = "DE"
    subdivision: str | None = None
    public: bool = True


class ReleasesConfig(msgspec.Struct, forbid_unknown_fields=True):
    """New slots released in batches: on these weekdays at `at` (local time) the day `days_ahead` days on opens."""

    at: Annotated[str, msgspec.Meta(pattern=r"^\d{2}:\d{2}$")]
    days_ahead: Annotated[int, msgspec.Meta(ge=0, le=365)]
    weekdays: list[str] = msgspec.field(default_factory=lambda: list(WEEKDAYS[:5]))


class FacilitiesConfig(msgspec.Struct, forbid_unknown_fields=True):
    """What the building offers; left out means unknown (the page then says nothing about it)."""

    step_free: bool | None = None
    parking: bool | None = None
    bicycle_stands: bool | None = None
    quiet_room: bool | None = None
    note: LongText = msgspec.field(default_factory=dict)


class OfficeConfig(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Text
    counters: list[CounterConfig]
    hours: dict[str, list[str]]
    timezone: str = "Europe/Berlin"
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    latitude: float | None = None
    longitude: float | None = None
    slot_minutes: Annotated[int, msgspec.Meta(ge=5, le=60)] = 15
    lead_time_minutes: Minutes = 60
    horizon_days: Annotated[int, msgspec.Meta(ge=1, le=730)] = 60
    buffer_minutes: Minutes = 0
    walk_in_cutoff_minutes: Minutes | None = None
    check_in_grace_minutes: Annotated[int, msgspec.Meta(ge=0, le=240)] = 10
    verification: Literal["off", "email", "sms"] = "off"
    hold_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 15
    agenda_shows_names: bool = False
    special_hours: list[SpecialHoursConfig] = msgspec.field(default_factory=list)
    closures: list[ClosureConfig] = msgspec.field(default_factory=list)
    holidays: HolidaysConfig | None = None
    releases: ReleasesConfig | None = None
    facilities: FacilitiesConfig = msgspec.field(default_factory=FacilitiesConfig)
    # Minutes it takes to get from this office to another (by public transport); the other direction takes as
    # long unless that office declares otherwise.
    travel_minutes: dict[Slug, Annotated[int, msgspec.Meta(ge=0, le=1440)]] = msgspec.field(default_factory=dict)


class Config(msgspec.Struct, forbid_unknown_fields=True):
    services: list[ServiceConfig] = msgspec.field(default_factory=list)
    bundles: list[BundleConfig] = msgspec.field(default_factory=list)
    offices: list[OfficeConfig] = msgspec.field(default_factory=list)
    life_events: list[LifeEventConfig] = msgspec.field(default_factory=list)


class ConfigError(ValueError):
    """The configuration file is invalid; `problems` name each place."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class Span:
    opens: time
    closes: time


def read_config(path: Path) -> Config:
    """Parse and check a configuration file; raises ConfigError naming every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([f"{path}: cannot read the file: {error}"]) from None
    return parse_config(text, source=str(path))


def parse_config(text: str, *, source: str) -> Config:
    """Parse and check a configuration's text; ConfigError names every problem (line, or field path)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{source}: not valid TOML: {error}"]) from None
    return _checked(raw, source)


def validate_config(config: Config, *, source: str) -> Config:
    """The same checks as for a file, for a configuration built in code (an edit made on a page): the types'
    limits too, which constructing a Struct does not check."""
    return _checked(msgspec.to_builtins(config, builtin_types=(dt.date, datetime)), source)


def _checked(raw: object, source: str) -> Config:
    try:
        config = msgspec.convert(raw, Config)
    except msgspec.ValidationError as error:
        raise ConfigError([f"{source}: {error}"]) from None
    problems = [f"{source}: {problem}" for problem in check(config)]
    if problems:
        raise ConfigError(problems)
    return config


def parse_span(text: str) -> Span:
    """'08:00-12:30' as a span of wall times; ValueError if malformed."""
    match = _SPAN.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not of the form HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{text!r} is not a time of day")
    opens, closes = time(h1, m1), time(h2, m2)
    if opens >= closes:
        raise ValueError(f"{text!r} closes before it opens")
    return Span(opens, closes)


def check(config: Config) -> list[str]:
    """Problems that the types alone cannot catch, each with its place in the file."""
    problems: list[str] = []
    service_slugs = {s.slug for s in config.services}
    problems += _duplicates("services", [s.slug for s in config.services])
    problems += _duplicates("bundles", [b.slug for b in config.bundles])
    problems += _duplicates("offices", [o.slug for o in config.offices])
    problems += _untranslated(config)
    for i, service in enumerate(config.services):
        problems += _duplicates(f"services[{i}].modes", list(service.modes))
    for i, bundle in enumerate(config.bundles):
        problems += _unknown(f"bundles[{i}].services", bundle.services, service_slugs)
    for i, office in enumerate(config.offices):
        problems += _check_office(f"offices[{i}]", office, service_slugs)
    problems += _duplicates("life_events", [e.slug for e in config.life_events])
    offices = {o.slug: o for o in config.offices}
    for i, event in enumerate(config.life_events):
        problems += _check_life_event(f"life_events[{i}]", event, service_slugs, offices)
    return problems


def _check_life_event(
    at: str, event: LifeEventConfig, service_slugs: set[str], offices: dict[str, OfficeConfig]
) -> list[str]:
    """Steps name known services, offices able to serve them together, and only earlier steps as `after`.

    Offices the file does not declare are checked when it is loaded (they may exist in the database).
    """
    problems = _duplicates(f"{at}.steps", [s.key for s in event.steps])
    if not event.steps:
        problems.append(f"{at}.steps: list at least one step")
    earlier: set[str] = set()
    for j, step in enumerate(event.steps):
        where = f"{at}.steps[{j}]"
        problems += _unknown(f"{where}.services", step.services, service_slugs)
        problems += _duplicates(f"{where}.offices", step.offices)
        if not step.offices:
            problems.append(f"{where}.offices: list at least one office")
        for k, slug in enumerate(step.offices):
            office = offices.get(slug)
            if office is not None and not any(
                set(step.services) <= set(c.services) and not c.walk_in_only for c in office.counters
            ):
                problems.append(f"{where}.offices[{k}]: no counter of {slug!r} serves {', '.join(step.services)}")
        problems += [
            f"{where}.after[{k}]: {key!r} is not a step declared before this one"
            for k, key in enumerate(step.after)
            if key not in earlier
        ]
        earlier.add(step.key)
    return problems


def _check_office(at: str, office: OfficeConfig, service_slugs: set[str]) -> list[str]:
    problems: list[str] = []
    try:
        ZoneInfo(office.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{at}.timezone: unknown time zone {office.timezone!r}")
    if 60 % office.slot_minutes:
        problems.append(f"{at}.slot_minutes: must divide an hour (5, 10, 12, 15, 20, 30 or 60)")
    problems += _duplicates(f"{at}.counters", [c.name for c in office.counters])
    if not office.counters:
        problems.append(f"{at}.counters: an office needs at least one counter")
    for j, counter in enumerate(office.counters):
        problems += _unknown(f"{at}.counters[{j}].services", counter.services, service_slugs)
        problems += _duplicates(f"{at}.counters[{j}].modes", list(counter.modes))
    for day, spans in office.hours.items():
        if day not in WEEKDAYS:
            problems.append(f"{at}.hours.{day}: not a weekday (use {', '.join(WEEKDAYS)})")
        problems += _check_spans(f"{at}.hours.{day}", spans, office.slot_minutes)
    for j, special in enumerate(office.special_hours):
        problems += _check_spans(f"{at}.special_hours[{j}].hours", special.hours, office.slot_minutes)
    for j, closure in enumerate(office.closures):
        problems += _check_closure(f"{at}.closures[{j}]", closure)
    if office.slug in office.travel_minutes:
        problems.append(f"{at}.travel_minutes.{office.slug}: travel from an office to itself")
    if office.releases is not None:
        problems += _check_releases(f"{at}.releases", office.releases)
    if office.holidays is not None:
        import holidays

        try:
            holidays.country_holidays(office.holidays.country, subdiv=office.holidays.subdivision)
        except NotImplementedError as error:
            problems.append(f"{at}.holidays: {error}")
    return problems


def _check_releases(at: str, releases: ReleasesConfig) -> list[str]:
    problems = [
        f"{at}.weekdays: {d!r} is not a weekday (use {', '.join(WEEKDAYS)})"
        for d in releases.weekdays
        if d not in WEEKDAYS
    ]
    if not releases.weekdays:
        problems.append(f"{at}.weekdays: list at least one weekday")
    problems += _duplicates(f"{at}.weekdays", releases.weekdays)
    try:
        release_time(releases)
    except ValueError:
        problems.append(f"{at}.at: {releases.at!r} is not a time of day (HH:MM)")
    return problems


def release_time(releases: ReleasesConfig) -> time:
    """The local time of day of the releases."""
    return time.fromisoformat(releases.at)


def _check_spans(at: str, spans: list[str], slot_minutes: int) -> list[str]:
    problems = []
    for k, text in enumerate(spans):
        try:
            span = parse_span(text)
        except ValueError as error:
            problems.append(f"{at}[{k}]: {error}")
            continue
        if span.opens.minute % slot_minutes or span.closes.minute % slot_minutes:
            problems.append(f"{at}[{k}]: {text!r} does not fall on the {slot_minutes}-minute slot grid")
    return problems


def _check_closure(at: str, closure: ClosureConfig) -> list[str]:
    if closure.date is not None:
        if closure.start is not None or closure.end is not None:
            return [f"{at}: give either date (and optionally until) or start and end, not both"]
        if closure.until is not None and closure.until < closure.date:
            return [f"{at}.until: lies before date"]
        return []
    if closure.start is None or closure.end is None:
        return [f"{at}: needs a date, or a start and an end"]
    if closure.start.tzinfo is not None or closure.end.tzinfo is not None:
        return [f"{at}: write local times without an offset (the office's time zone applies)"]
    if closure.end <= closure.start:
        return [f"{at}.end: must be after start"]
    return []


def _untranslated(config: Config) -> list[str]:
    """Names and reasons without the German text every reader falls back to."""
    texts: list[tuple[str, dict[str, str]]] = [(f"services[{i}].name", s.name) for i, s in enumerate(config.services)]
    texts += [(f"bundles[{i}].name", b.name) for i, b in enumerate(config.bundles)]
    for i, event in enumerate(config.life_events):
        texts.append((f"life_events[{i}].name", event.name))
        texts += [(f"life_events[{i}].checklist[{j}].text", c.text) for j, c in enumerate(event.checklist)]
    for i, office in enumerate(config.offices):
        texts.append((f"offices[{i}].name", office.name))
        texts += [(f"offices[{i}].closures[{j}].reason", c.reason) for j, c in enumerate(office.closures)]
    return [f'{at}: needs a German text (de = "…")' for at, text in texts if DEFAULT_LANGUAGE not in text]


def _duplicates(at: str, names: list[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for i, name in enumerate(names):
        if name in seen:
            problems.append(f"{at}[{i}]: {name!r} appears more than once")
        seen.add(name)
    return problems


def _unknown(at: str, slugs: list[str], known: set[str]) -> list[str]:
    problems = [f"{at}[{i}]: unknown service {slug!r}" for i, slug in enumerate(slugs) if slug not in known]
    if not slugs:
        problems.append(f"{at}: list at least one service")
    return problems
