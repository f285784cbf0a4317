"""The README's first command: `rathaus serve` on an empty SQLite file migrates, loads the demo and serves."""

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
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
