"""Pages answered from rendered bytes: the same for every reader of a language, never staler than the caches
they show, revalidated with ETags, compressed once, and without a CSRF cookie where there is no form to post."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from rathaus.clock import ManualClock
from tests.altcha_client import SolvingHttpClient
from tests.conftest import Harness, LiveServer
from tests.factories import booking_body, make_config
from tests.queue.helpers import OPENING, queue_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio

NINE = "2027-01-11T09:00:00+01:00"
TIME = "/book/time?office=amt&services=a&date=2027-01-11"
GZIP = {"Accept-Encoding": "gzip"}


TTL = 5.0


async def gone_once_the_setting_is_over(client: httpx.AsyncClient, base: str, clock: ManualClock) -> None:
    """Past the caches' age the instance's first answer no longer offers 09:00: no stale page, not even once."""
    clock.advance(timedelta(seconds=TTL, milliseconds=1))
    assert f'value="{NINE}"' not in (await client.get(base + TIME)).text


@pytest.mark.parametrize("path", ["/", TIME, "/?office=amt", "/offices/amt"])
async def test_a_page_without_a_form_sets_no_cookie_and_revalidates(harness: Harness, path: str) -> None:
    await harness.load(make_config())
    first = await harness.client.get(path, headers=GZIP)
    assert first.status_code == 200
    assert "set-cookie" not in first.headers
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["vary"] == "Accept-Encoding, Accept-Language, Cookie"
    assert first.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in first.headers["content-security-policy"]
    etag = first.headers["etag"]
    again = await harness.client.get(path, headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    plain = await harness.client.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == first.text
    assert plain.headers["etag"] == etag
    refused = await harness.client.get(path, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize("path", ["/", TIME, "/api/v1/offices", "/api/v1/offices/amt", "/offices/amt"])
async def test_a_page_from_memory_answers_as_its_handler_did(harness: Harness, path: str) -> None:
    """The second request is answered before the handler runs: same bytes, same headers (security ones too)."""
    await harness.load(make_config())
    for headers in (GZIP, {"Accept-Encoding": "identity"}):
        rendered = await harness.client.get(path, headers=headers)
        kept = await harness.client.get(path, headers=headers)
        assert kept.status_code == rendered.status_code == 200
        assert kept.content == rendered.content
        assert sorted(kept.headers.multi_items()) == sorted(rendered.headers.multi_items())
        assert kept.headers["content-type"] == ("application/json" if "/api/" in path else "text/html; charset=utf-8")
    assert int(kept.headers["content-length"]) == len(kept.content)  # the plain one


async def test_a_booking_leaves_the_time_page_at_once(harness: Harness) -> None:
    await harness.load(make_config())
    before = await harness.client.get(TIME)
    assert f'value="{NINE}"' in before.text
    booked = await harness.client.post("/api/v1/bookings", json=booking_body(NINE))
    assert booked.status_code == 201
    after = await harness.client.get(TIME, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and f'value="{NINE}"' not in after.text
    assert after.headers["etag"] != before.headers["etag"]


async def test_the_window_moves_with_the_clock(harness: Harness, clock: ManualClock) -> None:
    await harness.load(make_config())
    assert 'value="2027-01-11T08:00:00+01:00"' in (await harness.client.get(TIME)).text
    clock.advance(timedelta(minutes=90))  # 08:30 in Berlin: the earlier starts are past
    later = await harness.client.get(TIME)
    assert 'value="2027-01-11T08:00:00+01:00"' not in later.text and 'value="2027-01-11T08:30:00+01:00"' in later.text


async def test_each_reader_gets_their_language(harness: Harness) -> None:
    await harness.load(make_config())
    german = await harness.client.get(TIME, headers={"Accept-Language": "de-DE"})
    english = await harness.client.get(TIME, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert 'lang="de"' in german.text and "Montag, 11. Januar 2027" in german.text
    assert 'lang="en"' in english.text and "Monday, 11 January 2027" in english.text
    assert german.headers["etag"] != english.headers["etag"]
    chosen = await harness.client.get(TIME, headers={"Accept-Language": "de", "Cookie": "rathaus_lang=en"})
    assert chosen.text == english.text
    home = await harness.client.get("/?lang=en")
    assert 'lang="en"' in home.text and "Book an appointment" in home.text


async def test_a_catalogue_change_shows_at_once(harness: Harness) -> None:
    await harness.load(make_config())
    assert "Testamt" in (await harness.client.get("/")).text
    await harness.load(make_config(name={"de": "Bürgeramt Neu", "en": "New office"}))
    home = await harness.client.get("/")
    assert "Bürgeramt Neu" in home.text and "Testamt" not in home.text


async def test_a_catalogue_change_reaches_the_office_page_and_its_schema_org_document(harness: Harness) -> None:
    await harness.load(make_config())
    assert '"name": "Testamt"' in (await harness.client.get("/offices/amt")).text
    english = (await harness.client.get("/offices/amt", headers={"Accept-Language": "en"})).text
    await harness.load(make_config(name={"de": "Bürgeramt Neu", "en": "New office"}))
    page = (await harness.client.get("/offices/amt")).text
    assert '"name": "Bürgeramt Neu"' in page and "Testamt" not in page
    assert '"name": "New office"' in (await harness.client.get("/offices/amt", headers={"Accept-Language": "en"})).text
    assert '"name": "New office"' not in english


async def test_another_instance_shows_a_booking_within_the_cache_setting(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    one = live_server_factory(db_url, clock, availability_cache_seconds=TTL)
    two = live_server_factory(db_url, clock, availability_cache_seconds=TTL)
    async with SolvingHttpClient(timeout=10) as client:
        assert f'value="{NINE}"' in (await client.get(two.url + TIME)).text  # two has the page now
        booked = await client.post(one.url + "/api/v1/bookings", json=booking_body(NINE))
        assert booked.status_code == 201
        assert f'value="{NINE}"' not in (await client.get(one.url + TIME)).text
        # Within the setting instance two still answers from its young page (the database judges a booking).
        assert f'value="{NINE}"' in (await client.get(two.url + TIME)).text
        await gone_once_the_setting_is_over(client, two.url, clock)


async def test_a_closure_elsewhere_reaches_the_time_page(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    token = await staff_token(harness, "admin")
    one = live_server_factory(db_url, clock, availability_cache_seconds=TTL)
    two = live_server_factory(db_url, clock, availability_cache_seconds=TTL)
    closure = {"start": "2027-01-11T08:00:00+01:00", "end": "2027-01-11T12:00:00+01:00", "reason": "Umzug"}
    async with SolvingHttpClient(timeout=10) as client:
        assert f'value="{NINE}"' in (await client.get(two.url + TIME)).text
        made = await client.post(
            one.url + "/api/v1/offices/amt/closures", json=closure, headers={"Authorization": f"Bearer {token}"}
        )
        assert made.status_code == 201, made.text
        await gone_once_the_setting_is_over(client, two.url, clock)


@pytest.mark.parametrize("path", ["/api/v1/offices", "/api/v1/offices/amt"])
async def test_the_office_answer_moves_on_with_the_clock(harness: Harness, clock: ManualClock, path: str) -> None:
    """Kept once per language, the offices' answer still drops a closure once it ended and starts the next days
    at the office's midnight, by the injected clock; a catalogue change shows at once."""
    await harness.load(make_config())
    clock.set(datetime(2027, 1, 11, 6, 0, tzinfo=UTC))  # 07:00 in Berlin
    token = await staff_token(harness, "leitung")
    closure = {"start": "2027-01-11T08:30:00+01:00", "end": "2027-01-11T10:30:00+01:00", "reason": "Stromausfall"}
    made = await harness.client.post(
        "/api/v1/offices/amt/closures", json={**closure, "public": True}, headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status_code == 201, made.text

    def amt(answer: httpx.Response) -> dict[str, Any]:
        found = answer.json()
        return found if path.endswith("amt") else next(o for o in found if o["slug"] == "amt")

    first = await harness.client.get(path)
    assert first.headers["cache-control"] == "no-cache, public" and first.headers["vary"] == "Accept-Language, Cookie"
    assert [c["reason"] for c in amt(first)["upcoming_closures"]] == ["Stromausfall"]
    assert amt(first)["next_days"][0]["date"] == "2027-01-11"
    again = await harness.client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    english = await harness.client.get(path, headers={"Accept-Language": "en"})
    assert english.headers["etag"] != first.headers["etag"]

    clock.set(datetime(2027, 1, 11, 9, 30, 1, tzinfo=UTC))  # 10:30:01 in Berlin: the closure is over
    ended = await harness.client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert ended.status_code == 200 and amt(ended)["upcoming_closures"] == []
    assert amt(ended)["next_days"][0]["date"] == "2027-01-11"

    clock.set(datetime(2027, 1, 11, 23, 0, 1, tzinfo=UTC))  # just past midnight in Berlin
    assert amt(await harness.client.get(path))["next_days"][0]["date"] == "2027-01-12"


def _wait_shown(html: str) -> str:
    """The office page's line about the walk-in wait."""
    start = html.index('id="walk-in-wait"')
    return html[html.index(">", start) + 1 : html.index("</p>", start)].strip()


async def test_the_office_page_shows_a_new_wait_within_the_cache_setting(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    """Walk-ins made on another instance: no stream is open, so this one hears no change; its page (and its last
    read of the waiting room) is kept, but never longer than the setting; the first answer after it shows the
    queue as it is. Its own changes show at once."""
    clock.set(OPENING)
    await harness.load(queue_config())
    desk = {"Authorization": f"Bearer {await staff_token(harness, 'desk', role='desk')}"}
    server = live_server_factory(db_url, clock, availability_cache_seconds=TTL)
    async with SolvingHttpClient(timeout=10) as client:
        before = await client.get(server.url + "/offices/amt")
        for _ in range(2):
            made = await harness.client.post(
                "/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=desk
            )
            assert made.status_code == 201, made.text
        clock.advance(timedelta(seconds=TTL / 2))
        young = await client.get(server.url + "/offices/amt")
        assert young.content == before.content  # the page went on with the instance's latest read …
        clock.advance(timedelta(seconds=TTL / 2, milliseconds=1))
        after = (await client.get(server.url + "/offices/amt")).text  # … until it was older than the setting
        board = (await client.get(server.url + "/api/v1/offices/amt/board")).json()
        assert board["open_now"] and board["walk_in_wait_minutes"] > 0
        assert _wait_shown(after) != _wait_shown(before.text)
        assert f"etwa {board['walk_in_wait_minutes']} Minuten" in _wait_shown(after)
        # A change made on this instance replaces the page at once, the clock standing still.
        for _ in range(2):
            await client.post(server.url + "/api/v1/offices/amt/queue/walk-ins", json={"services": ["a"]}, headers=desk)
        mine = _wait_shown((await client.get(server.url + "/offices/amt")).text)
        newer = (await client.get(server.url + "/api/v1/offices/amt/board")).json()["walk_in_wait_minutes"]
        assert newer > board["walk_in_wait_minutes"]
        assert f"etwa {newer} Minuten" in mine
