"""Answering an offer by SMS: the reply comes from the number the offer was sent to, so no link is needed.

The number is the only key an SMS reply carries. A reply therefore answers an offer only when exactly one offer
sent by SMS to that number is open; with several open, guessing which one is meant could take the wrong
appointment, so the citizen is asked to answer by the links instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import operation
from rathaus.errors import RathausError
from rathaus.waitlist._offers import OfferView, accept_found, decline_found, view_offer
from rathaus.waitlist._wishes import WaitlistContext
from rathaus.waitlist.models import Offer, Wish

SmsOutcome = Literal["accepted", "declined", "expired", "answered", "several", "none"]


@dataclass(frozen=True, slots=True)
class SmsAnswer:
    outcome: SmsOutcome
    # The offer answered (or found run out or answered before); None for "several" and "none".
    offer: OfferView | None = None


@operation
async def answer_by_sms(
    session: AsyncSession, *, ctx: WaitlistContext, phone: str, accept: bool, now: datetime
) -> SmsAnswer:
    """Accept or decline the one open offer sent by SMS to `phone`."""
    open_offers = (
        await session.scalars(
            select(Offer)
            .join(Wish, Wish.id == Offer.wish_id)
            .where(Wish.phone == phone, Offer.channel == "sms", Offer.status == "open")
            .order_by(Offer.expires_at)
        )
    ).all()
    if not open_offers:
        return SmsAnswer("none")
    running = [offer for offer in open_offers if offer.expires_at > now]
    if len(running) > 1:
        return SmsAnswer("several")
    # One running offer, or only offers run out that the expiry job has not reached yet (the answer says so).
    found = await view_offer(session, ctx=ctx, offer=(running or open_offers)[0], now=now)
    try:
        if accept:
            return SmsAnswer("accepted", await accept_found(session, ctx=ctx, found=found, now=now))
        return SmsAnswer("declined", await decline_found(session, ctx=ctx, found=found, now=now))
    except RathausError as error:
        if error.code == "offer_expired":
            return SmsAnswer("expired", found)
        if error.code == "offer_answered":
            return SmsAnswer("answered", found)
        raise
