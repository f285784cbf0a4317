"""The README's first command: `rathaus serve` on an empty SQLite file migrates, loads the demo and serves; bad
settings stop it with their problems named."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

RATHAUS = str(Path(sys.executable).parent / "rathaus")


def test_serve_starts_on_an_empty_sqlite_database_with_demo_data(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "RATHAUS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'rathaus.db'}"}
    env.pop("RATHAUS_SECRET_KEY", None)
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [RATHAUS, "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "rathaus serve did not answer within 60 s"
            time.sleep(0.1)  # polling a real process that starts up; no domain time involved
        offices = httpx.get(f"{base}/api/v1/offices").json()
        assert [o["slug"] for o in offices] == ["mitte"]
        services = {s["slug"] for s in httpx.get(f"{base}/api/v1/services").json()}
        assert {"anmeldung", "personalausweis", "reisepass"} <= services
        schema = httpx.get(f"{base}/schema/openapi.json").json()
        for path in ("/api/v1/bookings", "/api/v1/offices/{office}/availability", "/api/v1/auth/token"):
            assert path in schema["paths"]
        assert (tmp_path / ".rathaus-dev-secret").exists()
        assert "demo loaded" in log.read_text()
        assert "staff pages at /staff, user 'demo', password 'rathaus-demo-staff'" in log.read_text()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def test_serve_refuses_bad_settings_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    env.update(
        RATHAUS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'rathaus.db'}",
        RATHAUS_ENVIRONMENT="production",
        RATHAUS_SECRET_KEY="s" * 40,
        RATHAUS_SMTP_HOTS="mail.example",
        RATHAUS_NOTIFY_BATCH_SIZE="abc",
        RATHAUS_SMS_CHANNEL="file",
    )
    command = [RATHAUS, "serve", "--port", str(free_port())]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "Error: 3 problems with the settings:",
        "- RATHAUS_NOTIFY_BATCH_SIZE='abc' is not a whole number",
        "- unknown setting RATHAUS_SMTP_HOTS; did you mean RATHAUS_SMTP_HOST?",
        "- RATHAUS_SMTP_HOST is not set, so e-mail would be written to files in RATHAUS_NOTIFY_DIR instead of being "
        "sent; set RATHAUS_SMTP_HOST, or set RATHAUS_EMAIL_CHANNEL=file if that is what you want",
    ]
    assert not (tmp_path / "rathaus.db").exists()
