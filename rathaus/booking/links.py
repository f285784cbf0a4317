"""The addresses citizens follow from messages and calendars: built here and nowhere else."""

from __future__ import annotations

from urllib.parse import quote, urlencode


def manage_url(base_url: str, *, code: str, token: str) -> str:
    """The page where the holder of the manage token sees, moves or cancels the booking."""
    return f"{base_url.rstrip('/')}/bookings/{quote(code)}?{urlencode({'token': token})}"


def rebook_url(base_url: str, *, office_slug: str) -> str:
    """Where to book again at the office (after a cancellation or a closure)."""
    return f"{base_url.rstrip('/')}/?{urlencode({'office': office_slug})}"
