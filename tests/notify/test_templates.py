"""Every message kind renders in German and English; SMS fit one GSM-7 segment; HTML is escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from rathaus.notify.policy import DEFAULT, Policy, outside_quiet_hours, reminder_times
from rathaus.notify.render import qr_png, render, sms_units, when
from rathaus.notify.service import KINDS

BERLIN = ZoneInfo("Europe/Berlin")


def context(lang: str, **extra: object) -> dict[str, object]:
    values: dict[str, object] = {
        "office_name": "Bürgeramt Mitte",
        "office_address": "Karl-Marx-Allee 31, 10178 Berlin",
        "when": when(datetime(2027, 3, 29, 8, 15, tzinfo=UTC), BERLIN, lang),
        "code": "K7M2XQ4P",
        "services": ["Personalausweis beantragen"],
        "bring": [{"service": "Personalausweis", "text": "Altes Ausweisdokument, ein biometrisches Foto"}],
        "manage_url": "https://termine.example.org/bookings/K7M2XQ4P?token=abc",
        "rebook_url": "https://termine.example.org/?office=mitte",
        "verification_code": "123456",
        "reason": "closure",
        "closure_reason": "Stromausfall",
        "ticket": "A017",
        "counter": "Schalter 3",
        "ahead": 3,
        "qr_cid": "qr.1@rathaus",
        "public_base_url": "https://termine.example.org",
        "offer_url": "https://termine.example.org/offers/" + "t" * 43,
        "offer_expires": when(datetime(2027, 3, 28, 8, 15, tzinfo=UTC), BERLIN, lang),
        "rating_url": "https://termine.example.org/rate/" + "x" * 43,  # a token of 256 bits
    }
    values.update(extra)
    return values


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_a_short_gsm7_sms(kind: str, lang: str) -> None:
    rendered = render(kind, lang, context(lang))
    assert rendered.subject and rendered.text.strip() and rendered.html.startswith("<!doctype html>")
    assert f'<html lang="{lang}">' in rendered.html
    alphabet, units = sms_units(rendered.sms)
    assert alphabet == "gsm7", rendered.sms
    # A closure SMS carries the rebooking link, an offer its link with the offer's token (two segments).
    limit = {"cancellation": 200, "offer": 300}.get(kind, 160)
    assert units <= limit, (units, rendered.sms)


def test_citizen_reason_cancellation_fits_one_sms_and_html_is_escaped() -> None:
    rendered = render("cancellation", "de", context("de", reason="citizen", office_name="<b>Amt</b> & Co"))
    assert sms_units(rendered.sms)[1] <= 160
    assert "&lt;b&gt;Amt&lt;/b&gt; &amp; Co" in rendered.html and "<b>Amt</b>" not in rendered.html
    assert "<b>Amt</b> & Co" in rendered.text  # plain text is not escaped


def test_times_are_shown_in_the_office_zone_on_both_sides_of_the_clock_change() -> None:
    assert when(datetime(2027, 3, 26, 8, 0, tzinfo=UTC), BERLIN, "de") == "Fr., 26.3.2027, 09:00 Uhr"
    assert when(datetime(2027, 3, 29, 8, 0, tzinfo=UTC), BERLIN, "en") == "Mon 29 Mar 2027, 10:00"


def test_quiet_hours_move_sms_to_their_end_in_office_time() -> None:
    evening = datetime(2027, 1, 11, 21, 30, tzinfo=BERLIN)
    assert outside_quiet_hours(evening, DEFAULT, BERLIN) == datetime(2027, 1, 12, 8, 0, tzinfo=BERLIN)
    night = datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN)  # the night the clocks go forward
    assert outside_quiet_hours(night, DEFAULT, BERLIN) == datetime(2027, 3, 28, 8, 0, tzinfo=BERLIN)
    noon = datetime(2027, 1, 11, 12, 0, tzinfo=BERLIN)
    assert outside_quiet_hours(noon, DEFAULT, BERLIN) == noon
    # An 08:30 appointment: the 2-hour SMS would be at 06:30 and moves to 08:00; the e-mail stays at 06:30.
    start = datetime(2027, 1, 12, 8, 30, tzinfo=BERLIN)
    now = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    sms = [due for _, due in reminder_times(start=start, now=now, policy=DEFAULT, tz=BERLIN, channel="sms")]
    mail = [due for _, due in reminder_times(start=start, now=now, policy=DEFAULT, tz=BERLIN, channel="email")]
    assert sms == [datetime(2027, 1, 11, 8, 30, tzinfo=BERLIN), datetime(2027, 1, 12, 8, 0, tzinfo=BERLIN)]
    assert mail == [datetime(2027, 1, 11, 8, 30, tzinfo=BERLIN), datetime(2027, 1, 12, 6, 30, tzinfo=BERLIN)]
    # Two reminders that both fall into the quiet hours become one SMS, not two at 08:00.
    early = Policy(offsets=(DEFAULT.offsets[1], DEFAULT.offsets[1] / 2))
    both = reminder_times(
        start=datetime(2027, 1, 12, 9, 0, tzinfo=BERLIN), now=now, policy=early, tz=BERLIN, channel="sms"
    )
    assert [due for _, due in both] == [datetime(2027, 1, 12, 8, 0, tzinfo=BERLIN)]


def test_qr_code_is_a_valid_png() -> None:
    png = qr_png("K7M2XQ4P")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in png and png.endswith(b"IEND\xaeB`\x82")
