"""Smoke tests of the booking benchmark: the scripts run end to end in a tiny configuration (no timing asserted)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import booking_bench, loadgen


def test_quick_run_measures_every_endpoint_and_writes_json(tmp_path: Path) -> None:
    output = tmp_path / "result.json"
    argv = ["--db", "sqlite", "--quick", "--loadgen", "python", "--duration", "0.3"]
    argv += ["--bookings", "1500", "--offices", "2", "--output", str(output)]

    assert booking_bench.main(argv) == 0

    result = json.loads(output.read_text())["results"][0]
    medians = result["medians"]
    assert set(medians) == {
        "health",
        "availability",
        "availability.nocache",
        "availability.1M",
        "availability.1M.nocache",
        "lat.availability",
        "lat.availability.1M",
        "lat.nocache",
        "lat.nocache.1M",
        "booking",
        "insert",
    }
    for label, numbers in medians.items():
        assert numbers["requests"] > 0, label
        assert numbers["errors"] == 0, label
        assert numbers["non_2xx"] == 0, label
    # Every booking request got a fresh slot, and the bare INSERT answered 201 each time.
    assert medians["booking"]["created"] == medians["booking"]["requests"]
    assert medians["insert"]["created"] == medians["insert"]["requests"]
    # The bulk rows are seen by the app: the measured day has fewer free slots in the filled database.
    slots = result["free_slots"]
    assert slots["S1"] == slots["S2"] > slots["S3"] == slots["S4"] > 0
    assert all(ratio["value"] > 0 for ratio in result["ratios"].values())


def test_wrk_scripts_book_distinct_slots_and_count_answers(tmp_path: Path) -> None:
    if not loadgen.have_wrk():
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    now = datetime.now(UTC)
    url = f"sqlite+aiosqlite:///{tmp_path / 'base.db'}"
    snapshot = asyncio.run(booking_bench._prepare_base(url, 2, now))
    starts = tuple(booking_bench.booking_starts(snapshot, now))
    path = booking_bench.availability_path(booking_bench.measured_day(snapshot, now))
    with booking_bench.servers_running([("S1", url, True)], tmp_path) as servers:
        base = servers["S1"].url
        bookings = loadgen.Target(
            base, "booking", offices=tuple(sorted(snapshot.offices)), starts=starts, service="anmeldung"
        )
        booked = loadgen.run("booking", bookings, duration=1, connections=4, threads=2)
        inserted = loadgen.run("insert", loadgen.Target(base, "insert"), duration=1, connections=4, threads=2)
        read = loadgen.run("availability", loadgen.Target(base, "get", path), duration=1, connections=4, threads=2)

    assert booked.requests > 0
    assert booked.created == booked.requests  # distinct bodies: no conflicts, no errors
    assert (booked.conflicts, booked.other, booked.non_2xx) == (0, 0, 0)
    assert inserted.created == inserted.requests > 0
    assert read.requests > 0
    assert read.non_2xx == 0
