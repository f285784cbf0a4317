"""The waiting-list pages over plain HTTP: no JavaScript, forms and redirects only."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from tests.conftest import Harness
from tests.factories import make_config
from tests.waitlist.helpers import NINE, book, cancel, code_sent, free_starts, offer_token, offers
from tests.web.test_booking_pages import csrf

pytestmark = pytest.mark.anyio


def _form(page_token: str, **extra: object) -> dict[str, object]:
    form: dict[str, object] = {
        "_csrf_token": page_token,
        "services": ["a"],
        "offices": ["amt"],
        "first_day": "2027-01-11",
        "last_day": "2027-01-11",
        "weekdays": ["mon"],
        "start": "09:00",
        "end": "10:00",
        "name": "Max Wartend",
        "channel": "email",
        "email": "max@example.org",
        "language": "de",
    }
    form.update(extra)
    return form


async def test_register_confirm_see_the_place_and_accept_an_offer_without_javascript(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness, email="holder@example.org")
    page = await harness.client.get("/wishes/new?services=a&office=amt")
    assert page.status_code == 200 and 'value="a" checked' in page.text and 'value="amt" checked' in page.text

    sent = await harness.client.post("/wishes", data=_form(csrf(page)), follow_redirects=False)
    assert sent.status_code == 303, sent.text
    manage_url = sent.headers["location"]
    assert manage_url.startswith("/wishes/") and "token=" in manage_url
    manage = await harness.client.get(manage_url)
    assert "Warten auf Ihre Bestätigung" in manage.text
    token = html.unescape(manage.text.split('name="token" value="')[1].split('"')[0])
    code = await code_sent(harness, "wish_verification", "max@example.org")
    confirmed = await harness.client.post(
        manage_url.split("?")[0] + "/confirm",
        data={"_csrf_token": csrf(manage), "token": token, "verification_code": code},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    manage = await harness.client.get(manage_url)
    assert "Warten auf einen Termin" in manage.text and "1. unter den Wünschen" in manage.text

    await cancel(harness, taken)
    assert NINE not in await free_starts(harness)  # from the cancellation to the wish, never to open booking
    manage = await harness.client.get(manage_url)
    assert "Ein Termin ist für Sie reserviert" in manage.text and "Montag, 11. Januar 2027, 09:00" in manage.text
    [offer] = await offers(harness)
    offer_page = await harness.client.get(f"/offers/{await offer_token(harness, offer.id)}")
    assert offer_page.status_code == 200 and "Termin annehmen" in offer_page.text
    accepted = await harness.client.post(
        f"/offers/{await offer_token(harness, offer.id)}/accept",
        data={"_csrf_token": csrf(offer_page)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303 and accepted.headers["location"].startswith("/bookings/")
    booking_page = await harness.client.get(accepted.headers["location"])
    assert "Montag, 11. Januar 2027, 09:00" in booking_page.text
    again = await harness.client.get(f"/offers/{await offer_token(harness, offer.id)}")
    assert "Sie haben diesen Termin angenommen" in again.text and "Termin annehmen" not in again.text


async def test_a_refused_wish_shows_the_form_again_with_the_reason_next_to_its_field(harness: Harness) -> None:
    await harness.load(make_config())
    page = await harness.client.get("/wishes/new", headers={"Accept-Language": "en"})
    refused = await harness.client.post(
        "/wishes", data=_form(csrf(page), last_day="2027-01-10"), headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 422
    assert 'id="last_day-error"' in refused.text and "The last day must not be before the first day" in refused.text
    assert 'value="max@example.org"' in refused.text  # what was typed stays


async def test_declining_from_the_page_keeps_the_wish_waiting_and_a_late_answer_is_told(harness: Harness) -> None:
    await harness.load(make_config())
    taken = await book(harness, email="holder@example.org")
    page = await harness.client.get("/wishes/new")
    sent = await harness.client.post("/wishes", data=_form(csrf(page)), follow_redirects=False)
    manage = await harness.client.get(sent.headers["location"])
    token = html.unescape(manage.text.split('name="token" value="')[1].split('"')[0])
    code = await code_sent(harness, "wish_verification", "max@example.org")
    await harness.client.post(
        sent.headers["location"].split("?")[0] + "/confirm",
        data={"_csrf_token": csrf(manage), "token": token, "verification_code": code},
        follow_redirects=False,
    )
    await cancel(harness, taken)
    [offer] = await offers(harness)
    link = f"/offers/{await offer_token(harness, offer.id)}"
    offer_page = await harness.client.get(link)
    harness.clock.advance(timedelta(hours=2))
    late = await harness.client.post(f"{link}/accept", data={"_csrf_token": csrf(offer_page)})
    assert late.status_code == 409 and "abgelaufen" in late.text
    unknown = await harness.client.get("/offers/nope")
    assert unknown.status_code == 404


async def test_the_office_choice_of_the_booking_path_leads_to_the_waiting_list(harness: Harness) -> None:
    await harness.load(make_config())
    choice = await harness.client.get("/book?services=a")
    assert 'href="/wishes/new?services=a"' in choice.text and "Auf die Warteliste" in choice.text
    form = await harness.client.get("/wishes/new?services=a")
    assert 'value="a" checked' in form.text
