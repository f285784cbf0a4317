"""Life events across offices in the demo city: proposals, booking all or nothing, managing the parts."""

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from rathaus.booking.models import Booking, Itinerary, ItineraryPart, SlotClaim
from rathaus.clock import ManualClock
from rathaus.offices.config import read_config
from tests.altcha_client import SolvingHttpClient
from tests.calendar.clients import icaljs, utc, vobject_events
from tests.conftest import Harness, LiveServer

pytestmark = pytest.mark.anyio
DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"
TRAVEL = {("mitte", "kfz"): 30, ("pankow", "kfz"): 40, ("mitte", "standesamt"): 10, ("pankow", "standesamt"): 25}
TRAVEL |= {(b, a): m for (a, b), m in TRAVEL.items()} | {("kfz", "standesamt"): 25, ("standesamt", "kfz"): 25}
MOVE = "nach-berlin-ziehen"


def body(adresse: str, fahrzeug: str, *, office: str = "mitte", **extra: Any) -> dict[str, Any]:
    return {
        "life_event": MOVE,
        "parts": [
            {"step": "adresse", "office": office, "start": adresse},
            {"step": "fahrzeug", "office": "kfz", "start": fahrzeug},
        ],
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        **extra,
    }


async def counts(harness: Harness) -> tuple[int, int, int]:
    async with harness.session() as s:
        return (
            await s.scalar(select(func.count()).select_from(Booking)) or 0,
            await s.scalar(select(func.count()).select_from(SlotClaim)) or 0,
            await s.scalar(select(func.count()).select_from(Itinerary)) or 0,
        )


async def test_proposals_respect_order_travel_and_each_office_availability(harness: Harness) -> None:
    await harness.load(read_config(DEMO))
    client = harness.client
    for slug in ("nach-berlin-ziehen", "neu-mit-familie", "heiraten"):
        answer = await client.get(f"/api/v1/life-events/{slug}/itineraries?days=14")
        assert answer.status_code == 200, answer.text
        proposals = answer.json()["itineraries"]
        assert proposals, slug
        event = next(e for e in (await client.get("/api/v1/life-events")).json() if e["slug"] == slug)
        after = {step["key"]: set(step["after"]) for step in event["steps"]}
        for proposal in proposals:
            parts = proposal["parts"]
            assert sorted(p["step"] for p in parts) == sorted(after)
            assert proposal["days"] <= event["max_days"]
            done: set[str] = set()
            for i, part in enumerate(parts):
                assert after[part["step"]] <= done  # the order where it matters
                done.add(part["step"])
                if i:
                    before = parts[i - 1]
                    gap = datetime.fromisoformat(part["start"]) - datetime.fromisoformat(before["end"])
                    assert gap >= timedelta(minutes=TRAVEL.get((before["office"], part["office"]), 0))
                # Every part is a slot the office's own availability offers (hours, closures, booking window).
                day = part["start"][:10]
                free = await client.get(
                    f"/api/v1/offices/{part['office']}/availability?services={','.join(part['services'])}&date={day}"
                )
                assert part["start"] in [s["start"] for s in free.json()["slots"]]
    first = (await client.get(f"/api/v1/life-events/{MOVE}/itineraries?days=3")).json()["itineraries"][0]
    # Monday 07:00: Mitte books from 08:00 (an hour ahead), the vehicle office from 09:00 (two hours ahead).
    assert [(p["step"], p["office"], p["start"]) for p in first["parts"]] == [
        ("adresse", "mitte", "2027-01-11T08:00:00+01:00"),
        ("fahrzeug", "kfz", "2027-01-11T09:00:00+01:00"),
    ]
    assert first["day"] == "2027-01-11" and first["days"] == 1


async def test_an_itinerary_is_booked_whole_and_its_parts_managed_alone_or_together(harness: Harness) -> None:
    await harness.load(read_config(DEMO))
    client = harness.client
    created = await client.post(
        "/api/v1/itineraries", json=body("2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00")
    )
    assert created.status_code == 201, created.text
    itinerary = created.json()
    token = itinerary["manage_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert itinerary["status"] == "confirmed"
    assert [(p["office"], p["services"], p["status"]) for p in itinerary["parts"]] == [
        ("mitte", ["anmeldung"], "confirmed"),
        ("kfz", ["kfz-umschreibung"], "confirmed"),
    ]
    assert await counts(harness) == (2, 1 + 2, 1)  # 15 minutes on a 15-minute grid, 20 on a 10-minute grid

    # The one manage token opens each part; cancelling one part leaves the other.
    address, vehicle = (p["code"] for p in itinerary["parts"])
    assert (await client.get(f"/api/v1/bookings/{vehicle}", headers=auth)).json()["office"] == "kfz"
    assert (await client.post(f"/api/v1/bookings/{vehicle}/cancel", headers=auth)).json()["status"] == "cancelled"
    partly = (await client.get(f"/api/v1/itineraries/{itinerary['code']}", headers=auth)).json()
    assert partly["status"] == "partly_cancelled"
    assert [p["status"] for p in partly["parts"]] == ["confirmed", "cancelled"]
    assert await counts(harness) == (2, 1, 1)

    cancelled = (await client.post(f"/api/v1/itineraries/{itinerary['code']}/cancel", headers=auth)).json()
    assert cancelled["status"] == "cancelled"
    assert await counts(harness) == (2, 0, 1)  # every claim freed
    again = await client.post(f"/api/v1/itineraries/{itinerary['code']}/cancel", headers=auth)
    assert again.status_code == 200 and again.json()["status"] == "cancelled"

    wrong = await client.get(f"/api/v1/itineraries/{itinerary['code']}", headers={"Authorization": "Bearer nope"})
    unknown = await client.get("/api/v1/itineraries/ZZZZZZ", headers=auth)
    assert wrong.status_code == unknown.status_code == 404 and wrong.json() == unknown.json()
    address_part = await client.get(f"/api/v1/bookings/{address}", headers=auth)
    assert address_part.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"parts": "order"}, 422, "wrong order or leave too little time to travel"),
        ({"parts": "travel"}, 422, "wrong order or leave too little time to travel"),
        ({"parts": "spread"}, 422, "within 3 days"),
        ({"parts": "missing"}, 422, "exactly one appointment for each step: adresse, fahrzeug"),
        ({"parts": "office"}, 422, "cannot be done at standesamt (only at: mitte, pankow)"),
        ({"parts": "closed"}, 422, "not open at that time"),
        ({"life_event": "mondflug"}, 404, "no life event called mondflug"),
        ({"name": "   "}, 422, "enter your name"),
    ],
)
async def test_bad_itineraries_are_refused_with_the_reason_and_write_nothing(
    harness: Harness, changes: dict[str, str], status: int, message: str
) -> None:
    await harness.load(read_config(DEMO))
    parts = {
        "order": body("2027-01-12T10:00:00+01:00", "2027-01-12T09:00:00+01:00"),
        "travel": body("2027-01-12T09:00:00+01:00", "2027-01-12T09:30:00+01:00"),  # 15 min + 30 min travel: 09:45
        "spread": body("2027-01-12T09:00:00+01:00", "2027-01-15T09:00:00+01:00"),
        "missing": {
            **body("2027-01-12T09:00:00+01:00", ""),
            "parts": [body("2027-01-12T09:00:00+01:00", "")["parts"][0]],
        },
        "office": body("2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00", office="standesamt"),
        "closed": body("2027-01-12T15:00:00+01:00", "2027-01-13T10:00:00+01:00"),
    }
    request = parts.get(changes.get("parts", ""), body("2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00"))
    request |= {k: v for k, v in changes.items() if k != "parts"}
    answer = await harness.client.post("/api/v1/itineraries", json=request, headers={"Accept-Language": "en"})
    assert answer.status_code == status, answer.text
    assert message in answer.json()["detail"]
    assert await counts(harness) == (0, 0, 0)
    german = await harness.client.post("/api/v1/itineraries", json=request, headers={"Accept-Language": "de"})
    assert german.json()["detail"] != answer.json()["detail"]


async def test_fifty_concurrent_attempts_book_only_whole_itineraries(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    """Mitte has three counters for the address, the vehicle office two for the car: two whole itineraries fit."""
    await harness.load(read_config(DEMO))
    server = live_server_factory(db_url, clock, db_pool_size=10)
    bodies = [
        body("2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00", email=f"p{i}@example.org") for i in range(50)
    ]
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
    async with SolvingHttpClient(base_url=server.url, limits=limits, timeout=120) as client:
        gate = asyncio.Event()

        async def one(request: dict[str, Any]) -> int:
            await gate.wait()
            return (await client.post("/api/v1/itineraries", json=request)).status_code

        tasks = [asyncio.create_task(one(request)) for request in bodies]
        await asyncio.sleep(0)
        gate.set()
        statuses = Counter(await asyncio.gather(*tasks))

    assert statuses == Counter({201: 2, 409: 48})
    async with harness.session() as s:
        bookings = (await s.scalars(select(Booking))).all()
        parts = (await s.scalars(select(ItineraryPart))).all()
        claims = (await s.scalars(select(SlotClaim))).all()
    assert len(bookings) == 4 and all(b.status == "confirmed" for b in bookings)
    by_itinerary = Counter(p.itinerary_id for p in parts)
    assert sorted(by_itinerary.values()) == [2, 2]  # never half an itinerary
    assert {p.booking_id for p in parts} == {b.id for b in bookings}
    assert len(claims) == 2 * (1 + 2) and {c.booking_id for c in claims} == {b.id for b in bookings}


@pytest.mark.calendar_client
async def test_one_calendar_file_holds_every_part_and_follows_a_part_cancelled_alone(
    harness: Harness, tmp_path: Path
) -> None:
    await harness.load(read_config(DEMO))
    client = harness.client
    created = await client.post(
        "/api/v1/itineraries", json=body("2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00", office="pankow")
    )
    itinerary = created.json()
    token, code = itinerary["manage_token"], itinerary["code"]
    uids = {f"booking-{p['code']}@testserver": p for p in itinerary["parts"]}

    async def calendar() -> bytes:
        answer = await client.get(f"/api/v1/itineraries/{code}/calendar.ics?token={token}")
        assert answer.status_code == 200 and answer.headers["content-type"] == "text/calendar; charset=utf-8"
        return answer.content

    data = await calendar()
    seen = icaljs(data, tmp_path)
    assert {event["uid"] for event in seen} == set(uids)
    for event in seen:
        part = uids[event["uid"]]
        assert utc(event["startUTC"]) == datetime.fromisoformat(part["start"])
        assert utc(event["endUTC"]) == datetime.fromisoformat(part["end"])
        assert event["status"] == "CONFIRMED"
    parsed = vobject_events(data)
    assert {e.uid.value for e in parsed} == set(uids)
    for e in parsed:
        assert e.dtstart.value == datetime.fromisoformat(uids[e.uid.value]["start"])
    # The same UIDs as each part's own calendar object: a part moved or cancelled alone replaces its event only.
    vehicle = itinerary["parts"][1]
    own = await client.get(f"/api/v1/bookings/{vehicle['code']}/calendar.ics?token={token}")
    assert [e["uid"] for e in icaljs(own.content, tmp_path)] == [f"booking-{vehicle['code']}@testserver"]

    await client.post(f"/api/v1/bookings/{vehicle['code']}/cancel", headers={"Authorization": f"Bearer {token}"})
    after = {event["uid"]: event for event in icaljs(await calendar(), tmp_path)}
    assert after[f"booking-{vehicle['code']}@testserver"]["status"] == "CANCELLED"
    assert after[f"booking-{itinerary['parts'][0]['code']}@testserver"]["status"] == "CONFIRMED"


async def test_parts_move_alone_within_the_rules_or_all_together(harness: Harness) -> None:
    await harness.load(read_config(DEMO))
    client = harness.client
    itinerary = (
        await client.post("/api/v1/itineraries", json=body("2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00"))
    ).json()
    auth = {"Authorization": f"Bearer {itinerary['manage_token']}", "Accept-Language": "en"}
    address, vehicle = (p["code"] for p in itinerary["parts"])

    # Alone: the vehicle cannot move before the address is registered and the travel is done ...
    early = await client.post(
        f"/api/v1/bookings/{vehicle}/reschedule", json={"start": "2027-01-12T09:30:00+01:00"}, headers=auth
    )
    assert early.status_code == 422 and "too little time to travel" in early.json()["detail"]
    # ... but can move later that day.
    later = await client.post(
        f"/api/v1/bookings/{vehicle}/reschedule", json={"start": "2027-01-12T11:00:00+01:00"}, headers=auth
    )
    assert later.status_code == 200 and later.json()["start"] == "2027-01-12T11:00:00+01:00"

    # Together: both move to Wednesday; the old slots are free again.
    moved = await client.post(
        f"/api/v1/itineraries/{itinerary['code']}/reschedule",
        json={"parts": body("2027-01-13T08:00:00+01:00", "2027-01-13T09:00:00+01:00")["parts"]},
        headers=auth,
    )
    assert moved.status_code == 200, moved.text
    assert [p["start"] for p in moved.json()["parts"]] == ["2027-01-13T08:00:00+01:00", "2027-01-13T09:00:00+01:00"]
    assert [p["code"] for p in moved.json()["parts"]] == [address, vehicle]
    assert all(p["ical_sequence"] == 1 + (p["code"] == vehicle) for p in moved.json()["parts"])
    assert await counts(harness) == (2, 3, 1)
    other_office = await client.post(
        f"/api/v1/itineraries/{itinerary['code']}/reschedule",
        json={"parts": body("2027-01-14T11:00:00+01:00", "2027-01-14T12:00:00+01:00", office="pankow")["parts"]},
        headers=auth,
    )
    assert other_office.status_code == 422 and "only at: mitte" in other_office.json()["detail"]
    # The vehicle's part was moved twice (alone, then with the whole): a third move of the whole is one too many.
    third = await client.post(
        f"/api/v1/itineraries/{itinerary['code']}/reschedule",
        json={"parts": body("2027-01-13T09:00:00+01:00", "2027-01-13T11:00:00+01:00")["parts"]},
        headers=auth,
    )
    assert third.status_code == 409 and third.json()["code"] == "too_many_changes", third.text
    assert await counts(harness) == (2, 3, 1)


@pytest.mark.parametrize("altcha", ["", "not base64 at all"])
async def test_an_itinerary_without_a_solved_proof_of_work_is_refused_and_books_nothing(
    harness: Harness, altcha: str
) -> None:
    await harness.load(read_config(DEMO))
    request = body("2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00", altcha=altcha)
    answer = await harness.client.post("/api/v1/itineraries", json=request)
    assert answer.status_code == 422 and answer.json()["code"].startswith("altcha_"), answer.text
    assert await counts(harness) == (0, 0, 0)
