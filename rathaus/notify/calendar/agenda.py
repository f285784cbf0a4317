"""Staff agenda feeds: a secret, revocable URL per staff member showing one office's appointments."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking import service as booking
from rathaus.booking.service import BookingContext
from rathaus.errors import RathausError
from rathaus.notify.calendar.invite import PRODID, add_conference, host_of
from rathaus.notify.calendar.models import AgendaFeed
from rathaus.notify.calendar.vtimezone import unambiguous, vtimezone
from rathaus.staff.service import Staff
from rathaus.tokens import hash_secret

PAST = timedelta(days=7)
# Status in the feed: a pending booking (not yet verified, its hold may expire) is not a fixed appointment yet.
_STATUS = {"pending": "TENTATIVE", "cancelled": "CANCELLED", "expired": "CANCELLED"}


async def create_feed(session: AsyncSession, *, staff: Staff, office_id: int, now: datetime) -> tuple[int, str]:
    """A new agenda feed of `office_id` for `staff` (desk role suffices); returns its id and secret token."""
    staff.require(office_id)
    token = secrets.token_urlsafe(32)
    feed = AgendaFeed(token_hash=hash_secret(token), user_id=staff.id, office_id=office_id, created_at=now)
    session.add(feed)
    await session.flush()
    return feed.id, token


async def revoke_feed(session: AsyncSession, *, staff: Staff, office_id: int, feed_id: int, now: datetime) -> None:
    """Revoke a feed: its owner or an admin of the office may."""
    feed = await session.get(AgendaFeed, feed_id)
    if feed is None or feed.office_id != office_id:
        raise RathausError("unknown_feed")
    if feed.user_id != staff.id:
        staff.require(office_id, role="admin")
    feed.revoked_at = feed.revoked_at or now


# How a remote appointment shows in the staff's calendar (German, as the rest of the feed).
_MODE_SUFFIX = {"phone": " (Telefon)", "video": " (Video)"}


async def agenda_calendar(
    session: AsyncSession, *, ctx: BookingContext, token: str, public_base_url: str, now: datetime
) -> bytes:
    """The office's appointments from a week ago to as far ahead as citizens can book; names only if the office
    allows it."""
    feed = await session.scalar(
        select(AgendaFeed).where(AgendaFeed.token_hash == hash_secret(token), AgendaFeed.revoked_at.is_(None))
    )
    if feed is None:
        raise RathausError("unknown_feed")
    snapshot = await ctx.catalog.get(session, now=now)
    office = snapshot.office_by_id(feed.office_id)
    host = host_of(public_base_url)
    counters = {c.id: c.name for c in office.counters}
    ahead = office.horizon + timedelta(days=1)  # the latest bookable start is now + horizon; its day in full
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # A subscription, not an iTIP message: no METHOD (see the public feeds).
    calendar.add("name", f"{office.name.get('de')}: Termine")
    calendar.add("x-wr-calname", f"{office.name.get('de')}: Termine")
    calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    calendar.add_component(vtimezone(office.tz, first=(now - PAST).date(), last=(now + ahead).date()))
    for b in await booking.agenda(session, office_id=office.id, since=now - PAST, until=now + ahead):
        services = ", ".join(snapshot.services_by_id[item.service_id].name.get("de") for item in b.items)
        title = f"{b.code}: {services}{_MODE_SUFFIX.get(b.mode, '')}"
        if office.agenda_shows_names and b.name:
            title = f"{title} ({b.name})"
        event = Event()
        event.add("uid", f"agenda-{b.code}@{host}")
        event.add("sequence", b.ical_sequence)
        event.add("dtstamp", b.updated_at)
        event.add("dtstart", unambiguous(b.start_at, office.tz))
        event.add("dtend", unambiguous(b.end_at, office.tz))
        event.add("summary", title)
        event.add("location", counters.get(b.counter_id, ""))
        event.add("status", _STATUS.get(b.status, "CONFIRMED"))
        event.add("categories", [b.status])
        if b.mode == "video" and b.meeting_url:
            add_conference(event, b.meeting_url, "Videotermin")
        if b.mode == "phone" and b.call_number and office.agenda_shows_names:
            event.add("description", f"Anruf: {b.call_number}")
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
