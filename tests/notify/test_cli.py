"""`rathaus notify test`: checks a configuration by sending through the configured channels."""

import json
import os
import subprocess
import sys
from pathlib import Path

RATHAUS = str(Path(sys.executable).parent / "rathaus")


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RATHAUS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
        "RATHAUS_ENVIRONMENT": "test",
        "RATHAUS_SECRET_KEY": "k" * 40,
        "RATHAUS_NOTIFY_DIR": str(tmp_path / "out"),
    }
    return subprocess.run(
        [RATHAUS, "notify", "test", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_sends_through_the_development_channel_with_normalised_numbers(tmp_path: Path) -> None:
    result = run(tmp_path, "--sms", "0151 12345678", "--email", "Erika@Example.org", "--language", "en")
    assert result.returncode == 0, result.stderr
    assert "e-mail via FileChannel: written" in result.stdout and "SMS via FileChannel: written" in result.stdout
    [sms] = (tmp_path / "out").glob("*.sms.json")
    assert json.loads(sms.read_text())["to"] == "+4915112345678"
    assert list((tmp_path / "out").glob("*.eml"))


def test_refuses_numbers_that_cannot_receive_sms(tmp_path: Path) -> None:
    result = run(tmp_path, "--sms", "030 123456")
    assert result.returncode == 2 and "not a mobile number" in result.stderr
    assert not (tmp_path / "out").exists()
