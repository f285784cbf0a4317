"""Smoke test of the server benchmark: uvicorn and Granian both serve the app and the hello-world, every endpoint
answers under load, and every ratio is reported (no timing asserted)."""

import json
from pathlib import Path

from bench import server_bench


def test_quick_run_measures_the_app_and_the_hello_world_under_both_servers(tmp_path: Path) -> None:
    output = tmp_path / "server.json"
    argv = ["--quick", "--db", "sqlite", "--workers", "1", "--loadgen", "python", "--output", str(output)]
    assert server_bench.main(argv) == 0
    result = json.loads(output.read_text())
    endpoints = ("hello", "sqlite-health", "sqlite-availability", "sqlite-page")
    assert set(result["medians"]) == {f"{server}-w1-{what}" for server in ("uvicorn", "granian") for what in endpoints}
    for label, numbers in result["medians"].items():
        assert numbers["requests"] > 0 and numbers["errors"] == 0 and numbers["non_2xx"] == 0, label
    # The CPU of the whole process tree: Granian serves from a worker process under its supervisor.
    assert all(result["cpu_us_per_request"][label] > 0 for label in result["medians"])
    assert set(result["granian_vs_uvicorn"]) == {f"w1-{what}" for what in endpoints}
    assert len(result["vs_hello"]) == 3 * 2 * 2  # three app endpoints, two servers, both hello-worlds
    assert result["git_commit"]
