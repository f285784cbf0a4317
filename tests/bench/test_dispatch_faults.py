"""Smoke test of the dispatcher fault benchmark: a tiny SIGTERM run on PostgreSQL loses and doubles nothing."""

from pathlib import Path

import pytest

from bench import dispatch_faults


@pytest.mark.postgres
def test_a_tiny_sigterm_run_sends_every_message_once(pg_database: str, tmp_path: Path) -> None:
    result = dispatch_faults.run_once("sigterm", n=24, delay=0.3, lease=2.0, directory=tmp_path)
    assert result["duplicates"] == 0 and result["missing"] == 0, result
    assert result["messages"] == 24 and result["fault_to_all_sent_s"] > 0
