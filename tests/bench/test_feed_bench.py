"""Smoke test of the feed benchmark: it runs end to end in a tiny configuration (no timing asserted)."""

import json
from pathlib import Path

from bench import feed_bench


def test_quick_run_measures_both_feed_paths(tmp_path: Path) -> None:
    output = tmp_path / "feeds.json"
    assert feed_bench.main(["--quick", "--loadgen", "python", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    assert set(result["medians"]) == {"health", "feed.200", "feed.304"}
    for label, numbers in result["medians"].items():
        assert numbers["requests"] > 0 and numbers["errors"] == 0, label
    assert result["feed_bytes"] > 10_000
