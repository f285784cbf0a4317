"""The citizen's booking path and manage page over plain HTTP: no JavaScript, forms and redirects only."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from httpx import Response
from sqlalchemy import func, select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from tests.conftest import Harness, open_harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio

# DEFAULT_NOW is Monday 11 January 2027, 07:00 in Berlin; the office opens 08:00-12:00 on weekdays.
FIRST_SLOT = "2027-01-11T08:00:00+01:00"


def csrf(page: Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, "the form carries no CSRF token"
    return found.group(1)


def hidden(page: Response, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert found, f"no field {name}"
    return html.unescape(found.group(1))


def links(page: Response, prefix: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(rf'href="({re.escape(prefix)}[^"]*)"', page.text)]


async def bookings(harness: Harness) -> int:
    async with harness.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Booking)) or 0)


async def contact_page(harness: Harness, start: str = FIRST_SLOT, **headers: str) -> Response:
    page = await harness.client.get(
        "/book/contact", params={"office": "amt", "services": "a", "start": start}, headers=headers
    )
    assert page.status_code == 200, page.text
    return page


def contact_form(page: Response, **fields: str) -> dict[str, str]:
    form = {name: hidden(page, name) for name in ("office", "services", "start", "idempotency_key", "_csrf_token")}
    form.update({"name": "Erika Mustermann", "email": "erika@example.org", "phone": "", "language": "de"})
    form.update(fields)
    return form


async def test_the_whole_path_without_javascript(harness: Harness) -> None:
    await harness.load(make_config())
    start = await harness.client.get("/book?services=a")
    assert start.status_code == 200 and "Testamt" in start.text
    assert "Montag, 11. Januar 2027, 08:00 bis 08:15 Uhr" in start.text  # the next free slot
    day_url = links(start, "/book/day?")[0]
    month = await harness.client.get(day_url)
    assert month.status_code == 200
    assert "<caption" in month.text and "Januar 2027" in month.text and 'scope="col"' in month.text
    time_url = links(month, "/book/time?")[0]
    assert "date=2027-01-11" in time_url
    times = await harness.client.get(time_url)
    assert times.status_code == 200 and f'value="{FIRST_SLOT}"' in times.text
    # The form is a GET to the contact page: the radios' value is the start.
    page = await harness.client.get("/book/contact", params={"office": "amt", "services": "a", "start": FIRST_SLOT})
    assert page.status_code == 200 and "Montag, 11. Januar 2027, 08:00 bis 08:15 Uhr" in page.text
    booked = await harness.client.post("/book/contact", data=contact_form(page), follow_redirects=False)
    assert booked.status_code == 303, booked.text
    target = booked.headers["location"]
    assert target.startswith("/bookings/") and "token=" in target and "new=1" in target
    manage = await harness.client.get(target)
    assert manage.status_code == 200
    assert "Ihr Termin ist gebucht" in manage.text and "Bestätigt" in manage.text
    code = urlsplit(target).path.rsplit("/", 1)[1]
    assert f'class="kern-description-list-item__value booking-code">{code}<' in manage.text
    assert "<svg" in manage.text and 'aria-labelledby="qr-label"' in manage.text
    assert f"/api/v1/bookings/{code}/calendar.ics?token=" in manage.text
    assert await bookings(harness) == 1


async def test_a_double_submit_books_once(harness: Harness) -> None:
    await harness.load(make_config())
    form = contact_form(await contact_page(harness))
    first = await harness.client.post("/book/contact", data=form, follow_redirects=False)
    second = await harness.client.post("/book/contact", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await bookings(harness) == 1


@pytest.mark.parametrize(
    ("fields", "field", "status"),
    [
        ({"email": "not-an-address"}, "email", 422),
        ({"email": "", "phone": "12"}, "phone", 422),
        ({"email": "", "phone": ""}, "email", 422),
        ({"name": "  "}, "name", 422),
    ],
)
async def test_errors_stand_next_to_their_field_and_nothing_is_written(
    harness: Harness, fields: dict[str, str], field: str, status: int
) -> None:
    await harness.load(make_config())
    form = contact_form(await contact_page(harness), **fields)
    answer = await harness.client.post("/book/contact", data=form)
    assert answer.status_code == status
    assert 'id="error-summary"' in answer.text and f'href="#{field}"' in answer.text
    assert f'id="{field}-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert hidden(answer, "start") == FIRST_SLOT  # the chosen slot is kept
    assert await bookings(harness) == 0


async def test_a_slot_taken_meanwhile_shows_the_next_free_times(harness: Harness) -> None:
    await harness.load(make_config())
    form = contact_form(await contact_page(harness))
    taken = await harness.client.post("/api/v1/bookings", json=booking_body(FIRST_SLOT))
    assert taken.status_code == 201
    answer = await harness.client.post("/book/contact", data=form)
    assert answer.status_code == 409
    assert "schon vergeben" in answer.text and 'name="start"' in answer.text
    assert f'value="{FIRST_SLOT}"' not in answer.text and 'value="2027-01-11T08:15:00+01:00"' in answer.text
    assert await bookings(harness) == 1


async def test_time_radios_are_named_with_the_full_date_in_each_language(harness: Harness) -> None:
    await harness.load(make_config())
    url = "/book/time?office=amt&services=a&date=2027-01-14"
    german = (await harness.client.get(url)).text
    assert (
        '<span aria-hidden="true">11:00</span><span class="kern-sr-only">'
        "Donnerstag, 14. Januar 2027, 11:00 bis 11:15 Uhr</span>"
    ) in german
    english = (await harness.client.get(url, headers={"Accept-Language": "en"})).text
    assert '<span class="kern-sr-only">Thursday, 14 January 2027, 11:00 to 11:15</span>' in english
    assert "Choose a time" in english and "Uhrzeit" in german


async def test_choosing_services_and_offices(harness: Harness) -> None:
    await harness.load(make_config())
    chooser = await harness.client.get("/book?office=amt")
    assert chooser.status_code == 200 and 'type="checkbox"' in chooser.text and 'name="office"' in chooser.text
    chosen = await harness.client.get("/book?office=amt&services=a&services=b", follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/book/day?office=amt&services=a%2Cb"
    unknown = await harness.client.get("/book?services=nope")
    assert unknown.status_code == 422 and 'id="services-error"' in unknown.text


async def book_on_the_page(harness: Harness, start: str = FIRST_SLOT) -> tuple[str, str, str]:
    """Book through the form; the manage page's URL, code and token."""
    booked = await harness.client.post(
        "/book/contact", data=contact_form(await contact_page(harness, start)), follow_redirects=False
    )
    target = booked.headers["location"]
    code = urlsplit(target).path.rsplit("/", 1)[1]
    return target, code, parse_qs(urlsplit(target).query)["token"][0]


async def test_cancel_from_the_manage_page(harness: Harness) -> None:
    await harness.load(make_config())
    url, code, token = await book_on_the_page(harness)
    page = await harness.client.get(url)
    done = await harness.client.post(
        f"/bookings/{code}/cancel", data={"token": token, "_csrf_token": csrf(page)}, follow_redirects=False
    )
    assert done.status_code == 303 and "done=cancelled" in done.headers["location"]
    after = await harness.client.get(done.headers["location"])
    assert "Storniert" in after.text and f"/bookings/{code}/cancel" not in after.text
    assert "Anderen Termin wählen" not in after.text
    # The way back is the rebook link that the messages carry too: the office's services first.
    assert links(after, "/?office=") == ["/?office=amt"]
    rebook = await harness.client.get("/?office=amt")
    assert rebook.status_code == 200 and 'href="/book?services=a&amp;office=amt"' in rebook.text
    again = await harness.client.post(f"/bookings/{code}/cancel", data={"token": token, "_csrf_token": csrf(page)})
    assert again.status_code == 200  # cancelling twice answers the same


async def test_reschedule_walks_the_same_path(harness: Harness) -> None:
    await harness.load(make_config())
    url, code, token = await book_on_the_page(harness)
    page = await harness.client.get(url)
    move = links(page, "/book/day?")[0]
    assert f"code={code}" in move and "token=" in move
    month = await harness.client.get(move)
    times = await harness.client.get(links(month, "/book/time?")[0])
    # The time page goes on by GET to a check of the move, whose one form moves it.
    assert f'action="/bookings/{code}/move"' in times.text and hidden(times, "token") == token
    assert times.headers["cache-control"] == "private, no-cache"  # it carries the token: no shared cache keeps it
    new_start = "2027-01-11T09:00:00+01:00"
    check = await harness.client.get(f"/bookings/{code}/move", params={"token": token, "start": new_start})
    assert check.status_code == 200 and "09:00 bis 09:15 Uhr" in check.text and "08:00 bis 08:15 Uhr" in check.text
    assert f'action="/bookings/{code}/reschedule"' in check.text and hidden(check, "start") == new_start
    moved = await harness.client.post(
        f"/bookings/{code}/reschedule",
        data={"token": token, "start": new_start, "_csrf_token": csrf(check)},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and "done=moved" in moved.headers["location"]
    after = await harness.client.get(moved.headers["location"])
    assert "09:00 bis 09:15 Uhr" in after.text
    same = await harness.client.post(
        f"/bookings/{code}/reschedule", data={"token": token, "start": new_start, "_csrf_token": csrf(check)}
    )
    assert same.status_code == 422 and 'id="error-summary"' in same.text
    assert await bookings(harness) == 1


async def test_a_move_to_a_time_taken_meanwhile_shows_the_next_free_times(harness: Harness) -> None:
    await harness.load(make_config())
    url, code, token = await book_on_the_page(harness)
    new_start = "2027-01-11T09:00:00+01:00"
    check = await harness.client.get(f"/bookings/{code}/move", params={"token": token, "start": new_start})
    taken = await harness.client.post("/api/v1/bookings", json=booking_body(new_start, email="b@example.org"))
    assert taken.status_code == 201
    moved = await harness.client.post(
        f"/bookings/{code}/reschedule", data={"token": token, "start": new_start, "_csrf_token": csrf(check)}
    )
    # Back on the time page of that day, with why and the times still free, ready to move again.
    assert moved.status_code == 409 and "schon vergeben" in moved.text and 'id="slots-error"' in moved.text
    assert f'value="{new_start}"' not in moved.text and 'value="2027-01-11T09:15:00+01:00"' in moved.text
    assert f'action="/bookings/{code}/move"' in moved.text and hidden(moved, "token") == token
    kept = await harness.client.get(url)
    assert "08:00 bis 08:15 Uhr" in kept.text  # the old appointment stands


async def test_a_move_without_a_time_goes_back_to_the_month(harness: Harness) -> None:
    await harness.load(make_config())
    _, code, token = await book_on_the_page(harness)
    back = await harness.client.get(f"/bookings/{code}/move", params={"token": token}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"].startswith("/book/day?")
    wrong = await harness.client.get(f"/bookings/{code}/move", params={"token": "x", "start": FIRST_SLOT})
    assert wrong.status_code == 404


async def test_erase_from_the_manage_page(harness: Harness) -> None:
    await harness.load(make_config())
    url, code, token = await book_on_the_page(harness)
    page = await harness.client.get(url)
    erased = await harness.client.post(
        f"/bookings/{code}/erase", data={"token": token, "_csrf_token": csrf(page)}, follow_redirects=False
    )
    assert erased.status_code == 303
    after = await harness.client.get(erased.headers["location"])
    assert "gelöscht" in after.text and "Storniert" in after.text and "Meine Daten löschen" not in after.text
    async with harness.session() as session:
        booking = await session.scalar(select(Booking))
        assert booking is not None and booking.name is None and booking.email is None
        assert booking.purged_at is not None


async def test_verification_flow(harness: Harness) -> None:
    await harness.load(make_config(verification="email", hold_minutes=30))
    page = await contact_page(harness)
    no_email = await harness.client.post("/book/contact", data=contact_form(page, email="", phone="+4915123456789"))
    assert no_email.status_code == 422 and 'id="email-error"' in no_email.text
    url, code, token = await book_on_the_page(harness)
    pending = await harness.client.get(url)
    assert "Wartet auf Ihre Bestätigung" in pending.text and "07:30" in pending.text  # held for 30 minutes
    wrong = await harness.client.post(
        f"/bookings/{code}/confirm",
        data={"token": token, "verification_code": "000000", "_csrf_token": csrf(pending)},
    )
    assert wrong.status_code == 422 and 'id="verification_code-error"' in wrong.text


async def test_wrong_token_and_unknown_code_answer_alike(harness: Harness) -> None:
    await harness.load(make_config())
    _, code, token = await book_on_the_page(harness)
    wrong = await harness.client.get(f"/bookings/{code}?token=x{token}")
    unknown = await harness.client.get(f"/bookings/ZZZZZZZZ?token={token}")
    missing = await harness.client.get(f"/bookings/{code}")
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    # Alike but for the language switch, which links back to the address asked for.
    pages = {re.sub(r'href="/language\?[^"]*"', "", p.text) for p in (wrong, unknown, missing)}
    assert len(pages) == 1 and "<html" in wrong.text
    page = await contact_page(harness)
    posted = await harness.client.post(f"/bookings/{code}/cancel", data={"token": "x", "_csrf_token": csrf(page)})
    assert posted.status_code == 404 and re.sub(r'href="/language\?[^"]*"', "", posted.text) in pages


async def test_english_pages(harness: Harness) -> None:
    await harness.load(make_config())
    english = {"Accept-Language": "en"}
    start = await harness.client.get("/book?services=a", headers=english)
    assert "Next free appointment: Monday, 11 January 2027, 08:00 to 08:15" in start.text
    page = await contact_page(harness, **english)
    assert "Your details" in page.text and "E-mail address" in page.text
    booked = await harness.client.post(
        "/book/contact", data=contact_form(page, language="en"), headers=english, follow_redirects=False
    )
    manage = await harness.client.get(booked.headers["location"], headers=english)
    assert "Your appointment is booked" in manage.text and "Confirmed" in manage.text


@pytest.mark.parametrize(("language", "words"), [("de", "Bitte warten Sie kurz"), ("en", "Please wait a moment")])
async def test_the_rate_limit_on_the_form_answers_with_a_page(
    sqlite_url: str, clock: ManualClock, language: str, words: str
) -> None:
    async with open_harness(sqlite_url, clock, booking_rate_limit_per_minute=1) as limited:
        await limited.load(make_config())
        form = contact_form(await contact_page(limited, **{"Accept-Language": language}))
        first = await limited.client.post("/book/contact", data=form, follow_redirects=False)
        assert first.status_code == 303
        again = await limited.client.post("/book/contact", data=form, headers={"Accept-Language": language})
        assert again.status_code == 429 and again.headers["content-type"].startswith("text/html")
        assert words in again.text and f'lang="{language}"' in again.text
        assert 1 <= int(again.headers["retry-after"]) <= 60
        assert "script-src 'self'" in again.headers["content-security-policy"]
        # The API keeps its JSON answer.
        api = await limited.client.post("/api/v1/bookings", json=booking_body(FIRST_SLOT))
        assert api.status_code == 429 and "detail" in api.json()


async def test_an_unknown_page_answers_in_the_reader_language(harness: Harness) -> None:
    await harness.load(make_config())
    english = await harness.client.get("/life-events/nothing", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and 'lang="en"' in english.text and "Page not found" in english.text
    german = await harness.client.get("/life-events/nothing", headers={"Accept-Language": "de"})
    assert german.status_code == 404 and 'lang="de"' in german.text
