"""SMS from citizens: STOP/START mirrored locally, CANCEL for the next appointment, ACCEPT/DECLINE for an offer.

Each keyword is the word of every offered language (the catalogues' "SMS keyword" entries) plus a few that people
also send; the language of the word chooses the language of the answer when nothing else tells it.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n
from rathaus.booking import service as bookings
from rathaus.db import operation
from rathaus.i18n import N_
from rathaus.notify.render import when
from rathaus.notify.service import opt_in, opt_out
from rathaus.waitlist import service as waitlist
from rathaus.waitlist.service import WaitlistContext

STOP_WORDS = frozenset({"STOP", "STOPP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT", "ABMELDEN"})
START_WORDS = frozenset({"START", "UNSTOP", "YES", "ANMELDEN"})
# Words besides each language's own (see `keywords`). YES is also Twilio's opt-in word: it answers an offer only
# when one is open for the number, and opts in otherwise.
MORE_CANCEL_WORDS = {"STORNO": "de"}
MORE_ACCEPT_WORDS = {"YES": "en", "ANNEHMEN": "de"}
MORE_DECLINE_WORDS = {"NO": "en", "ABLEHNEN": "de"}
_REPLY_CANCELLED = N_("Your appointment {when} at {office} is cancelled.")
_REPLY_NOTHING = N_("We found no upcoming appointment for this number.")
_REPLY_ACCEPTED = N_("Thank you: your appointment {when} at {office} is booked. Code {code}.")
_REPLY_DECLINED = N_("Thank you: the appointment {when} goes to the next person waiting. Your wish keeps its place.")
_REPLY_EXPIRED = N_("Sorry, the offer of {when} has run out and went to the next person waiting.")
_REPLY_ANSWERED = N_("The offer of {when} was already answered.")
_REPLY_SEVERAL = N_("You have several open offers. Please answer each one with the link in its message.")
_REPLY_NO_OFFER = N_("We found no open offer for this number.")


@dataclass(frozen=True, slots=True)
class InboundResult:
    action: str  # opt_out | opt_in | cancelled | nothing | ignored, or an offer's SmsAnswer outcome
    reply: str | None = None


def keywords(word: Callable[[gettext.NullTranslations], str], more: dict[str, str]) -> dict[str, str]:
    """An SMS keyword (`word` of a language's catalogue) in every offered language, and `more` -> their language."""
    words = dict(more)
    # The default language last, so that it keeps a word that another catalogue leaves untranslated.
    for language in reversed(i18n.languages()):
        words[word(i18n.translations(language)).upper()] = language
    return words


def cancel_words() -> dict[str, str]:
    """The words that cancel the next appointment by SMS -> the language they are in."""
    # Translators: the word citizens send by SMS to cancel their appointment (the SMS texts name it).
    return keywords(lambda t: t.pgettext("SMS keyword", "CANCEL"), MORE_CANCEL_WORDS)


def accept_words() -> dict[str, str]:
    """The words that accept an offer by SMS -> their language."""
    # Translators: the word citizens send by SMS to accept an offered appointment (the offer SMS names it).
    return keywords(lambda t: t.pgettext("SMS keyword", "ACCEPT"), MORE_ACCEPT_WORDS)


def decline_words() -> dict[str, str]:
    """The words that decline an offer by SMS -> their language."""
    # Translators: the word citizens send by SMS to decline an offered appointment (the offer SMS names it).
    return keywords(lambda t: t.pgettext("SMS keyword", "DECLINE"), MORE_DECLINE_WORDS)


@operation
async def inbound_sms(
    session: AsyncSession,
    *,
    ctx: WaitlistContext,
    phone: str,
    body: str,
    opt_out_type: str | None,
    now: datetime,
) -> InboundResult:
    """A citizen's SMS; the answer (if any) goes back as the reply."""
    words = body.strip().upper().split()
    first = words[0] if words else ""
    # Checked before the opt-out words: Twilio counts CANCEL among them, but here it means the appointment.
    cancelling = cancel_words()
    if first in cancelling:
        return await _cancel(session, ctx=ctx.booking, phone=phone, language=cancelling[first], now=now)
    accepting, declining = accept_words(), decline_words()
    if first in accepting or first in declining:
        answered = await _answer(
            session,
            ctx=ctx,
            phone=phone,
            accept=first in accepting,
            language=accepting.get(first) or declining[first],
            now=now,
        )
        if answered.action != "none" or first not in START_WORDS:
            return answered
    keyword = (opt_out_type or "").upper() or first
    if keyword in STOP_WORDS:
        await opt_out(session, phone=phone, now=now)
        return InboundResult("opt_out")
    if keyword in START_WORDS:
        await opt_in(session, phone=phone)
        return InboundResult("opt_in")
    return InboundResult("ignored")


async def _cancel(
    session: AsyncSession, *, ctx: bookings.BookingContext, phone: str, language: str, now: datetime
) -> InboundResult:
    booking = await bookings.next_by_phone(session, phone=phone, now=now)
    if booking is None:
        # No booking tells the language: the cancel word does.
        return InboundResult("nothing", i18n.translate(language, _REPLY_NOTHING))
    await bookings.cancel_booking(session, ctx=ctx, booking=booking, reason="citizen", actor="sms", now=now)
    office = (await ctx.catalog.get(session, now=now)).office_by_id(booking.office_id)
    language = i18n.choose(booking.language)
    return InboundResult(
        "cancelled",
        i18n.translate(
            language,
            _REPLY_CANCELLED,
            when=when(booking.start_at, office.tz, language),
            office=office.name.get(language),
        ),
    )


async def _answer(
    session: AsyncSession, *, ctx: WaitlistContext, phone: str, accept: bool, language: str, now: datetime
) -> InboundResult:
    answer = await waitlist.answer_by_sms(session, ctx=ctx, phone=phone, accept=accept, now=now)
    if answer.offer is None:
        reply = _REPLY_SEVERAL if answer.outcome == "several" else _REPLY_NO_OFFER
        return InboundResult(answer.outcome, i18n.translate(language, reply))
    found = answer.offer
    language = i18n.choose(found.wish.language)
    message = {
        "accepted": _REPLY_ACCEPTED,
        "declined": _REPLY_DECLINED,
        "expired": _REPLY_EXPIRED,
        "answered": _REPLY_ANSWERED,
    }[answer.outcome]
    return InboundResult(
        answer.outcome,
        i18n.translate(
            language,
            message,
            when=when(found.offer.start_at, found.office.tz, language),
            office=found.office.name.get(language),
            code=found.booking.booking.code if found.booking is not None else "",
        ),
    )
