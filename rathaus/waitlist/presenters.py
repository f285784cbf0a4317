"""Turning wishes and offers into API shapes, in the office's time zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from babel.numbers import format_decimal, format_percent

from rathaus import i18n
from rathaus.booking import presenters as booking_presenters
from rathaus.offices.rules import OfficeRules, ServiceRule
from rathaus.waitlist import schemas
from rathaus.waitlist.service import OfferView, OfficeFigures, WishView, minute_time


def wish(result: WishView) -> schemas.Wish:
    """A wish for its holder (personal data included: only the token holder sees it)."""
    w = result.wish
    offer = None
    if result.offer is not None:
        office = next((o for o in result.offices if o.id == result.offer.office_id), result.offices[0])
        offer = schemas.OfferSummary(
            office=office.slug,
            start=result.offer.start_at.astimezone(office.tz),
            end=result.offer.end_at.astimezone(office.tz),
            expires_at=result.offer.expires_at.astimezone(office.tz),
        )
    windows: dict[tuple[int, int], list[schemas.Weekday]] = {}
    for row in sorted(w.windows, key=lambda r: r.weekday):
        windows.setdefault((row.from_minute, row.to_minute), []).append(schemas.WEEKDAYS[row.weekday])
    return schemas.Wish(
        code=w.code,
        status=w.status,
        services=[s.slug for s in result.services],
        offices=[o.slug for o in result.offices],
        first_day=w.first_day,
        last_day=w.last_day,
        windows=[
            schemas.WishWindow(days, minute_time(low), minute_time(high))
            for (low, high), days in sorted(windows.items())
        ],
        channel=w.channel,
        language=w.language,
        name=w.name,
        email=w.email,
        phone=w.phone,
        place=result.place,
        offer=offer,
        manage_token=result.manage_token,
    )


def offer(result: OfferView) -> schemas.Offer:
    """An offer for the holder of its link."""
    tz = result.office.tz
    return schemas.Offer(
        status=result.offer.status,
        office=result.office.slug,
        services=[s.slug for s in result.services],
        start=result.offer.start_at.astimezone(tz),
        end=result.offer.end_at.astimezone(tz),
        expires_at=result.offer.expires_at.astimezone(tz),
        booking=None if result.booking is None else booking_presenters.booking(result.booking),
    )


def figures(result: OfficeFigures, office: OfficeRules, services: Mapping[int, ServiceRule]) -> schemas.WaitlistFigures:
    """An office's waiting-list figures, services by slug and name."""
    return schemas.WaitlistFigures(
        office=office.slug,
        services=[
            schemas.ServiceFigures(
                service=services[f.service_id].slug,
                name_de=services[f.service_id].name.get("de"),
                name_en=services[f.service_id].name.get("en"),
                wishes_waiting=f.waiting,
                offers_made=sum(f.offers.values()),
                accepted=f.offers["accepted"],
                declined=f.offers["declined"],
                expired=f.offers["expired"],
                median_days_to_appointment=f.median_days_to_appointment,
            )
            for f in result.services
        ],
        freed_slots=result.freed_slots,
        freed_slots_to_wishes=result.freed_to_wishes,
        share_to_wishes=result.share_to_wishes,
    )


@dataclass(frozen=True, slots=True)
class FiguresTable:
    """The figures as a table in one language (for the office page and the staff's figures), with the share of
    freed slots that went to wishes in words (empty while no slot was freed)."""

    headers: list[str]
    rows: list[list[str]]
    share: str


def figures_table(result: schemas.WaitlistFigures, language: str) -> FiguresTable:
    """An office's waiting-list figures per service, formatted for reading."""
    t, locale = i18n.translations(language), i18n.babel_locale(language)

    def number(value: float | None) -> str:
        return "\u2013" if value is None else format_decimal(value, format="#,##0.#", locale=locale)

    share = ""
    if result.share_to_wishes is not None:
        share = t.gettext("{share} of the freed appointments ({freed}) went to people on the waiting list.").format(
            freed=number(result.freed_slots), share=format_percent(result.share_to_wishes, locale=locale)
        )
    return FiguresTable(
        [
            t.gettext("Service"),
            t.gettext("Wishes waiting"),
            t.gettext("Offers made"),
            t.gettext("Accepted"),
            t.gettext("Declined"),
            t.gettext("Expired"),
            t.gettext("Median days from wish to appointment"),
        ],
        [
            [
                f.name_de if language == "de" else f.name_en,
                number(f.wishes_waiting),
                number(f.offers_made),
                number(f.accepted),
                number(f.declined),
                number(f.expired),
                number(f.median_days_to_appointment),
            ]
            for f in result.services
        ],
        share,
    )
