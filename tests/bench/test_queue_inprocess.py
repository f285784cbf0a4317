"""Smoke test of the in-process queue benchmark: a few turns with a few streams run end to end (no timing asserted)."""

import json

import pytest

from bench import queue_inprocess


def test_turns_with_streams_are_measured(capsys: pytest.CaptureFixture[str]) -> None:
    assert queue_inprocess.main(["--clients", "4", "--turns", "12"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["turns"] == 2 and result["clients"] == 4
    assert result["stream_updates_per_turn"] >= 4  # every stream heard of every turn
    assert result["statements_per_turn"] > 0 and result["cpu_ms_per_turn"] > 0
