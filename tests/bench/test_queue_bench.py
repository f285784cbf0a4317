"""Smoke test of the queue benchmark: a tiny office day runs end to end (no timing asserted)."""

import json
from pathlib import Path

from bench import queue_bench


def test_quick_day_measures_calls_hello_world_and_fan_out(tmp_path: Path) -> None:
    output = tmp_path / "queue.json"
    assert queue_bench.main(["--quick", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    plan = queue_bench.Plan.quick()
    assert result["call_next"]["count"] == plan.rounds * plan.calls_per_round
    assert result["hello_world"]["count"] == result["call_next"]["count"]
    assert result["fan_out"]["count"] == plan.fanout_samples
    assert result["tickets"] == plan.appointments + plan.walk_ins + result["walk_in"]["count"]
    assert result["fan_out"]["max_ms"] < 10_000  # every client saw every measured call
