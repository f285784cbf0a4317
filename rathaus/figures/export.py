"""The figures as a CSV file: one row per value (section, item, measure, value), easy to pivot in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from litestar import Response

from rathaus.figures import schemas

Row = tuple[str, str, str, object]


def rows(f: schemas.Figures) -> Iterator[Row]:
    """Every figure as (section, item, measure, value); empty values stay empty."""
    yield "bookings", "", "total", f.bookings
    for status, count in f.bookings_by_status.items():
        yield "bookings", status, "count", count
    yield "visits", "", "total", f.visits
    yield from _share("online", f.online)
    yield from _share("no_shows", f.no_shows)
    yield "waits", "all", "tickets", f.waits.tickets
    yield "waits", "all", "median_minutes", f.waits.median_minutes
    yield "waits", "all", "p90_minutes", f.waits.p90_minutes
    for hour in f.waits.by_hour:
        item = f"{hour.hour:02d}:00"
        yield "waits", item, "tickets", hour.tickets
        yield "waits", item, "median_minutes", hour.median_minutes
        yield "waits", item, "p90_minutes", hour.p90_minutes
    for s in f.service_times:
        item = "+".join(s.services)
        yield "service_times", item, "tickets", s.tickets
        yield "service_times", item, "mean_minutes", s.mean_minutes
        yield "service_times", item, "median_minutes", s.median_minutes
    for c in f.counters:
        yield "counters", c.counter, "tickets", c.tickets
        yield "counters", c.counter, "busy_minutes", c.busy_minutes
        yield "counters", c.counter, "open_minutes", c.open_minutes
        yield "counters", c.counter, "utilisation", c.utilisation
    yield from _share("booked_within_14_days", f.booked_within_14_days)
    yield "lead_time", "", "median_days", f.median_lead_days
    for n in f.next_free:
        yield "next_free", n.service, "days", n.days
    yield "cancellations", "", "total", f.cancellations.total
    for reason, count in f.cancellations.by_reason.items():
        yield "cancellations", reason, "count", count
    for bucket in f.cancellations.by_notice:
        yield "cancellations", bucket.key, "count", bucket.count
    yield "cancellations", "", "median_notice_hours", f.cancellations.median_notice_hours
    for m in f.messages:
        yield "messages", m.channel, "sent", m.sent
        yield "messages", m.channel, "failed", m.failed
        yield "messages", m.channel, "other", m.other
    if f.ratings is not None:
        yield "ratings", "", "count", f.ratings.ratings
        yield "ratings", "", "average", f.ratings.average
        for score in [*f.ratings.by_day, *f.ratings.by_service]:
            yield "ratings", score.key, "count", score.ratings
            yield "ratings", score.key, "average", score.average
    if f.waitlist is not None:
        yield "waitlist", "", "freed_slots", f.waitlist.freed_slots
        yield "waitlist", "", "freed_slots_to_wishes", f.waitlist.freed_slots_to_wishes
        yield "waitlist", "", "share_to_wishes", f.waitlist.share_to_wishes
        for w in f.waitlist.services:
            yield "waitlist", w.service, "wishes_waiting", w.wishes_waiting
            yield "waitlist", w.service, "offers_made", w.offers_made
            yield "waitlist", w.service, "accepted", w.accepted
            yield "waitlist", w.service, "declined", w.declined
            yield "waitlist", w.service, "expired", w.expired
            yield "waitlist", w.service, "median_days_to_appointment", w.median_days_to_appointment


def _share(section: str, value: schemas.Share) -> Iterator[Row]:
    yield section, "", "count", value.count
    yield section, "", "total", value.total
    yield section, "", "share", value.share


def to_csv(f: schemas.Figures) -> str:
    """The CSV text, with a header row naming the office and the period in each line's first columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["office", "first_day", "last_day", "section", "item", "measure", "value"])
    for section, item, measure, value in rows(f):
        writer.writerow(
            [
                f.office,
                f.first_day.isoformat(),
                f.last_day.isoformat(),
                section,
                item,
                measure,
                "" if value is None else value,
            ]
        )
    return out.getvalue()


def csv_response(f: schemas.Figures) -> Response[str]:
    """The CSV as a download named after the office and the period."""
    name = f"figures-{f.office}-{f.period}-{f.first_day.isoformat()}.csv"
    return Response(
        to_csv(f),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
