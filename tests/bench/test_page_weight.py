"""The page-weight benchmark in real Chromium: the booking start pages stay within the issue's budget."""

import json
from pathlib import Path

import pytest

from bench import page_weight
from tests.browser import chromium_or_skip

pytestmark = pytest.mark.browser


def test_first_and_repeat_visits_stay_within_the_budget(tmp_path: Path) -> None:
    chromium_or_skip()
    output = tmp_path / "weight.json"
    assert page_weight.main(["--output", str(output)]) == 0
    result = json.loads(output.read_text())
    for path in page_weight.PAGES:
        visits = result["pages"][path]
        first, repeat = visits["first"], visits["repeat"]
        assert 0 < first["bytes"] <= page_weight.GOALS["first"], (path, first["bytes"])
        assert 0 < repeat["bytes"] <= page_weight.GOALS["repeat"], (path, repeat["bytes"])
        # The stylesheets come compressed the first time and from the browser's cache after.
        sheets = [url for url in first["responses"] if url.endswith(".css")]
        assert sheets and all(first["responses"][url]["encoding"] == "gzip" for url in sheets)
        assert all(repeat["responses"].get(url, {"bytes": 0})["bytes"] == 0 for url in sheets)
    assert result["met"]
