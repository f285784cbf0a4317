"""`rathaus users create` makes an account that can log in; bad input is refused with a message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rathaus.cli import DEMO
from rathaus.clock import ManualClock
from tests.conftest import open_harness

pytestmark = pytest.mark.anyio
RATHAUS = str(Path(sys.executable).parent / "rathaus")


def rathaus(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RATHAUS, *args], env=env, input=stdin, capture_output=True, text=True, check=False, timeout=120
    )


async def test_created_user_logs_in(sqlite_url: str, clock: ManualClock) -> None:
    env = {
        **os.environ,
        "RATHAUS_DATABASE_URL": sqlite_url,
        "RATHAUS_ENVIRONMENT": "test",
        "RATHAUS_SECRET_KEY": "k" * 40,
    }
    assert rathaus(env, "load", str(DEMO)).returncode == 0

    made = rathaus(
        env,
        "users",
        "create",
        "anna",
        "--role",
        "desk",
        "--office",
        "mitte",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    assert "anna" in made.stdout and "long enough" not in made.stdout

    short = rathaus(
        env, "users", "create", "bob", "--role", "desk", "--office", "mitte", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    nowhere = rathaus(
        env,
        "users",
        "create",
        "bob",
        "--role",
        "desk",
        "--office",
        "atlantis",
        "--password-stdin",
        stdin="x" * 20 + "\n",
    )
    assert nowhere.returncode == 1 and "atlantis" in nowhere.stderr

    async with open_harness(sqlite_url, clock) as harness:
        login = await harness.client.post(
            "/api/v1/auth/token", json={"username": "anna", "password": "a long enough password"}
        )
        assert login.status_code == 201
        me = await harness.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['token']}"})
        assert me.json() == {"username": "anna", "role": "desk"}
        out = await harness.client.post(
            "/api/v1/auth/logout", headers={"Authorization": f"Bearer {login.json()['token']}"}
        )
        assert out.status_code == 204
        again = await harness.client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['token']}"}
        )
        assert again.status_code == 401
