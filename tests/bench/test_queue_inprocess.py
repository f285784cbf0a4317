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
    assert set(result["cpu_ms_by_step"]) == {"walk_in", "complete", "call_next", "stream_updates"}
    _statements, waits = result["statements_waits_by_step"]["call_next"]
    assert waits >= 2  # on SQLite: at least its write and its COMMIT


def test_concurrent_counters_report_the_write_lock_wait(capsys: pytest.CaptureFixture[str]) -> None:
    assert queue_inprocess.main(["--clients", "4", "--turns", "8", "--concurrent"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["turns"] == 8 and result["statements_per_turn"] > 0
    # The reads of the waiting room begin through SQLAlchemy; the writers' BEGIN IMMEDIATE (walk-in, complete,
    # call-next) go to aiosqlite's thread with their statements, past the cursor hook.
    assert result["begin_wait"]["BEGIN"]["count"] >= 8
    assert result["waits_per_turn"] > 0 and result["loop_lag"]["count"] > 0
