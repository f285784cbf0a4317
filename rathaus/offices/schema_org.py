"""An office as schema.org describes it (GovernmentOffice, JSON-LD): for its page and for city websites."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from rathaus.offices.rules import Interval, OfficeRules, merge, wall_to_utc

AHEAD = timedelta(days=90)  # dated exceptions listed at least this far ahead (and to the booking horizon)
# "Street 1, 12345 Town" (how offices write their address): the parts a PostalAddress names.
_ADDRESS = re.compile(r"^(?P<street>.+?),\s*(?P<code>\d{4,5})\s+(?P<town>[^,]+)$")
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
    while day <= today + max(AHEAD, office.horizon):
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


def postal_address(address: str) -> dict[str, str]:
    """An address line as a schema.org PostalAddress (the whole line as the street if it has no postcode)."""
    found = _ADDRESS.match(address.strip())
    if found is None:
        return {"@type": "PostalAddress", "streetAddress": address.strip()}
    return {
        "@type": "PostalAddress",
        "streetAddress": found["street"].strip(),
        "postalCode": found["code"],
        "addressLocality": found["town"].strip(),
    }


def json_ld(office: OfficeRules, *, today: date, language: str, url: str) -> dict[str, Any]:
    """schema.org GovernmentOffice with weekly hours, and dated exceptions up to the booking horizon as special
    opening hours (a day closed throughout has no opening times)."""
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
    special: list[dict[str, Any]] = []
    for dated in exceptions(office, today=today, language=language):
        day = {"@type": "OpeningHoursSpecification", "validFrom": dated.day.isoformat()}
        day["validThrough"] = day["validFrom"]
        if not dated.windows:
            special.append(day)
        special += [{**day, "opens": opens, "closes": closes} for opens, closes in dated.windows]
    extra = office.extra
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "GovernmentOffice",
        "name": office.name.get(language),
        "url": url,
        "openingHoursSpecification": specs,
        "specialOpeningHoursSpecification": special,
    }
    if extra.get("address"):
        document["address"] = postal_address(str(extra["address"]))
    if extra.get("phone"):
        document["telephone"] = str(extra["phone"])
    if extra.get("email"):
        document["email"] = str(extra["email"])
    if isinstance(extra.get("latitude"), float) and isinstance(extra.get("longitude"), float):
        document["geo"] = {"@type": "GeoCoordinates", "latitude": extra["latitude"], "longitude": extra["longitude"]}
    return document


class JsonLdCache:
    """Documents per office, local day, language and URL, each kept while the office's rules are the very object
    it was made from (the catalogue replaces them on every change): making one walks every day to the horizon."""

    def __init__(self, max_entries: int = 2_000) -> None:
        self._entries: dict[tuple[int, date, str, str], tuple[OfficeRules, dict[str, Any]]] = {}
        self._max_entries = max_entries

    def get(self, office: OfficeRules, *, today: date, language: str, url: str) -> dict[str, Any]:
        """`json_ld(office, …)`, made once per office rules, day, language and URL (not to be changed)."""
        key = (office.id, today, language, url)
        kept = self._entries.get(key)
        if kept is not None and kept[0] is office:
            return kept[1]
        if len(self._entries) >= self._max_entries and key not in self._entries:
            self._entries.clear()
        document = json_ld(office, today=today, language=language, url=url)
        self._entries[key] = (office, document)
        return document
