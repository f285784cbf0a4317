"""Public feeds of an office: closures (with special openings) and opening hours, deterministic for caching."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur, vText

from rathaus import i18n
from rathaus.i18n import N_
from rathaus.notify.calendar.invite import PRODID, host_of
from rathaus.notify.calendar.vtimezone import unambiguous, vtimezone
from rathaus.offices.presenters import NO_RELEASE_WHEN_CLOSED
from rathaus.offices.rules import Interval, OfficeRules, ReleaseSchedule, Window, subtract, wall_to_utc

PAST = timedelta(days=30)  # how far back a feed starts
FUTURE = timedelta(days=400)  # at most this far ahead (see `known_until`)
REFRESH = timedelta(hours=1)
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # DTSTAMP of a catalog that never changed
# {office}, {reason} and {time} are filled in per feed and event.
_TEXT = {
    "closures": N_("{office}: closures and extra openings"),
    "closures_desc": N_("Days and times when {office} is closed, and extra opening hours."),
    "hours": N_("{office}: opening hours"),
    "hours_desc": N_("Opening hours of {office}; closures are left out."),
    "closed": N_("Closed: {reason}"),
    "special": N_("Extra opening"),
    "open": N_("Open"),
    "walk_ins": N_("Walk-ins until {time} (cut-off)"),
    "release": N_("New appointments released"),
}
# How a release shows in a calendar: a short event at its time (a moment of no length shows badly in many).
RELEASE_LENGTH = timedelta(minutes=15)
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def known_until(today: date) -> date:
    """The last day the feeds speak for: public holidays are loaded for this year and the next (and refreshed by
    a job), so weekly hours past the end of next year could show a holiday as open. The weekly rules end there
    (UNTIL) rather than repeat for ever."""
    return min(today + FUTURE, date(today.year + 1, 12, 31))


def _text(language: str) -> dict[str, str]:
    t = i18n.translations(language)
    return {key: t.gettext(msgid) for key, msgid in _TEXT.items()}


def _calendar(
    office: OfficeRules, *, kind: str, language: str, public_base_url: str, first: date, last: date
) -> Calendar:
    text = _text(language)
    name = office.name.get(language)
    query = "" if language == i18n.DEFAULT_LANGUAGE else f"?lang={language}"
    url = f"{public_base_url.rstrip('/')}/feeds/{office.slug}/{kind}.ics{query}"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # No METHOD: a subscribed feed is not an iTIP message (RFC 5546 1.4), and with METHOD:PUBLISH every event
    # would need an ORGANIZER (RFC 5546 3.2.1) that a public timetable does not have.
    title, description = text[kind].format(office=name), text[f"{kind}_desc"].format(office=name)
    calendar.add("name", title)
    # X- properties are not known to be TEXT: escape ",", ";" and "\\" as the standard ones are.
    calendar.add("x-wr-calname", vText(title))
    calendar.add("description", description)
    calendar.add("x-wr-caldesc", vText(description))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("x-wr-timezone", office.tz.key)
    calendar.add("source", url, parameters={"VALUE": "URI"})
    calendar.add("url", url)
    calendar.add_component(vtimezone(office.tz, first=first, last=last))
    return calendar


def _event(uid: str, stamp: datetime, summary: str, start: datetime | date, end: datetime | date) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", _clear(start))
    event.add("dtend", _clear(end))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    return event


def closures_feed(
    office: OfficeRules, *, language: str, public_base_url: str, changed_at: datetime | None, today: date
) -> bytes:
    """Public closures (whole days as dates, part days with times) and dated extra openings."""
    text = _text(language)
    host = host_of(public_base_url)
    stamp = changed_at or _EPOCH
    first = today - PAST
    calendar = _calendar(
        office,
        kind="closures",
        language=language,
        public_base_url=public_base_url,
        first=first,
        last=known_until(today),
    )
    for closure in office.closures:
        if not closure.public or closure.end.astimezone(office.tz).date() < first:
            continue
        reason = closure.reason.get(language)
        start: datetime | date = closure.start.astimezone(office.tz)
        end: datetime | date = closure.end.astimezone(office.tz)
        if closure.all_day:
            start, end = closure.start.astimezone(office.tz).date(), closure.end.astimezone(office.tz).date()
        event = _event(f"closure-{closure.id}@{host}", stamp, text["closed"].format(reason=reason), start, end)
        calendar.add_component(event)
    for day, windows in sorted(office.special.items()):
        if day < first:
            continue
        for window in windows:
            note = window.note.get(language)
            summary = f"{text['special']}: {note}" if note else text["special"]
            opens, closes = _local(day, window.opens, office), _local(day, window.closes, office)
            event = _event(
                f"special-{office.slug}-{day:%Y%m%d}-{window.opens:%H%M}@{host}", stamp, summary, opens, closes
            )
            calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def hours_feed(
    office: OfficeRules,
    *,
    language: str,
    public_base_url: str,
    changed_at: datetime | None,
    today: date,
    cutoff: timedelta,
) -> bytes:
    """Weekly opening hours as recurring events; days touched by a closure become exceptions with what stays open."""
    text = _text(language)
    host = host_of(public_base_url)
    stamp = changed_at or _EPOCH
    first, last = today - PAST, known_until(today)
    calendar = _calendar(
        office, kind="hours", language=language, public_base_url=public_base_url, first=first, last=last
    )
    for weekday, windows in sorted(office.weekly.items()):
        anchor = first + timedelta(days=(weekday - first.weekday()) % 7)
        for window in windows:
            event = _event(
                f"hours-{office.slug}-{weekday}-{window.opens:%H%M}@{host}",
                stamp,
                text["open"],
                _local(anchor, window.opens, office),
                _local(anchor, window.closes, office),
            )
            final = max(_weekly_dates(anchor, last), default=anchor)
            # UNTIL in UTC, as RFC 5545 3.3.10 requires with a DTSTART in a time zone.
            event.add("rrule", vRecur(freq="WEEKLY", until=_utc(final, window.opens, office)))
            event.add(
                "description",
                _walk_ins(
                    _utc(anchor, window.opens, office), _utc(anchor, window.closes, office), office, cutoff, text
                ),
            )
            # Clients give every occurrence the first one's exact length (RFC 5545 3.8.5.3), so days on which the
            # clocks change, like days with closures, become exceptions written out on their own.
            length = _utc(anchor, window.closes, office) - _utc(anchor, window.opens, office)
            for day in _weekly_dates(anchor, last):
                pieces = _open_pieces(day, window, office)
                opens, closes = _utc(day, window.opens, office), _utc(day, window.closes, office)
                if pieces == [(opens, closes)] and closes - opens == length:
                    continue  # an ordinary week
                event.add("exdate", _local(day, window.opens, office))
                for piece_start, piece_end in pieces:
                    calendar.add_component(
                        _piece(
                            office,
                            host,
                            stamp,
                            text["open"],
                            piece_start,
                            piece_end,
                            _walk_ins(piece_start, piece_end, office, cutoff, text),
                        )
                    )
            calendar.add_component(event)
    if office.releases is not None:
        calendar.add_component(_releases(office, office.releases, host, stamp, language, first, last))
    for day, windows in sorted(office.special.items()):
        if not first <= day <= last:
            continue
        for window in windows:
            note = window.note.get(language)
            summary = f"{text['open']} ({note})" if note else text["open"]
            for piece_start, piece_end in _open_pieces(day, window, office):
                calendar.add_component(
                    _piece(
                        office,
                        host,
                        stamp,
                        summary,
                        piece_start,
                        piece_end,
                        _walk_ins(piece_start, piece_end, office, cutoff, text),
                    )
                )
    data: bytes = calendar.to_ical()
    return data


def _releases(
    office: OfficeRules, schedule: ReleaseSchedule, host: str, stamp: datetime, language: str, first: date, last: date
) -> Event:
    """The published release schedule as one weekly event at the release time (local time across DST), saying
    which day each release opens and that the waiting list is offered its appointments first."""
    t = i18n.translations(language)
    anchor = next(day for day in (first + timedelta(days=i) for i in range(7)) if day.weekday() in schedule.weekdays)
    start = _local(anchor, schedule.at, office)
    event = _event(f"releases-{office.slug}@{host}", stamp, t.gettext(_TEXT["release"]), start, start + RELEASE_LENGTH)
    event.add(
        "rrule",
        vRecur(
            freq="WEEKLY", byday=[_BYDAY[d] for d in sorted(schedule.weekdays)], until=_utc(last, schedule.at, office)
        ),
    )
    opens = t.ngettext(
        "Appointments on the day %(num)d day later can be booked from now on.",
        "Appointments on the day %(num)d days later can be booked from now on.",
        schedule.days_ahead,
    ) % {"num": schedule.days_ahead}
    first_offer = t.gettext("People on the waiting list are offered them first.")
    closed_days = t.gettext(NO_RELEASE_WHEN_CLOSED)
    event.add("description", vText(f"{opens} {first_offer} {closed_days}"))
    # The releases not made because the office is closed that day (a public holiday) are left out of the series.
    scheduled = schedule.instants(office.tz, after=_utc(first, time(0), office), until=_utc(last, schedule.at, office))
    made = set(office.release_instants(after=_utc(first, time(0), office), until=_utc(last, schedule.at, office)))
    for instant in scheduled:
        if instant not in made:
            event.add("exdate", _local(office.local_day(instant), schedule.at, office))
    return event


def _piece(
    office: OfficeRules, host: str, stamp: datetime, summary: str, start: datetime, end: datetime, description: str
) -> Event:
    local = start.astimezone(office.tz)
    event = _event(f"open-{office.slug}-{local:%Y%m%dT%H%M}@{host}", stamp, summary, local, end.astimezone(office.tz))
    event.add("description", description)
    return event


def _walk_ins(opens: datetime, closes: datetime, office: OfficeRules, cutoff: timedelta, text: dict[str, str]) -> vText:
    until = max(closes - cutoff, opens).astimezone(office.tz)
    return vText(text["walk_ins"].format(time=f"{until:%H:%M}"))


def _clear(value: datetime | date) -> datetime | date:
    if isinstance(value, datetime) and isinstance(value.tzinfo, ZoneInfo):
        return unambiguous(value, value.tzinfo)
    return value


def _weekly_dates(anchor: date, last: date) -> Iterable[date]:
    day = anchor
    while day <= last:
        yield day
        day += timedelta(days=7)


def _open_pieces(day: date, window: Window, office: OfficeRules) -> list[Interval]:
    """The window on `day` minus the closures overlapping it."""
    pieces = [(_utc(day, window.opens, office), _utc(day, window.closes, office))]
    for closure in office.closures:
        pieces = [part for piece in pieces for part in subtract(piece, closure.start, closure.end)]
    return pieces


def _utc(day: date, wall: time, office: OfficeRules) -> datetime:
    return wall_to_utc(day, wall, office.tz)


def _local(day: date, wall: time, office: OfficeRules) -> datetime:
    return wall_to_utc(day, wall, office.tz).astimezone(office.tz)
