"""The addresses citizens follow from waiting-list messages: built here and nowhere else."""

from __future__ import annotations

from urllib.parse import quote, urlencode


def offer_url(base_url: str, *, token: str) -> str:
    """The page where the citizen accepts or declines an offer with one click."""
    return f"{base_url.rstrip('/')}/offers/{quote(token)}"


def wish_url(base_url: str, *, code: str, token: str) -> str:
    """The page where the holder of the manage token sees, changes or withdraws a wish."""
    return f"{base_url.rstrip('/')}/wishes/{quote(code)}?{urlencode({'token': token})}"
