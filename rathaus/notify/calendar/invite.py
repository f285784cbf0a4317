"""The calendar object of one booking: an invitation (REQUEST), its cancellation (CANCEL) or a download (PUBLISH)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from icalendar import Alarm, Calendar, Event, vCalAddress, vText, vUri

from rathaus import i18n
from rathaus.booking.models import Booking
from rathaus.i18n import N_
from rathaus.notify.calendar.vtimezone import unambiguous, vtimezone
from rathaus.offices.rules import OfficeRules, ServiceRule

PRODID = "-//rathaus//Termine 1.0//DE"
METHODS = ("REQUEST", "CANCEL", "PUBLISH")
_TEXT = {
    "summary": N_("Appointment {office}: {services}"),
    "bring": N_("Please bring"),
    "code": N_("Booking code (show it when you arrive)"),
    "manage": N_("View, move or cancel the appointment"),
    "alarm": N_("Appointment in one hour: {office}"),
    "cancelled": N_("CANCELLED"),
    "video": N_("Video meeting"),
    "video_location": N_("Video meeting: {url}"),
    "phone": N_("{office} calls you on {number}"),
}


def host_of(public_base_url: str) -> str:
    """The host name used in UIDs."""
    return urlsplit(public_base_url).hostname or "localhost"


def organizer_address(mail_from: str | None, public_base_url: str) -> str:
    """The ORGANIZER's address: the sender of our e-mails (RFC 5546 3.2: the organizer sends REQUEST and CANCEL),
    else noreply at the public host."""
    address = parseaddr(mail_from or "")[1]
    return address if "@" in address else f"noreply@{host_of(public_base_url)}"


def booking_invitation(
    *,
    booking: Booking,
    office: OfficeRules,
    services: list[ServiceRule],
    method: str,
    manage_url: str | None,
    language: str,
    public_base_url: str,
    organizer: str | None = None,
) -> bytes:
    """The booking as iCalendar bytes; one UID for its whole life, SEQUENCE growing with every change.

    `organizer` is the mail sender (RATHAUS_MAIL_FROM). A CANCEL names the same ATTENDEE as the REQUEST it
    cancels (RFC 5546 3.2.5), so that clients match it to the event they hold.
    """
    return itinerary_invitation(
        parts=[CalendarPart(booking, office, services, manage_url)],
        method=method,
        language=language,
        public_base_url=public_base_url,
        organizer=organizer,
    )


@dataclass(frozen=True, slots=True)
class CalendarPart:
    """One booking in a calendar object, with the address where its holder manages it."""

    booking: Booking
    office: OfficeRules
    services: list[ServiceRule]
    manage_url: str | None


def itinerary_invitation(
    *,
    parts: Sequence[CalendarPart],
    method: str,
    language: str,
    public_base_url: str,
    organizer: str | None = None,
) -> bytes:
    """Bookings (the parts of an itinerary, or one booking) as one calendar object, one event per booking.

    Each event keeps its booking's UID, so that a part cancelled or moved alone later replaces just that event.
    A cancelled part is written as cancelled; the method becomes CANCEL only when every part is.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    t = i18n.translations(language)
    text = {key: t.gettext(msgid) for key, msgid in _TEXT.items()}
    host = host_of(public_base_url)
    ended = [method == "CANCEL" or p.booking.status in {"cancelled", "expired"} for p in parts]
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    method = "CANCEL" if all(ended) and method != "PUBLISH" else method
    calendar.add("method", method)
    for tz in {p.office.tz.key: p.office.tz for p in parts}.values():
        mine = [p.booking for p in parts if p.office.tz.key == tz.key]
        first, last = min(b.start_at for b in mine).astimezone(tz), max(b.end_at for b in mine).astimezone(tz)
        calendar.add_component(vtimezone(tz, first=first.date(), last=last.date() + timedelta(days=1)))
    sender_address = organizer_address(organizer, public_base_url)
    for part, cancelled in zip(parts, ended, strict=True):
        booking, office = part.booking, part.office
        event = _event(part, cancelled=cancelled, language=language, text=text, host=host)
        sender = vCalAddress(f"mailto:{sender_address}")
        sender.params["cn"] = vText(office.name.get(language))
        event.add("organizer", sender)
        if method in {"REQUEST", "CANCEL"} and booking.email:
            attendee = vCalAddress(f"mailto:{booking.email}")
            attendee.params.update(
                {
                    "cn": vText(booking.name or booking.email),
                    "role": "REQ-PARTICIPANT",
                    "partstat": "NEEDS-ACTION",
                    "rsvp": "FALSE",
                }
            )
            event.add("attendee", attendee)
        if not cancelled:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", timedelta(hours=-1))
            alarm.add("description", text["alarm"].format(office=office.name.get(language)))
            event.add_component(alarm)
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def _event(part: CalendarPart, *, cancelled: bool, language: str, text: dict[str, str], host: str) -> Event:
    booking, office, services, manage_url = part.booking, part.office, part.services, part.manage_url
    office_name = office.name.get(language)
    start, end = booking.start_at.astimezone(office.tz), booking.end_at.astimezone(office.tz)
    event = Event()
    event.add("uid", f"booking-{booking.code}@{host}")
    event.add("sequence", booking.ical_sequence)
    event.add("dtstamp", booking.updated_at)
    event.add("dtstart", unambiguous(start, office.tz))
    event.add("dtend", unambiguous(end, office.tz))
    names = ", ".join(s.name.get(language) for s in services)
    summary = text["summary"].format(office=office_name, services=names)
    event.add("summary", f"{text['cancelled']}: {summary}" if cancelled else summary)
    event.add("status", "CANCELLED" if cancelled else ("TENTATIVE" if booking.status == "pending" else "CONFIRMED"))
    how = _how(booking, office_name, text)
    _add_place(event, office, office_name, how)
    event.add("description", _description(booking, services, manage_url, language, text, how))
    meeting = booking.meeting_url if booking.mode == "video" and not cancelled else None
    if meeting:
        add_conference(event, meeting, text["video"])
    elif manage_url:
        event.add("url", manage_url)
    return event


def _how(booking: Booking, office_name: str, text: dict[str, str]) -> str | None:
    """How a phone or video appointment takes place, in a line; None for one at the office."""
    if booking.mode == "video" and booking.meeting_url:
        return text["video_location"].format(url=booking.meeting_url)
    if booking.mode == "phone" and booking.call_number:
        return text["phone"].format(office=office_name, number=booking.call_number)
    return None


def add_conference(event: Event, meeting: str, label: str) -> None:
    """RFC 7986 5.11 CONFERENCE; clients without it find the link in URL, LOCATION and DESCRIPTION."""
    conference = vUri(meeting)
    conference.params.update({"VALUE": "URI", "LABEL": label})
    conference.params["FEATURE"] = ["AUDIO", "VIDEO"]  # a list: written unquoted, as RFC 7986 shows it
    event.add("conference", conference)
    event.add("url", meeting)


def _add_place(event: Event, office: OfficeRules, office_name: str, how: str | None) -> None:
    """Where the appointment is: the video meeting or the call to the citizen, else the office's address."""
    if how is not None:
        event.add("location", vText(how))
        return
    address = str(office.extra.get("address", ""))
    if address:
        event.add("location", vText(f"{office_name}, {address}"))
    latitude, longitude = office.extra.get("latitude"), office.extra.get("longitude")
    if isinstance(latitude, float) and isinstance(longitude, float):
        event.add("geo", (latitude, longitude))


def _description(
    booking: Booking,
    services: list[ServiceRule],
    manage_url: str | None,
    language: str,
    text: dict[str, str],
    how: str | None,
) -> str:
    lines = [] if how is None else [how]
    for s in services:
        name, bring = s.name.get(language), s.bring.get(language)
        lines.append(f"{name}: {text['bring']}: {bring}" if bring else name)
    lines.append(f"{text['code']}: {booking.code}")
    if manage_url:
        lines.append(f"{text['manage']}: {manage_url}")
    return "\n".join(lines)
