"""Smoke test of the availability benchmark: it runs end to end in a tiny configuration (no timing asserted)."""

import json
from pathlib import Path

from bench import availability_bench


def test_quick_run_measures_steady_reads_reads_under_a_booking_burst_and_a_fresh_server(tmp_path: Path) -> None:
    output = tmp_path / "availability.json"
    assert availability_bench.main(["--quick", "--loadgen", "python", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    assert set(result["medians"]) == {"hello", "health", "steady", "during", "burst", "after", "fresh"}
    for label, numbers in result["medians"].items():
        assert numbers["requests"] > 0 and numbers["errors"] == 0, label
        assert numbers["non_2xx"] == 0 or label == "burst", label
    assert result["medians"]["burst"]["created"] > 0  # the burst really booked
    assert result["git_commit"] and {"steady", "during", "after", "health", "hello"} <= set(
        result["cpu_us_per_request"]
    )
