"""Smoke test of the in-process availability measurement: it runs end to end in a tiny configuration (no timing
asserted)."""

import json

import pytest

from bench import availability_inprocess


@pytest.mark.parametrize("through", ["asgi", "uvicorn"])
def test_a_tiny_run_measures_each_endpoint_and_a_real_answer(through: str, capsys: pytest.CaptureFixture[str]) -> None:
    served = ["--uvicorn"] if through == "uvicorn" else []
    assert availability_inprocess.main(["--requests", "20", "--rounds", "2", *served]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["through"] == through
    assert set(result["cpu_us_per_request"]) == {"hello", "health", "availability"}
    assert all(len(values) == 2 for values in result["per_round"].values())
    assert result["slots_in_answer"] > 0  # the day measured has free slots: not an empty answer
