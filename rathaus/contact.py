"""Normalising how citizens can be reached: E.164 mobile numbers and deliverable-looking e-mail addresses."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from rathaus.errors import RathausError

_SMS_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_mobile(raw: str, *, region: str = "DE") -> str:
    """A mobile number in E.164 form, or the invalid_phone error (landlines cannot receive SMS)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise RathausError("invalid_phone", reason="not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise RathausError("invalid_phone", reason="no such number")
    if phonenumbers.number_type(number) not in _SMS_TYPES:
        raise RathausError("invalid_phone", reason="not a mobile number; please give an e-mail address instead")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_number(raw: str, *, region: str = "DE") -> str:
    """Any valid phone number (a landline too: it is called, not texted) in E.164 form, or invalid_call_number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise RathausError("invalid_call_number") from None
    if not phonenumbers.is_valid_number(number):
        raise RathausError("invalid_call_number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """The e-mail address in normalised form (no DNS look-up), or the invalid_email error."""
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise RathausError("invalid_email", reason=str(error)) from None
