"""What the waiting list announces to the packages that react (messages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rathaus.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class WishRegistered(DomainEvent):
    """A wish waits for its contact to be confirmed with `verification_code`, sent on `channel` to `recipient`."""

    wish_id: int
    channel: str
    recipient: str
    language: str
    verification_code: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferMade(DomainEvent):
    """A slot is held for a wish until `expires_at`; `sealed_token` is the offer's link token sealed with the app
    secret (only its hash is stored)."""

    offer_id: int
    booking_id: int
    office_id: int
    channel: str
    recipient: str
    language: str
    expires_at: datetime
    sealed_token: str
