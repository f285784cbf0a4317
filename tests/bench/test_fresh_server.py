"""Smoke test of the fresh-server measurement: a tiny run starts a real server, times its first requests and
writes its results (no timing asserted)."""

import json
from pathlib import Path

from bench import fresh_server


def test_a_tiny_run_times_a_fresh_server_and_a_warm_one(tmp_path: Path) -> None:
    output = tmp_path / "fresh.json"
    argv = ["--rounds", "1", "--seconds", "0.5", "--connections", "4", "--offices", "2", "--output", str(output)]
    assert fresh_server.main(argv) == 0
    result = json.loads(output.read_text())
    (run,) = result["runs"]["this"]
    assert run["requests"] > 0 and run["warm"]["requests"] > 0
    assert run["start_s"] > 0 and run["first_max"] > 0
