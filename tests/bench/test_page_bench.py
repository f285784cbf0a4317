"""Smoke test of the pages benchmark: it runs end to end in a tiny configuration (no timing asserted)."""

import json
from pathlib import Path

from bench import page_bench


def test_quick_run_measures_the_pages_the_office_list_and_both_baselines(tmp_path: Path) -> None:
    output = tmp_path / "pages.json"
    assert page_bench.main(["--quick", "--loadgen", "python", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    assert set(result["medians"]) == {"hello", "health", "home", "time", "offices", "office", "time-limited"}
    assert result["git_commit"] and set(result["cpu_us_per_request"]) == set(result["medians"])
    for label, numbers in result["medians"].items():
        assert numbers["requests"] > 0 and numbers["errors"] == 0, label
    assert result["slots"] > 0
