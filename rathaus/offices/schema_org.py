"""An office as schema.org describes it (GovernmentOffice, JSON-LD): for its page and for city websites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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
