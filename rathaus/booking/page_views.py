"""What the booking pages show, in the reader's language and the office's time zone: dates, a month, a QR code."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import qrcode
from babel.dates import format_date, get_day_names
from markupsafe import Markup, escape

from rathaus import i18n
from rathaus.i18n import N_

# Translators: a full date as a CLDR pattern (EEEE weekday, d day, MMMM month, y year), e.g.
# "Thursday, 3 December 2026"; see https://cldr.unicode.org/translation/date-time/date-time-patterns
_FULL_DATE = N_("EEEE, d MMMM y")
# Translators: a month above the calendar of free days as a CLDR pattern, e.g. "December 2026".
_MONTH = N_("LLLL y")
# Translators: an appointment's full date and its time of day, e.g. "Thursday, 3 December 2026, 11:00 to 11:15".
_DATE_AND_TIMES = N_("{date}, {start} to {end}")


def full_date(day: date, language: str) -> str:
    """A date as people say it: "Donnerstag, 3. Dezember 2026"."""
    pattern = i18n.translations(language).gettext(_FULL_DATE)
    return format_date(day, pattern, locale=i18n.babel_locale(language))


def appointment(start: datetime, end: datetime, tz: ZoneInfo, language: str) -> str:
    """An appointment as people say it, in the office's zone: "Thursday, 3 December 2026, 11:00 to 11:15"."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    return i18n.translate(
        language,
        _DATE_AND_TIMES,
        date=full_date(local_start.date(), language),
        start=f"{local_start:%H:%M}",
        end=f"{local_end:%H:%M}",
    )


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    name: str  # the full date, for screen readers
    url: str | None  # where its free times are; None on days without any


@dataclass(frozen=True, slots=True)
class Month:
    caption: str
    weekdays: list[tuple[str, str]]  # (short, full) names, Monday first
    weeks: list[list[Day | None]]
    previous_url: str | None
    next_url: str | None


def month_view(
    first: date,
    *,
    free: set[date],
    language: str,
    time_url: str,
    month_url: str,
    earliest: date,
    latest: date,
) -> Month:
    """The calendar of one month with its free days as links, and links to the neighbouring months in the window."""
    locale = i18n.babel_locale(language)
    short = get_day_names("abbreviated", locale=locale)
    wide = get_day_names("wide", locale=locale)
    weeks: list[list[Day | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        weeks.append(
            [
                None
                if d.month != first.month
                else Day(d, full_date(d, language), _with(time_url, date=d.isoformat()) if d in free else None)
                for d in week
            ]
        )
    before = (first - timedelta(days=1)).replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    pattern = i18n.translations(language).gettext(_MONTH)
    return Month(
        caption=format_date(first, pattern, locale=locale),
        weekdays=[(short[i], wide[i]) for i in range(7)],
        weeks=weeks,
        previous_url=_with(month_url, month=before.strftime("%Y-%m")) if before >= earliest.replace(day=1) else None,
        next_url=_with(month_url, month=after.strftime("%Y-%m")) if after <= latest else None,
    )


def _with(url: str, **params: str) -> str:
    return f"{url}&{urlencode(params)}"


def qr_svg(data: str, labelled_by: str) -> Markup:
    """A QR code of `data` as inline SVG (one path, no script), named by the element with id `labelled_by`."""
    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    path = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    size = len(matrix)
    # Safe to mark: the markup holds numbers only, and the one text is escaped.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
        f'aria-labelledby="{escape(labelled_by)}"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
