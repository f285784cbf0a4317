"""The figures page's content in one language: key numbers, and each chart with the table it pictures."""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from rathaus import i18n
from rathaus.figures import schemas
from rathaus.figures.charts import NONE, Chart, Series, bar_chart
from rathaus.figures.periods import Period
from rathaus.i18n import N_


@dataclass(frozen=True, slots=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class Panel:
    id: str
    title: str
    note: str
    chart: Chart | None
    table: Table
    legend: list[Series] = field(default_factory=list)


class _Format:
    def __init__(self, language: str) -> None:
        self.locale = i18n.babel_locale(language)
        self.t = i18n.translations(language)

    def number(self, value: float | None) -> str:
        return NONE if value is None else format_decimal(value, format="#,##0.#", locale=self.locale)

    def percent(self, value: float | None) -> str:
        return NONE if value is None else format_percent(value, format="#,##0.#%", locale=self.locale)

    def minutes(self, value: float | None) -> str:
        return NONE if value is None else self.t.gettext("{minutes} min").format(minutes=self.number(value))


def key_figures(f: schemas.Figures, language: str) -> list[tuple[str, str]]:
    """The headline numbers as (label, value)."""
    fmt, t = _Format(language), i18n.translations(language)
    return [
        (t.gettext("Appointments"), fmt.number(f.bookings)),
        (t.gettext("Visits (tickets)"), fmt.number(f.visits)),
        (t.gettext("Booked online"), fmt.percent(f.online.share)),
        (t.gettext("No-show rate"), fmt.percent(f.no_shows.share)),
        (t.gettext("Median wait"), fmt.minutes(f.waits.median_minutes)),
        (t.gettext("Wait, 90th percentile"), fmt.minutes(f.waits.p90_minutes)),
        (t.gettext("Booked within 14 days"), fmt.percent(f.booked_within_14_days.share)),
        (t.gettext("Median days from booking to appointment"), fmt.number(f.median_lead_days)),
        (t.gettext("Cancellations"), fmt.number(f.cancellations.total)),
    ]


def panels(f: schemas.Figures, language: str) -> list[Panel]:
    """Every chart of the page with its data table."""
    fmt, t = _Format(language), i18n.translations(language)
    minutes = t.gettext("min")
    name = "name_de" if language == "de" else "name_en"
    hours = [f"{h.hour:02d}:00" for h in f.waits.by_hour]
    wait_series = [
        Series(t.gettext("Median"), "bar--a", [h.median_minutes for h in f.waits.by_hour]),
        Series(t.gettext("90th percentile"), "bar--b", [h.p90_minutes for h in f.waits.by_hour]),
    ]
    services = [getattr(s, name) for s in f.service_times]
    service_series = [
        Series(t.gettext("Mean"), "bar--a", [s.mean_minutes for s in f.service_times]),
        Series(t.gettext("Median"), "bar--b", [s.median_minutes for s in f.service_times]),
    ]
    use_series = [Series(t.gettext("Utilisation"), "bar--a", [(c.utilisation or 0) * 100 for c in f.counters])]
    share_series = [
        Series(t.gettext("Booked online"), "bar--a", [(f.online.share or 0) * 100]),
        Series(t.gettext("Walk-in"), "bar--b", [(1 - f.online.share) * 100 if f.online.share is not None else 0]),
    ]
    notice = {
        "under_1_day": t.gettext("less than 1 day"),
        "1_to_3_days": t.gettext("1 to 3 days"),
        "3_to_7_days": t.gettext("3 to 7 days"),
        "over_7_days": t.gettext("7 days or more"),
    }
    channel = {"email": t.gettext("E-mail"), "sms": t.gettext("SMS")}
    message_series = [
        Series(t.gettext("Sent"), "bar--a", [float(m.sent) for m in f.messages]),
        Series(t.gettext("Failed"), "bar--b", [float(m.failed) for m in f.messages]),
    ]
    return [
        Panel(
            "waits",
            t.gettext("Waits by hour of arrival"),
            t.gettext("From arrival (or the appointment's time, if earlier) to the call."),
            bar_chart(hours, wait_series, unit=minutes) if hours else None,
            Table(
                [t.gettext("Hour"), t.gettext("Tickets"), t.gettext("Median"), t.gettext("90th percentile")],
                [
                    [label, fmt.number(h.tickets), fmt.minutes(h.median_minutes), fmt.minutes(h.p90_minutes)]
                    for label, h in zip(hours, f.waits.by_hour, strict=True)
                ],
            ),
            wait_series,
        ),
        Panel(
            "service-times",
            t.gettext("Service times"),
            t.gettext("From the call to completion, per service or combination of services."),
            bar_chart(services, service_series, unit=minutes) if services else None,
            Table(
                [t.gettext("Services"), t.gettext("Tickets"), t.gettext("Mean"), t.gettext("Median")],
                [
                    [label, fmt.number(s.tickets), fmt.minutes(s.mean_minutes), fmt.minutes(s.median_minutes)]
                    for label, s in zip(services, f.service_times, strict=True)
                ],
            ),
            service_series,
        ),
        Panel(
            "counters",
            t.gettext("Counter utilisation"),
            t.gettext("Time with a citizen at the counter, out of the opening time so far."),
            bar_chart([c.counter for c in f.counters], use_series, unit="%", maximum=100) if f.counters else None,
            Table(
                [t.gettext("Counter"), t.gettext("Tickets"), t.gettext("Busy"), t.gettext("Utilisation")],
                [
                    [c.counter, fmt.number(c.tickets), fmt.minutes(c.busy_minutes), fmt.percent(c.utilisation)]
                    for c in f.counters
                ],
            ),
            use_series,
        ),
        Panel(
            "online",
            t.gettext("Online and walk-in"),
            t.gettext("Tickets of booked citizens and of walk-ins."),
            bar_chart([t.gettext("Share")], share_series, unit="%", maximum=100) if f.visits else None,
            Table(
                [t.gettext("Kind"), t.gettext("Tickets"), t.gettext("Share")],
                [
                    [t.gettext("Booked online"), fmt.number(f.online.count), fmt.percent(f.online.share)],
                    [
                        t.gettext("Walk-in"),
                        fmt.number(f.online.total - f.online.count),
                        fmt.percent(None if f.online.share is None else 1 - f.online.share),
                    ],
                ],
            ),
            share_series,
        ),
        Panel(
            "cancellations",
            t.gettext("Cancellations by notice"),
            t.gettext("How long before the appointment it was cancelled."),
            bar_chart(
                [notice[b.key] for b in f.cancellations.by_notice],
                [Series(t.gettext("Cancellations"), "bar--a", [float(b.count) for b in f.cancellations.by_notice])],
            )
            if f.cancellations.total
            else None,
            Table(
                [t.gettext("Notice"), t.gettext("Cancellations")],
                [[notice[b.key], fmt.number(b.count)] for b in f.cancellations.by_notice],
            ),
        ),
        Panel(
            "messages",
            t.gettext("Messages per channel"),
            t.gettext("Messages due in the period: sent (or delivered) and failed."),
            bar_chart([channel.get(m.channel, m.channel) for m in f.messages], message_series)
            if any(m.sent or m.failed for m in f.messages)
            else None,
            Table(
                [t.gettext("Channel"), t.gettext("Sent"), t.gettext("Failed"), t.gettext("Other")],
                [
                    [channel.get(m.channel, m.channel), fmt.number(m.sent), fmt.number(m.failed), fmt.number(m.other)]
                    for m in f.messages
                ],
            ),
            message_series,
        ),
    ]


STATUSES = {
    "pending": N_("Waiting for confirmation"),
    "confirmed": N_("Confirmed"),
    "checked_in": N_("Checked in"),
    "serving": N_("At the counter"),
    "completed": N_("Completed"),
    "no_show": N_("Did not come"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Not confirmed in time"),
}
REASONS = {
    "citizen": N_("by the citizen"),
    "office": N_("by the office"),
    "closure": N_("by a closure"),
    "unknown": N_("reason not recorded"),
}


def details(f: schemas.Figures, language: str) -> dict[str, Any]:
    """Smaller tables: bookings by status, cancellations by reason, the next free slot per service."""
    fmt, t = _Format(language), i18n.translations(language)
    name = "name_de" if language == "de" else "name_en"

    def label(names: dict[str, str], key: str) -> str:
        return t.gettext(names[key]) if key in names else key

    return {
        "statuses": [[label(STATUSES, s), fmt.number(n)] for s, n in f.bookings_by_status.items()],
        "reasons": [[label(REASONS, r), fmt.number(n)] for r, n in f.cancellations.by_reason.items()],
        "next_free": [
            [getattr(n, name), t.gettext("none within the booking horizon") if n.days is None else fmt.number(n.days)]
            for n in f.next_free
        ],
        **_ratings(f.ratings, fmt),
    }


def _ratings(r: schemas.Ratings | None, fmt: _Format) -> dict[str, Any]:
    """What citizens said: count and average stars per day and per service, and (for admins) the comments."""
    if r is None:
        return {"rating_days": [], "rating_services": [], "comments": None}
    return {
        "rating_days": [[s.key, fmt.number(s.ratings), fmt.number(s.average)] for s in r.by_day],
        "rating_services": [[s.key, fmt.number(s.ratings), fmt.number(s.average)] for s in r.by_service],
        "comments": None if r.comments is None else [[str(c.day), fmt.number(c.stars), c.comment] for c in r.comments],
    }


def period_choices(language: str) -> list[tuple[str, str]]:
    """The period select's options."""
    t = i18n.translations(language)
    return [("day", t.gettext("Day")), ("week", t.gettext("Week")), ("month", t.gettext("Month"))]


def period_text(period: Period, language: str) -> str:
    """The period in words: a day, a week with its dates, or a month."""
    locale, t = i18n.babel_locale(language), i18n.translations(language)
    if period.kind == "day":
        return format_date(period.first, "full", locale=locale)
    if period.kind == "week":
        return t.gettext("Week {week}: {first} to {last}").format(
            week=period.first.isocalendar().week,
            first=format_date(period.first, "long", locale=locale),
            last=format_date(period.last, "long", locale=locale),
        )
    return format_date(period.first, "LLLL y", locale=locale)


AUDIT_KINDS = {"booking": N_("Booking"), "ticket": N_("Ticket"), "closure": N_("Closure")}
TICKET_STATUSES = {
    "waiting": N_("Waiting"),
    "called": N_("Called"),
    "completed": N_("Completed"),
    "no_show": N_("Did not come"),
    "closed": N_("Closed at the end of the day"),
}


def audit_rows(audit: schemas.Audit, language: str) -> list[dict[str, Any]]:
    """The audit entries with their time and kind in words."""
    t, locale = i18n.translations(language), i18n.babel_locale(language)
    return [
        {
            "at": e.at,
            "when": format_datetime(e.at, "short", tzinfo=e.at.tzinfo, locale=locale),
            "actor": e.actor,
            "action": e.action,
            "kind_label": t.gettext(AUDIT_KINDS[e.kind]),
            "subject": e.subject,
            "from_status": _status(t, e.kind, e.from_status),
            "to_status": _status(t, e.kind, e.to_status),
            "detail": e.detail,
        }
        for e in audit.entries
    ]


def _status(t: gettext.NullTranslations, kind: str, status: str | None) -> str | None:
    names = TICKET_STATUSES if kind == "ticket" else STATUSES
    return None if status is None else t.gettext(names[status]) if status in names else status
