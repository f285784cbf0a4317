"""Smoke test of the itinerary benchmark: the script runs end to end in a tiny configuration (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import itinerary_bench


def test_quick_run_measures_both_requests_and_writes_json(tmp_path: Path) -> None:
    output = tmp_path / "result.json"

    assert itinerary_bench.main(["--quick", "--output", str(output)]) == 0

    result = json.loads(output.read_text())
    assert set(result["medians"]) == {"availability", "itineraries"}
    for numbers in result["medians"].values():
        assert numbers["latency_ms"] > 0 and numbers["cpu_ms"] >= 0 and numbers["req_per_s"] > 0
    # The life event spans three offices and the demo city has free slots for it within the 14 days.
    assert result["proposals"] > 0
    assert len(result["offices_in_first"]) == 3
    assert result["ratio_latency"] > 0
