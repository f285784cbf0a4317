"""One error hierarchy for every domain; what people read is a msgid in the translatable catalogue."""

from __future__ import annotations

from typing import Any

from rathaus import i18n
from rathaus.i18n import N_

# code -> (HTTP status, message); the message is translated into the reader's language (rathaus/locale), and its
# {placeholders} are filled from the error's params.
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_input": (400, N_("Invalid input: {reason}")),
    "unknown_office": (404, N_("There is no office called {office}")),
    "unknown_service": (422, N_("There is no service called {service}")),
    "unknown_booking": (404, N_("Booking not found")),
    "no_services": (422, N_("Choose at least one service")),
    "duplicate_service": (422, N_("The service {service} is chosen twice")),
    "not_bookable_online": (422, N_("{service} cannot be booked online")),
    "no_counter_for_services": (422, N_("These services are not offered together at this office")),
    "start_in_past": (422, N_("That time is in the past")),
    "inside_lead_time": (422, N_("Appointments must be booked at least {minutes} minutes ahead")),
    "past_horizon": (422, N_("Appointments can be booked at most {days} days ahead")),
    "not_released": (422, N_("Appointments on that day are not released yet; see the office's release schedule")),
    "outside_hours": (422, N_("The office is not open at that time (or the appointment would end after closing)")),
    "not_on_slot": (422, N_("Appointments start on the {minutes}-minute grid from opening time")),
    "in_closure": (422, N_("The office is closed then: {reason}")),
    "slot_taken": (409, N_("Sorry, that slot has just been taken. Please choose another one.")),
    "no_contact": (422, N_("Give an e-mail address or a mobile number so that we can reach you")),
    "contact_required": (422, N_("Confirming the booking needs your {channel}")),
    "invalid_phone": (422, N_("The phone number is not a valid mobile number: {reason}")),
    "mode_not_offered": (422, N_("This appointment cannot be held {mode} at this office")),
    "call_number_required": (422, N_("Give the phone number on which we should call you")),
    "invalid_call_number": (422, N_("The phone number to call is not a valid phone number")),
    "unknown_rating": (404, N_("This rating link is unknown. Please check that it is complete.")),
    "already_rated": (409, N_("This visit has already been rated. Thank you!")),
    "rating_expired": (410, N_("This rating link has expired.")),
    "invalid_stars": (422, N_("Please choose from one to five stars")),
    "comment_too_long": (422, N_("The comment can have at most {maximum} characters")),
    "invalid_email": (422, N_("The e-mail address is invalid: {reason}")),
    # A text the schema lets through (no control characters) may still show nothing: only spaces, or
    # zero-width and other invisible characters.
    "name_required": (422, N_("Please enter your name")),
    "reason_required": (422, N_("Please give a reason for the closure")),
    "invalid_language": (422, N_("Language must be {languages}")),
    "idempotency_mismatch": (422, N_("This Idempotency-Key was already used for a different request")),
    "not_pending": (409, N_("This booking is not waiting for confirmation (status: {status})")),
    "hold_expired": (409, N_("The reservation has expired. Please book again.")),
    "wrong_verification_code": (422, N_("The confirmation code is wrong ({left} attempts left)")),
    "too_many_attempts": (429, N_("Too many wrong codes. The reservation has been released.")),
    "not_changeable": (409, N_("A booking in status {status} can no longer be changed")),
    "already_started": (409, N_("The appointment has already begun and can no longer be changed")),
    "same_time": (422, N_("The new time is the same as the old one")),
    "too_many_requests": (429, N_("Too many bookings in a short time. Please try again in a minute.")),
    "rate_limited": (
        429,
        N_("Too many requests from your connection in a short time. Please try again in {seconds} seconds."),
    ),
    "altcha_missing": (
        422,
        N_(
            "The check against robots is missing: wait until the check above the button is done (it needs "
            "JavaScript), then send again. Scripts: solve a challenge from /api/v1/altcha/challenge and send it "
            "as altcha."
        ),
    ),
    "altcha_invalid": (422, N_("The check against robots failed. Please let it run again, then send again.")),
    "altcha_expired": (422, N_("The check against robots has expired. Please let it run again, then send again.")),
    "altcha_used": (422, N_("This check against robots was already used. Please let it run again, then send again.")),
    "too_many_changes": (
        409,
        N_(
            "This appointment cannot be moved again (at most {limit} times per booking). "
            "You can cancel it and book anew."
        ),
    ),
    "unknown_feed": (404, N_("There is no such calendar")),
    "unauthorized": (401, N_("Authentication required")),
    "bad_credentials": (401, N_("Wrong username or password")),
    "forbidden": (403, N_("You are not allowed to do that")),
    "sign_in_delayed": (429, N_("Too many failed sign-ins. Please wait {seconds} seconds and try again.")),
    "sign_in_locked": (429, N_("Too many failed sign-ins: signing in is locked for {minutes} minutes.")),
    "wrong_password": (422, N_("The current password is wrong")),
    "password_too_short": (422, N_("A password needs at least {minimum} characters")),
    "password_mismatch": (422, N_("The two new passwords differ")),
    "closure_order": (422, N_("The end must be after the start")),
    "unknown_closure": (404, N_("Closure not found")),
    "booking_other_office": (409, N_("This booking is for {office}, not for this office")),
    "booking_other_day": (409, N_("This booking is for {day}, not for today")),
    "booking_not_active": (409, N_("This booking cannot be checked in (status: {status})")),
    "office_closed_now": (409, N_("The office is closed now{reason}. Tickets again from {next}.")),
    "after_cutoff": (409, N_("No more walk-ins for {service} since {cutoff}. Tickets again from {next}.")),
    "no_walk_ins": (409, N_("{service} is by appointment only. Please book online.")),
    "queue_full": (
        409,
        N_(
            "The people waiting already fill the day until closing: {service} cannot be served today. "
            "Tickets again from {next}."
        ),
    ),
    "unknown_counter": (404, N_("There is no counter {counter} here")),
    "counter_busy": (409, N_("{counter} has called {ticket}: complete it or mark it as no-show first")),
    "nothing_to_call": (404, N_("Nobody is waiting whom {counter} can serve")),
    "counter_not_on_site": (
        409,
        N_("{counter} serves only by phone or video: it does not call anyone from the waiting room"),
    ),
    "unknown_ticket": (404, N_("Ticket not found")),
    "ticket_state": (409, N_("{ticket} is {status}: that is not possible now")),
    "counter_cannot_serve": (422, N_("{counter} does not offer every service of this ticket")),
    "nothing_to_transfer": (422, N_("Name a counter or services to transfer to")),
    # Requests the framework refuses before any handler runs.
    "malformed_request": (400, N_("The request is malformed")),
    "malformed_json": (400, N_("The request body is not valid JSON")),
    "body_required": (400, N_("This request needs a JSON body")),
    "nested_too_deeply": (400, N_("The request body is nested too deeply")),
    "control_characters": (400, N_("{field} contains control characters (such as NUL), which are not allowed")),
    "number_too_large": (400, N_("The number in {field} is too large")),
    "closure_range": (422, N_("A closure must end in the future and begin at most {years} years ahead")),
    "not_found": (404, N_("There is nothing at this address")),
    "method_not_allowed": (405, N_("This address does not accept {method} (allowed: {allowed})")),
    "too_large": (413, N_("The request is too large")),
    "unsupported_media_type": (415, N_("Send the request body as JSON (Content-Type: application/json)")),
    "internal_error": (500, N_("Something went wrong on our side. Please try again later.")),
    "busy": (503, N_("Too many requests at once right now. Please try again in a minute.")),
    "http_error": (400, N_("The request could not be handled (HTTP {status})")),
    "username_taken": (409, N_("There is already a staff account called {username}")),
    "unknown_staff": (404, N_("Staff account not found")),
    "not_yourself": (409, N_("You cannot disable your own account")),
    "unknown_message": (404, N_("Message not found")),
    "not_retryable": (409, N_("Only failed or undeliverable messages can be sent again (status: {status})")),
    "invalid_config": (422, N_("The configuration was not applied: {problems}")),
    "unknown_life_event": (404, N_("There is no life event called {life_event}")),
    "unknown_itinerary": (404, N_("Itinerary not found")),
    "itinerary_days": (422, N_("Search at most {most} days ahead")),
    "itinerary_steps": (422, N_("Choose exactly one appointment for each step: {steps}")),
    "itinerary_office": (422, N_("This step cannot be done at {office} (only at: {offices})")),
    "itinerary_order": (
        422,
        N_("The appointments are in the wrong order or leave too little time to travel between the offices"),
    ),
    "itinerary_spread": (422, N_("The appointments must lie within {days} days")),
    "itinerary_verification": (422, N_("{office} confirms appointments with a code: please book it on its own")),
    "unknown_wish": (404, N_("Wish not found")),
    "wish_limit": (
        409,
        N_("You already have {limit} wishes or appointments for {service}. Withdraw or cancel one first."),
    ),
    "too_many_wish_attempts": (429, N_("Too many wrong codes. The wish has been removed; please register it again.")),
    "wish_closed": (409, N_("This wish no longer waits (status: {status})")),
    "no_offices": (422, N_("Choose at least one office")),
    "duplicate_office": (422, N_("An office is chosen twice")),
    "wish_not_offered": (422, N_("{office} does not offer these services together")),
    "wish_channel": (422, N_("Give the e-mail address or mobile number of the way you want to hear from us")),
    "wish_days_order": (422, N_("The last day must not be before the first day")),
    "wish_days_range": (422, N_("The last day must lie between today and {latest}")),
    "wish_window": (422, N_("A time window needs at least one weekday and must end after it begins")),
    "unknown_offer": (404, N_("Offer not found")),
    "offer_expired": (409, N_("Sorry, this offer has run out and the appointment went to the next person waiting.")),
    "offer_answered": (409, N_("This offer has already been answered ({status})")),
    "invalid_ordering": (422, N_("The order must be fifo or lottery")),
}

# Why a field was refused (the {reason} of "invalid_input"), from the validator's messages.
REASONS: dict[str, str] = {
    "missing": N_("the field {field} is missing"),
    "unknown": N_("the field {field} is not allowed"),
    "type": N_("{field} must be {kind}"),
    "max_length": N_("{field} may have at most {limit} characters or entries"),
    "min_length": N_("{field} needs at least {limit} characters or entries"),
    "maximum": N_("{field} must be at most {limit}"),
    "minimum": N_("{field} must be at least {limit}"),
    "timezone": N_("{field} needs a UTC offset, e.g. 2027-01-11T09:00:00+01:00"),
    "datetime": N_("{field} is not a date and time like 2027-01-11T09:00:00+01:00"),
    "date": N_("{field} is not a date like 2027-01-11"),
    "invalid": N_("{field} is invalid"),
}

# The JSON kinds a field may be expected as.
KINDS: dict[str, str] = {
    "str": N_("text"),
    "int": N_("a whole number"),
    "float": N_("a number"),
    "bool": N_("true or false"),
    "array": N_("a list"),
    "object": N_("an object"),
    "null": N_("null"),
    "datetime": N_("a date and time"),
    "date": N_("a date"),
    "time": N_("a time"),
}


class RathausError(Exception):
    """A known failure that a person can understand; `code` picks the status and the message."""

    def __init__(self, code: str, *, extra: dict[str, Any] | None = None, **params: Any) -> None:
        if code not in ERRORS:
            raise KeyError(f"no message for error code {code!r}")
        self.code = code
        self.params = params
        # Machine-readable fields answered beside "detail" (e.g. when a refused walk-in is accepted again).
        self.extra = extra or {}
        super().__init__(self.message(i18n.SOURCE_LANGUAGE))

    @property
    def status(self) -> int:
        """The HTTP status that fits."""
        return ERRORS[self.code][0]

    def message(self, language: str = i18n.DEFAULT_LANGUAGE) -> str:
        """The message in `language` (German when that language is not offered)."""
        return i18n.translate(language, ERRORS[self.code][1], **self.params)


class Phrase(i18n.LanguageDependent):
    """A catalogue msgid with its own {placeholders}, filling a placeholder of an error's message."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def in_language(self, language: str, translations: Any) -> str:
        """The phrase in `language`."""
        return i18n.translate(language, self.msgid, **self.params)
