"""VTIMEZONE components: a static RRULE block for the EU's CET/CEST zones, generated rules elsewhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

# Zones on EU summer time with +01:00/+02:00 (rules unchanged since 1996). A static RRULE block is what Outlook
# and Google handle best; the RDATE-per-year form icalendar generates is mishandled by some Outlook versions.
CET_ZONES = frozenset(
    {
        "Europe/Berlin",
        "Europe/Vienna",
        "Europe/Zurich",
        "Europe/Paris",
        "Europe/Amsterdam",
        "Europe/Brussels",
        "Europe/Luxembourg",
        "Europe/Rome",
        "Europe/Madrid",
        "Europe/Copenhagen",
        "Europe/Oslo",
        "Europe/Stockholm",
        "Europe/Prague",
        "Europe/Warsaw",
        "Europe/Budapest",
        "Europe/Bratislava",
        "Europe/Ljubljana",
        "Europe/Zagreb",
        "Europe/Belgrade",
        "Europe/Busingen",
    }
)


def vtimezone(tz: ZoneInfo, *, first: date, last: date) -> Timezone:
    """The VTIMEZONE for `tz`, valid at least from `first` to `last`."""
    if tz.key in CET_ZONES:
        return _cet(tz.key)
    return _one_onset_each(Timezone.from_tzinfo(tz, tzid=tz.key, first_date=first, last_date=last))


def _one_onset_each(zone: Timezone) -> Timezone:
    """Split observances that list further onsets as RDATE into one observance per onset.

    Mozilla's ical.js (Thunderbird) misreads times near a transition given by RDATE, and some Outlook versions
    shift such events by an hour; one DTSTART per observance is read the same way everywhere.
    """
    for observance in list(zone.subcomponents):
        rdates = observance.get("rdate")
        if rdates is None:
            continue
        del observance["rdate"]
        for rdate in rdates if isinstance(rdates, list) else [rdates]:
            for onset in rdate.dts:
                copy = type(observance)()
                for name in ("tzname", "tzoffsetfrom", "tzoffsetto"):
                    copy.add(name, observance[name])
                copy.add("dtstart", onset.dt)
                zone.add_component(copy)
    return zone


def _cet(tzid: str) -> Timezone:
    zone = Timezone()
    zone.add("tzid", tzid)
    zone.add("x-lic-location", tzid)
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("dtstart", datetime(1970, 3, 29, 2, 0))  # noqa: DTZ001 (VTIMEZONE onsets are local wall times)
    summer.add("rrule", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("dtstart", datetime(1970, 10, 25, 3, 0))  # noqa: DTZ001 (VTIMEZONE onsets are local wall times)
    winter.add("rrule", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    zone.add_component(summer)
    zone.add_component(winter)
    return zone


def unambiguous(instant: datetime, tz: ZoneInfo) -> datetime:
    """`instant` in the office's zone, or in UTC where that local time happens twice (clients disagree on those)."""
    local = instant.astimezone(tz)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return instant.astimezone(UTC)
    return local
