"""Smoke test of the notification benchmark: one tiny round of each sender, every message counted once."""

import json
from pathlib import Path

from bench import notify_bench


def test_a_tiny_interleaved_round_measures_every_sender(tmp_path: Path) -> None:
    output = tmp_path / "notify.json"
    result = notify_bench.main(["--n", "40", "--rounds", "1", "--timeout", "120", "--output", str(output)])
    assert [p["sender"] for p in result["passes"]] == list(notify_bench.SENDERS)
    assert all(p["per_s"] > 0 and p["sender_cpu_ms_per_message"] >= 0 for p in result["passes"])
    assert len(result["per_round_ratios"]) == 1 and result["ratio"] > 0
    assert json.loads(output.read_text())["machine"]["git_commit"]
