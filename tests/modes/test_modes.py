"""Appointment modes: per service and counter, availability and capacity per mode, the phone number, the
video link, the configuration file, and the booking path without JavaScript."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.offices import service
from rathaus.offices.config import Config, parse_config
from tests.admin.helpers import csrf, sign_in_admin
from tests.calendar.clients import icaljs
from tests.conftest import Harness, open_harness
from tests.factories import booking_body
from tests.modes.helpers import START, VIDEO_TEMPLATE, modes_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio


@pytest.fixture
async def h(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with open_harness(db_url, clock, video_url_template=VIDEO_TEMPLATE) as harness:
        await harness.load(modes_config())
        yield harness


async def book(h: Harness, mode: str, **extra: Any) -> Any:
    body = booking_body(START, services=["b"], mode=mode, **extra)
    return await h.client.post("/api/v1/bookings", json=body)


async def free_at_nine(h: Harness, mode: str) -> bool:
    answer = await h.client.get(
        "/api/v1/offices/amt/availability", params={"services": "b", "date": "2027-01-12", "mode": mode}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["mode"] == mode
    return START in [s["start"] for s in answer.json()["slots"]]


async def count_bookings(h: Harness) -> int:
    async with h.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Booking)) or 0)


async def test_capacity_per_mode_follows_the_counters_that_take_it(h: Harness) -> None:
    assert all([await free_at_nine(h, m) for m in ("on_site", "phone", "video")])
    first = await book(h, "video")
    assert first.status_code == 201, first.text
    # The video desk takes it first, so the caseworker who also phones stays free for both.
    assert first.json()["counter"] == "Videoplatz"
    assert await free_at_nine(h, "video") and await free_at_nine(h, "phone")
    second = await book(h, "video")
    assert second.status_code == 201 and second.json()["counter"] == "Sachbearbeitung"
    assert not await free_at_nine(h, "video") and not await free_at_nine(h, "phone")
    assert (await book(h, "video")).status_code == 409
    assert (await book(h, "phone", call_number="030 1234567")).status_code == 409
    assert await free_at_nine(h, "on_site")  # the counter on site is untouched
    on_site = await book(h, "on_site")
    assert on_site.status_code == 201 and on_site.json()["mode"] == "on_site"
    assert on_site.json()["meeting_url"] is None


async def test_video_links_are_unique_random_rooms_of_the_configured_provider(h: Harness) -> None:
    links = []
    for start in ("2027-01-12T09:00:00+01:00", "2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00"):
        answer = await h.client.post("/api/v1/bookings", json=booking_body(start, services=["b"], mode="video"))
        assert answer.status_code == 201, answer.text
        assert answer.json()["mode"] == "video"
        links.append(answer.json()["meeting_url"])
    assert len(set(links)) == 3
    for link in links:
        room = re.fullmatch(r"https://meet\.stadt\.example/rathaus-([A-Za-z0-9_-]+)", link)
        assert room is not None and len(room.group(1)) * 6 >= 128  # base64url: 6 bits a character


async def test_a_mode_the_service_or_office_does_not_offer_is_refused_in_both_languages(h: Harness) -> None:
    body = booking_body(START, services=["a"], mode="video")
    de = await h.client.post("/api/v1/bookings", json=body)
    en = await h.client.post("/api/v1/bookings", json=body, headers={"accept-language": "en"})
    assert de.status_code == en.status_code == 422
    assert de.json()["detail"] == "Dieser Termin kann bei diesem Amt nicht per Video stattfinden"
    assert en.json()["detail"] == "This appointment cannot be held by video at this office"
    unknown = await h.client.post("/api/v1/bookings", json={**body, "mode": "telepathy"})
    assert unknown.status_code == 400
    availability = await h.client.get(
        "/api/v1/offices/amt/availability", params={"services": "a", "date": "2027-01-12", "mode": "phone"}
    )
    assert availability.status_code == 422
    assert await count_bookings(h) == 0


async def test_a_phone_appointment_needs_a_valid_number_and_keeps_it_in_e164(h: Harness) -> None:
    missing = await book(h, "phone")
    assert missing.status_code == 422
    assert missing.json()["detail"] == "Geben Sie die Telefonnummer an, unter der wir Sie anrufen sollen"
    wrong = await book(h, "phone", call_number="12")
    assert wrong.status_code == 422 and "Telefonnummer" in wrong.json()["detail"]
    assert await count_bookings(h) == 0
    landline = await book(h, "phone", call_number="030 1234567")  # called, not texted: a landline is fine
    assert landline.status_code == 201, landline.text
    assert landline.json()["call_number"] == "+49301234567"
    assert landline.json()["meeting_url"] is None


async def test_without_a_video_provider_video_is_not_offered(db_url: str, clock: ManualClock) -> None:
    async with open_harness(db_url, clock) as plain:
        await plain.load(modes_config())
        refused = await book(plain, "video")
        assert refused.status_code == 422
        assert (await book(plain, "phone", call_number="0151 12345678")).status_code == 201
        page = await plain.client.get("/book/day", params={"office": "amt", "services": "b"})
        assert 'value="phone"' in page.text and 'value="video"' not in page.text


async def test_modes_round_trip_through_the_configuration_file(h: Harness) -> None:
    async with h.session() as s:
        [office_id] = await service.office_ids(s, slugs=["amt"])
        exported = await service.office_config(s, office_id=office_id)
    text = service.dump_toml(exported)
    assert 'modes = ["on_site", "phone", "video"]' in text and 'modes = ["phone", "video"]' in text
    assert text.count("modes = ") == 3  # what takes on site only leaves the default out
    again = parse_config(text, source="export")
    assert again == exported
    catalog = h.runtime.get(service.Catalog)
    now = h.clock.now()
    report = await run_unit(h.runtime, lambda s: service.load_config(s, catalog=catalog, config=again, now=now))
    assert report.created == [] and report.updated == []
    changed = replace_counters(again, modes=["on_site", "video"])
    report = await run_unit(h.runtime, lambda s: service.load_config(s, catalog=catalog, config=changed, now=now))
    assert report.updated == ["office amt"]
    nobody_phones = await h.client.get(
        "/api/v1/offices/amt/availability", params={"services": "b", "date": "2027-01-12", "mode": "phone"}
    )
    assert nobody_phones.status_code == 422 and nobody_phones.json()["code"] == "mode_not_offered"


def replace_counters(config: Config, **changes: Any) -> Config:
    office = config.offices[0]
    counters = [msgspec.structs.replace(c, **changes) if c.name == "Sachbearbeitung" else c for c in office.counters]
    return msgspec.structs.replace(config, offices=[msgspec.structs.replace(office, counters=counters)])


async def test_the_staff_agenda_feed_shows_the_mode_and_the_meeting(h: Harness, tmp_path: Path) -> None:
    video = (await book(h, "video")).json()
    phone = (await book(h, "phone", call_number="030 1234567")).json()
    auth = {"Authorization": f"Bearer {await staff_token(h, 'desk1', role='desk')}"}
    made = await h.client.post("/api/v1/offices/amt/agenda-feeds", headers=auth)
    assert made.status_code == 201, made.text
    feed = await h.client.get(made.json()["url"].removeprefix("http://testserver"))
    events = {e["uid"].split("@")[0]: e for e in icaljs(feed.content, tmp_path)}
    shown = events[f"agenda-{video['code']}"]
    assert shown["summary"].endswith("(Video)") and shown["conference"] == video["meeting_url"]
    called = events[f"agenda-{phone['code']}"]
    assert called["summary"].endswith("(Telefon)") and called["description"] is None  # names and numbers hidden


async def test_an_admin_sets_the_modes_of_a_service_and_a_counter_on_the_admin_pages(h: Harness) -> None:
    await sign_in_admin(h)
    page = await h.client.get("/staff/amt/admin/counters")
    assert 'id="counter-3-mode-phone" name="modes" value="phone" checked' in page.text
    token = csrf(page)
    counter = {"name": "Sachbearbeitung", "services": ["b"], "modes": ["video"], "_csrf_token": token}
    saved = await h.client.post("/staff/amt/admin/counters/Sachbearbeitung", data=counter, follow_redirects=False)
    assert saved.status_code == 303
    phone = await h.client.get(
        "/api/v1/offices/amt/availability", params={"services": "b", "date": "2027-01-12", "mode": "phone"}
    )
    assert phone.status_code == 422  # nobody takes calls any more
    service = {"name_de": "Ausweis", "name_en": "ID card", "duration_minutes": "15", "_csrf_token": token}
    saved = await h.client.post(
        "/staff/amt/admin/services/a", data={**service, "bookable_online": "on", "modes": ["on_site", "video"]}
    )
    assert saved.status_code in {200, 303}
    counters = {"name": "Videoplatz", "services": ["a", "b"], "modes": ["video"], "_csrf_token": token}
    await h.client.post("/staff/amt/admin/counters/Videoplatz", data=counters, follow_redirects=False)
    assert await free_at_nine_for(h, "a", "video")


async def free_at_nine_for(h: Harness, service_slug: str, mode: str) -> bool:
    answer = await h.client.get(
        "/api/v1/offices/amt/availability", params={"services": service_slug, "date": "2027-01-12", "mode": mode}
    )
    assert answer.status_code == 200, answer.text
    return START in [s["start"] for s in answer.json()["slots"]]
