"""The API keeps the promises of its OpenAPI document: schemathesis, with all its checks, against a live server on
each database, anonymous and with a staff token. Bounded so that it runs in well under a minute per run."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rathaus.offices.config import read_config
from tests.conftest import Harness, LiveServer
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"
# Examples per operation and phase; with the coverage phase's own cases about 1,000 requests a run (4,000 in all).
MAX_EXAMPLES = int(os.environ.get("RATHAUS_TEST_SCHEMATHESIS_EXAMPLES", "5"))
ST = Path(sys.executable).with_name("st")
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _run(url: str, *extra: str, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(ST),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261203",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report),
        *extra,
    ]
    # In the test's directory: schemathesis keeps a cache (.schemathesis/) where it runs.
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=report)


@pytest.mark.parametrize("who", ["anonymous", "staff"])
async def test_the_api_keeps_its_openapi_promises(
    harness: Harness,
    db_url: str,
    live_server_factory: Callable[..., LiveServer],
    tmp_path: Path,
    who: str,
) -> None:
    if not ST.exists():
        pytest.fail("schemathesis is not installed (pip install -e '.[test]')")
    await harness.load(read_config(DEMO))
    extra: list[str] = []
    if who == "staff":
        token = await staff_token(harness, "fuzzer", offices=("mitte",))
        # Logging out would revoke the token the rest of the run needs; it runs in the anonymous run.
        extra = ["-H", f"Authorization: Bearer {token}", "--exclude-path", "/api/v1/auth/logout"]
    server = live_server_factory(db_url, harness.clock)

    result = await asyncio.to_thread(_run, server.url, *extra, report=tmp_path)

    shutil.rmtree(tmp_path, ignore_errors=True)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
