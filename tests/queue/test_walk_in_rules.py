"""When walk-ins are refused: the cut-off (fixed and self-adjusting), closures, appointment-only services."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Harness
from tests.queue.helpers import OPENING, Desk, queue_config

pytestmark = pytest.mark.anyio
# 12:00 Berlin closing on Monday 2027-01-11 is 11:00 UTC.
CLOSING = datetime(2027, 1, 11, 11, 0, tzinfo=UTC)


async def test_cut_off_minute_in_the_offices_time_zone(harness: Harness) -> None:
    desk = await Desk.open(harness, queue_config(walk_in_cutoff_minutes=30))
    harness.clock.set(CLOSING - timedelta(minutes=31))  # 11:29 local

    accepted = await desk.walk_in("a")
    harness.clock.set(CLOSING - timedelta(minutes=30))  # 11:30 local: the cut-off minute
    refused = await desk.walk_in("a")

    assert accepted.status_code == 201, accepted.text
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "after_cutoff"
    assert "11:30" in body["detail"] and "12.01.2027 08:00" in body["detail"]
    assert body["next_accepted_at"] == "2027-01-12T07:00:00+00:00"
    english = await harness.client.post(
        "/api/v1/offices/amt/queue/walk-ins",
        json={"services": ["a"]},
        headers={**desk.headers, "Accept-Language": "en"},
    )
    assert "No more walk-ins" in english.json()["detail"]


async def test_default_cut_off_is_the_services_duration(harness: Harness) -> None:
    desk = await Desk.open(harness)
    harness.clock.set(CLOSING - timedelta(minutes=31))  # B takes 30 minutes
    assert (await desk.walk_in("b")).status_code == 201
    harness.clock.set(CLOSING - timedelta(minutes=30))
    assert (await desk.walk_in("b")).json()["code"] == "after_cutoff"
    assert (await desk.walk_in("a")).status_code == 201  # A (15 minutes) is still accepted


async def test_the_cut_off_adjusts_to_the_people_already_waiting(harness: Harness) -> None:
    desk = await Desk.open(harness, queue_config(counters=[{"name": "Schalter 1", "services": ["a", "b"]}]))
    harness.clock.set(CLOSING - timedelta(minutes=90))  # 10:30: one counter, 90 minutes left
    for _ in range(2):
        assert (await desk.walk_in("b")).status_code == 201  # 60 minutes of work waiting
    assert (await desk.walk_in("a")).status_code == 201  # 75
    refused = await desk.walk_in("b")  # would end at 12:15

    assert refused.status_code == 409 and refused.json()["code"] == "queue_full"
    assert refused.json()["next_accepted_at"] == "2027-01-12T07:00:00+00:00"
    assert (await desk.walk_in("a")).status_code == 201  # 15 minutes still fit
    overridden = await desk.walk_in("b", override_note="Frist läuft morgen ab")
    assert overridden.status_code == 201 and overridden.json()["note"] == "Frist läuft morgen ab"


async def test_refused_when_closed_with_the_reason_and_next_opening(harness: Harness) -> None:
    closure = {"date": "2027-01-11", "reason": {"de": "Betriebsversammlung", "en": "Staff meeting"}}
    desk = await Desk.open(harness, queue_config(closures=[closure]))

    refused = await desk.walk_in("a")

    assert refused.status_code == 409 and refused.json()["code"] == "office_closed_now"
    assert "Betriebsversammlung" in refused.json()["detail"]
    assert refused.json()["next_accepted_at"] == "2027-01-12T07:00:00+00:00"
    harness.clock.set(OPENING - timedelta(minutes=1))  # 07:59 on a normal day would also be closed
    assert (await desk.walk_in("a")).json()["code"] == "office_closed_now"


async def test_appointment_only_service_points_to_the_next_free_slot(harness: Harness) -> None:
    desk = await Desk.open(harness)

    refused = await desk.walk_in("c")

    assert refused.status_code == 409 and refused.json()["code"] == "no_walk_ins"
    body = refused.json()
    assert body["next_accepted_at"] is None
    assert body["next_slot"]["start"] == "2027-01-11T08:00:00+01:00"
    assert "services=c" in body["book_url"] and "date=2027-01-11" in body["book_url"]


async def test_bad_walk_in_input_changes_nothing(harness: Harness) -> None:
    desk = await Desk.open(harness)
    assert (await desk.walk_in("nope")).status_code == 422
    assert (await desk.walk_in("a", phone="12")).status_code == 422
    assert (await desk.walk_in("a", language="fr")).json()["code"] == "invalid_language"
    assert (await desk.post("/api/v1/offices/amt/queue/walk-ins", {"services": []})).status_code == 400
    assert (await desk.post("/api/v1/offices/amt/queue/call-next", {"counter": "Schalter 9"})).status_code == 404
    assert (await desk.queue())["waiting"] == []
    assert (await desk.walk_in("a")).json()["number"] == "W-001"  # no number was used up
