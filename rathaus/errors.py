"""One error hierarchy for every domain, with a bilingual catalogue of what people read."""

from __future__ import annotations

from typing import Any

# code -> (status, German, English); {placeholders} are filled from the error's params.
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "invalid_input": (400, "Ungültige Eingabe: {reason}", "Invalid input: {reason}"),
    "unknown_office": (404, "Dieses Amt gibt es nicht: {office}", "There is no office called {office}"),
    "unknown_service": (
        422,
        "Diese Dienstleistung gibt es nicht: {service}",
        "There is no service called {service}",
    ),
    "unknown_booking": (404, "Buchung nicht gefunden", "Booking not found"),
    "no_services": (422, "Bitte mindestens eine Dienstleistung wählen", "Choose at least one service"),
    "duplicate_service": (
        422,
        "Die Dienstleistung {service} ist doppelt gewählt",
        "The service {service} is chosen twice",
    ),
    "not_bookable_online": (
        422,
        "{service} kann nicht online gebucht werden",
        "{service} cannot be booked online",
    ),
    "no_counter_for_services": (
        422,
        "Diese Dienstleistungen werden hier nicht zusammen angeboten",
        "These services are not offered together at this office",
    ),
    "start_in_past": (422, "Dieser Zeitpunkt liegt in der Vergangenheit", "That time is in the past"),
    "inside_lead_time": (
        422,
        "Termine können frühestens {minutes} Minuten im Voraus gebucht werden",
        "Appointments must be booked at least {minutes} minutes ahead",
    ),
    "past_horizon": (
        422,
        "Termine können höchstens {days} Tage im Voraus gebucht werden",
        "Appointments can be booked at most {days} days ahead",
    ),
    "outside_hours": (
        422,
        "Zu diesem Zeitpunkt ist das Amt nicht geöffnet (oder der Termin endet nach Schließung)",
        "The office is not open at that time (or the appointment would end after closing)",
    ),
    "not_on_slot": (
        422,
        "Termine beginnen im {minutes}-Minuten-Raster ab Öffnung",
        "Appointments start on the {minutes}-minute grid from opening time",
    ),
    "in_closure": (
        422,
        "An diesem Tag/zu dieser Zeit ist das Amt geschlossen: {reason}",
        "The office is closed then: {reason}",
    ),
    "slot_taken": (
        409,
        "Dieser Termin ist leider schon vergeben. Bitte wählen Sie einen anderen.",
        "Sorry, that slot has just been taken. Please choose another one.",
    ),
    "no_contact": (
        422,
        "Bitte eine E-Mail-Adresse oder Mobilnummer angeben, damit wir Sie erreichen können",
        "Give an e-mail address or a mobile number so that we can reach you",
    ),
    "contact_required": (
        422,
        "Für die Bestätigung wird {channel} benötigt",
        "Confirming the booking needs your {channel}",
    ),
    "invalid_phone": (
        422,
        "Die Telefonnummer ist keine gültige Mobilnummer: {reason}",
        "The phone number is not a valid mobile number: {reason}",
    ),
    "invalid_email": (422, "Die E-Mail-Adresse ist ungültig: {reason}", "The e-mail address is invalid: {reason}"),
    "invalid_language": (422, "Sprache muss de oder en sein", "Language must be de or en"),
    "idempotency_mismatch": (
        422,
        "Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet",
        "This Idempotency-Key was already used for a different request",
    ),
    "not_pending": (
        409,
        "Diese Buchung wartet nicht auf Bestätigung (Status: {status})",
        "This booking is not waiting for confirmation (status: {status})",
    ),
    "hold_expired": (
        409,
        "Die Reservierung ist abgelaufen. Bitte buchen Sie neu.",
        "The reservation has expired. Please book again.",
    ),
    "wrong_verification_code": (
        422,
        "Der Bestätigungscode ist falsch ({left} Versuche übrig)",
        "The confirmation code is wrong ({left} attempts left)",
    ),
    "too_many_attempts": (
        429,
        "Zu viele falsche Codes. Die Reservierung wurde freigegeben.",
        "Too many wrong codes. The reservation has been released.",
    ),
    "not_changeable": (
        409,
        "Eine Buchung im Status {status} kann nicht mehr geändert werden",
        "A booking in status {status} can no longer be changed",
    ),
    "already_started": (
        409,
        "Der Termin hat bereits begonnen und kann nicht mehr geändert werden",
        "The appointment has already begun and can no longer be changed",
    ),
    "same_time": (422, "Der neue Termin ist derselbe wie der alte", "The new time is the same as the old one"),
    "too_many_requests": (
        429,
        "Zu viele Buchungen in kurzer Zeit. Bitte versuchen Sie es in einer Minute wieder.",
        "Too many bookings in a short time. Please try again in a minute.",
    ),
    "unknown_feed": (404, "Diesen Kalender gibt es nicht", "There is no such calendar"),
    "unauthorized": (401, "Anmeldung erforderlich", "Authentication required"),
    "bad_credentials": (401, "Benutzername oder Passwort falsch", "Wrong username or password"),
    "forbidden": (403, "Dafür fehlt die Berechtigung", "You are not allowed to do that"),
    "closure_order": (422, "Das Ende muss nach dem Beginn liegen", "The end must be after the start"),
    "unknown_closure": (404, "Schließung nicht gefunden", "Closure not found"),
    "booking_other_office": (
        409,
        "Diese Buchung gilt für {office}, nicht für dieses Amt",
        "This booking is for {office}, not for this office",
    ),
    "booking_other_day": (
        409,
        "Diese Buchung ist für den {day}, nicht für heute",
        "This booking is for {day}, not for today",
    ),
    "booking_not_active": (
        409,
        "Mit dieser Buchung ist kein Check-in möglich (Status: {status})",
        "This booking cannot be checked in (status: {status})",
    ),
    "office_closed_now": (
        409,
        "Das Amt ist jetzt geschlossen{reason}. Wartenummern wieder ab {next}.",
        "The office is closed now{reason}. Tickets again from {next}.",
    ),
    "after_cutoff": (
        409,
        "Annahmeschluss für {service} war um {cutoff}. Wartenummern wieder ab {next}.",
        "No more walk-ins for {service} since {cutoff}. Tickets again from {next}.",
    ),
    "no_walk_ins": (
        409,
        "{service} gibt es nur mit Termin. Bitte buchen Sie online.",
        "{service} is by appointment only. Please book online.",
    ),
    "queue_full": (
        409,
        "Die Wartenden reichen schon bis zum Dienstschluss: {service} ist heute nicht mehr zu schaffen. "
        "Wartenummern wieder ab {next}.",
        "The people waiting already fill the day until closing: {service} cannot be served today. "
        "Tickets again from {next}.",
    ),
    "unknown_counter": (404, "Diesen Schalter gibt es hier nicht: {counter}", "There is no counter {counter} here"),
    "counter_busy": (
        409,
        "{counter} hat {ticket} aufgerufen: bitte erst abschließen oder als nicht erschienen markieren",
        "{counter} has called {ticket}: complete it or mark it as no-show first",
    ),
    "nothing_to_call": (
        404,
        "Niemand wartet, den {counter} bedienen kann",
        "Nobody is waiting whom {counter} can serve",
    ),
    "unknown_ticket": (404, "Wartenummer nicht gefunden", "Ticket not found"),
    "ticket_state": (
        409,
        "{ticket} ist {status}: das ist jetzt nicht möglich",
        "{ticket} is {status}: that is not possible now",
    ),
    "counter_cannot_serve": (
        422,
        "{counter} bietet nicht alle Dienstleistungen dieser Wartenummer an",
        "{counter} does not offer every service of this ticket",
    ),
    "nothing_to_transfer": (
        422,
        "Bitte einen Schalter oder Dienstleistungen für die Weiterleitung angeben",
        "Name a counter or services to transfer to",
    ),
}


class RathausError(Exception):
    """A known failure that a person can understand; `code` picks the message from CATALOGUE."""

    def __init__(self, code: str, *, extra: dict[str, Any] | None = None, **params: Any) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"no message for error code {code!r}")
        self.code = code
        self.params = params
        # Machine-readable fields answered beside "detail" (e.g. when a refused walk-in is accepted again).
        self.extra = extra or {}
        super().__init__(self.message("en"))

    @property
    def status(self) -> int:
        """The HTTP status that fits."""
        return CATALOGUE[self.code][0]

    def message(self, language: str = "de") -> str:
        """The message in German or English."""
        _, german, english = CATALOGUE[self.code]
        template = english if language == "en" else german
        return template.format(**self.params)
