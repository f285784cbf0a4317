"""What a city website embeds: schema.org JSON-LD of the opening hours and a small accessible HTML snippet."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import get_day_names

from rathaus import i18n, templating
from rathaus.offices.rules import Interval, OfficeRules, merge, wall_to_utc

AHEAD = timedelta(days=90)  # dated exceptions listed this far ahead
SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class DatedHours:
    day: date
    windows: list[tuple[str, str]]  # local "HH:MM" pairs; empty when closed all day
    reasons: list[str]


def _weekly(office: OfficeRules, day: date) -> list[Interval]:
    windows = [
        (wall_to_utc(day, w.opens, office.tz), wall_to_utc(day, w.closes, office.tz))
        for w in office.weekly.get(day.weekday(), ())
    ]
    return merge(windows)


def exceptions(office: OfficeRules, *, today: date, language: str) -> list[DatedHours]:
    """Days ahead whose real opening differs from the weekly rule (closures, part-day closures, extra openings)."""
    found = []
    day = today
    while day <= today + AHEAD:
        actual = merge(office.open_after_closures(day))
        if actual != _weekly(office, day):
            start, end = (
                wall_to_utc(day, datetime.min.time(), office.tz),
                wall_to_utc(day + timedelta(days=1), datetime.min.time(), office.tz),
            )
            reasons = [c.reason.get(language) for c in office.closures_between(start, end) if c.public]
            windows = [(f"{s.astimezone(office.tz):%H:%M}", f"{e.astimezone(office.tz):%H:%M}") for s, e in actual]
            found.append(DatedHours(day, windows, reasons))
        day += timedelta(days=1)
    return found


def json_ld(office: OfficeRules, *, today: date, language: str, url: str) -> dict[str, Any]:
    """schema.org GovernmentOffice with weekly hours and dated exceptions (closed days as 00:00-00:00)."""
    specs: list[dict[str, Any]] = [
        {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": f"https://schema.org/{SCHEMA_DAYS[weekday]}",
            "opens": f"{w.opens:%H:%M}",
            "closes": f"{w.closes:%H:%M}",
        }
        for weekday, windows in sorted(office.weekly.items())
        for w in windows
    ]
    for dated in exceptions(office, today=today, language=language):
        for opens, closes in dated.windows or [("00:00", "00:00")]:
            specs.append(
                {
                    "@type": "OpeningHoursSpecification",
                    "validFrom": dated.day.isoformat(),
                    "validThrough": dated.day.isoformat(),
                    "opens": opens,
                    "closes": closes,
                }
            )
    extra = office.extra
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "GovernmentOffice",
        "name": office.name.get(language),
        "url": url,
        "openingHoursSpecification": specs,
    }
    if extra.get("address"):
        document["address"] = str(extra["address"])
    if extra.get("phone"):
        document["telephone"] = str(extra["phone"])
    if extra.get("email"):
        document["email"] = str(extra["email"])
    if isinstance(extra.get("latitude"), float) and isinstance(extra.get("longitude"), float):
        document["geo"] = {"@type": "GeoCoordinates", "latitude": extra["latitude"], "longitude": extra["longitude"]}
    return document


def json_ld_bytes(office: OfficeRules, *, today: date, language: str, url: str) -> bytes:
    """The JSON-LD document as bytes (sorted keys: the same catalog gives the same bytes)."""
    return json.dumps(
        json_ld(office, today=today, language=language, url=url), ensure_ascii=False, sort_keys=True, indent=1
    ).encode()


def html_snippet(office: OfficeRules, *, today: date, language: str, url: str, cutoff: timedelta) -> bytes:
    """An HTML fragment: weekly hours with walk-in cut-offs, the coming exceptions, and the JSON-LD."""
    language = i18n.choose(language)
    day_names = get_day_names("wide", locale=i18n.babel_locale(language))
    names = [day_names[weekday] for weekday in range(7)]
    weekly = [
        (names[weekday], [(f"{w.opens:%H:%M}", f"{w.closes:%H:%M}", _until(w.closes, cutoff)) for w in windows])
        for weekday, windows in sorted(office.weekly.items())
    ]
    html = templating.render(
        "calendar/embed.html.j2",
        language,
        slug=office.slug,
        office=office.name.get(language),
        address=str(office.extra.get("address", "")),
        weekly=weekly,
        exceptions=exceptions(office, today=today, language=language)[:20],
        day_names=names,
        json_ld=json.dumps(
            json_ld(office, today=today, language=language, url=url), ensure_ascii=False, sort_keys=True
        ).replace("<", "\\u003c"),
        url=url,
    )
    return html.encode()


def _until(closes: Any, cutoff: timedelta) -> str:
    moment = datetime.combine(date(2000, 1, 1), closes) - cutoff
    return f"{moment:%H:%M}"
