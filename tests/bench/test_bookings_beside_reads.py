"""Smoke test of the in-process measurement of bookings beside cached readers: it runs end to end in a tiny
configuration and the bookings commit (no timing asserted)."""

import json

import pytest

from bench import bookings_beside_reads


def test_a_tiny_run_reads_and_books_in_every_phase(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--seconds", "0.5", "--readers", "4", "--bookers", "2", "--offices", "2", "--per-turn", "1000000,2"]
    assert bookings_beside_reads.main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    phases = [line for line in lines if "phase" in line]
    assert [(p["phase"], p["per_turn"]) for p in phases] == [
        ("reads", None),
        ("both", 1000000),
        ("both", 2),
        ("bookings", None),
    ]
    assert all(p["statuses"].get("201", 0) > 0 for p in phases if p["bookers"])
    assert all(p["reads_per_s"] > 0 for p in phases if p["readers"])
    assert phases[1]["write_lock_held_ms"]["n"] > 0 and phases[1]["hop_ms"]["back"]["n"] > 0
