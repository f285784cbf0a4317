"""The README's first command: `rathaus serve` on an empty SQLite file migrates, loads the demo and serves; bad
settings stop it with their problems named; SIGTERM lets running requests answer and refuses new connections; behind
a local proxy each client counts on its own."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.altcha_client import solved_at
from tests.conftest import TEST_SECRET, _truncate_pg, free_port
from tests.notify.fakes import wait_until

RATHAUS = str(Path(sys.executable).parent / "rathaus")
# What the server logs when the grace ends with requests still running.
_CUT_OFF = "ended: cutting off"


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
        # The whole demo city: two Bürgerämter, the vehicle registration office and the registry office.
        assert sorted(o["slug"] for o in offices) == ["kfz", "mitte", "pankow", "standesamt"]
        assert len(httpx.get(f"{base}/api/v1/life-events").json()) == 3
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


def test_serve_refuses_several_workers_on_sqlite_before_touching_the_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    env.update(RATHAUS_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'rathaus.db'}", RATHAUS_SECRET_KEY=TEST_SECRET)
    command = [RATHAUS, "serve", "--workers", "2", "--port", str(free_port())]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--workers above 1 needs PostgreSQL" in result.stderr
    assert not (tmp_path / "rathaus.db").exists()


@contextmanager
def _serving(database_url: str, tmp_path: Path, **settings: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`rathaus serve` with the demo office on `database_url`, answering; stopped (if still running) at the end."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    env.update(RATHAUS_DATABASE_URL=database_url, RATHAUS_SECRET_KEY=TEST_SECRET, RATHAUS_ENVIRONMENT="test")
    env.update({f"RATHAUS_{key.upper()}": value for key, value in settings.items()})
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [RATHAUS, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert server.poll() is None, log.read_text()
        try:
            return httpx.get(f"{base}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, what="rathaus serve to answer", timeout=60)
        yield server, base
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)  # the supervisor and its workers
                server.wait(10)


def _booking_request(base: str) -> dict[str, Any]:
    """A booking of the demo office's first free slot."""
    for days in range(1, 30):
        day = (date.today() + timedelta(days=days)).isoformat()
        answer = httpx.get(f"{base}/api/v1/offices/mitte/availability", params={"services": "anmeldung", "date": day})
        slots = answer.json().get("slots", []) if answer.status_code == 200 else []
        if slots:
            return {
                "office": "mitte",
                "services": ["anmeldung"],
                "start": slots[0]["start"],
                "name": "Erika Mustermann",
                "email": "erika@example.org",
                "altcha": solved_at(base),
            }
    raise AssertionError("the demo office has no free slot in the next 30 days")


def _exit_code(server: subprocess.Popen[bytes], log: Path) -> int:
    try:
        return server.wait(60)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"rathaus serve did not stop:\n{log.read_text()[-3000:]}") from None


def _refuses_connections(base: str) -> bool:
    port = int(base.rsplit(":", 1)[1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


async def _waiting_backends(dsn: str, query: str) -> int:
    """Backends on the database of `dsn` waiting for a lock while running `query` (a prefix)."""
    conn = await asyncpg.connect(dsn)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query ILIKE $1",
            f"{query}%",
        )
        return int(count)
    finally:
        await conn.close()


async def _until_waiting(dsn: str, query: str) -> None:
    """Return once a backend is waiting for a lock in `query` (polled from a thread with its own loop)."""
    await asyncio.to_thread(wait_until, lambda: asyncio.run(_waiting_backends(dsn, query)) > 0, what=query)


def _post_in_background(pool: ThreadPoolExecutor, base: str, body: dict[str, Any]) -> Future[httpx.Response]:
    return pool.submit(
        httpx.post, f"{base}/api/v1/bookings", json=body, headers={"Idempotency-Key": "serve-test"}, timeout=120
    )


@pytest.mark.postgres
def test_sigterm_refuses_new_connections_and_a_running_booking_gets_its_real_answer(
    pg_database: str, tmp_path: Path
) -> None:
    asyncio.run(_truncate_pg(pg_database))
    dsn = pg_database.replace("postgresql+asyncpg://", "postgresql://", 1)
    with _serving(pg_database, tmp_path, shutdown_grace_seconds="60") as (server, base), ThreadPoolExecutor(1) as pool:
        body = _booking_request(base)

        async def scenario() -> httpx.Response:
            blocker = await asyncpg.connect(dsn)
            try:
                # The booking's claim of its slot waits for this lock: a request that is slow inside the database.
                transaction = blocker.transaction()
                await transaction.start()
                await blocker.execute("LOCK TABLE slot_claim IN EXCLUSIVE MODE")
                answer = _post_in_background(pool, base, body)
                await _until_waiting(dsn, "WITH b AS (INSERT")  # the booking's one statement on PostgreSQL
                server.send_signal(signal.SIGTERM)
                await asyncio.to_thread(wait_until, lambda: _refuses_connections(base), what="connections refused")
                assert not answer.done()
                await transaction.rollback()
                return await asyncio.wrap_future(answer)
            finally:
                await blocker.close()

        answer = asyncio.run(scenario())
        assert answer.status_code == 201, answer.text
        assert answer.json()["start"] == body["start"]
        assert _exit_code(server, tmp_path / "serve.log") == 0  # Granian's supervisor returns after an orderly stop


@pytest.mark.postgres
def test_a_booking_cut_off_by_the_end_of_the_grace_while_committing_still_gets_its_answer(
    pg_database: str, tmp_path: Path
) -> None:
    asyncio.run(_truncate_pg(pg_database))
    dsn = pg_database.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    # COMMIT of a new booking waits for an advisory lock the test holds: a commit that takes as long as the test
    # wants, so the server's grace (1 s) ends in the middle of it.
    asyncio.run(
        admin(
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_advisory_xact_lock(4711); RETURN NULL; END $$;"
            "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON booking DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION slow_commit();"
        )
    )
    try:
        serving = _serving(pg_database, tmp_path, shutdown_grace_seconds="1")
        with serving as (server, base), ThreadPoolExecutor(1) as pool:
            body = _booking_request(base)

            async def scenario() -> httpx.Response:
                holder = await asyncpg.connect(dsn)
                try:
                    await holder.execute("SELECT pg_advisory_lock(4711)")
                    answer = _post_in_background(pool, base, body)
                    await _until_waiting(dsn, "COMMIT")
                    server.send_signal(signal.SIGTERM)
                    log = tmp_path / "serve.log"
                    await asyncio.to_thread(wait_until, lambda: _CUT_OFF in log.read_text(), what="the cut")
                    await holder.execute("SELECT pg_advisory_unlock(4711)")
                    return await asyncio.wrap_future(answer)
                finally:
                    await holder.close()

            answer = asyncio.run(scenario())
            assert answer.status_code == 201, answer.text
            code = answer.json()["code"]
            assert _exit_code(server, tmp_path / "serve.log") == 0
            assert "Killing worker" not in (tmp_path / "serve.log").read_text()  # the app's shutdown ended first

            async def stored() -> int:
                conn = await asyncpg.connect(dsn)
                try:
                    return int(await conn.fetchval("SELECT count(*) FROM booking WHERE code = $1", code))
                finally:
                    await conn.close()

            assert asyncio.run(stored()) == 1
    finally:
        asyncio.run(admin("DROP TRIGGER IF EXISTS slow_commit ON booking; DROP FUNCTION IF EXISTS slow_commit();"))


def test_sigterm_ends_open_event_streams_with_a_reconnect_hint_instead_of_waiting_out_the_grace(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'rathaus.db'}"
    # A grace far longer than the test waits: the server may stop only because the streams ended.
    with _serving(database_url, tmp_path, shutdown_grace_seconds="60") as (server, base):
        with httpx.stream("GET", f"{base}/api/v1/offices/mitte/board/events", timeout=60) as stream:
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith("event:")) == "event: update"
            server.send_signal(signal.SIGTERM)
            rest = list(lines)  # the server ends the stream: the iteration stops
        assert "retry: 2000" in rest
        assert _exit_code(server, tmp_path / "serve.log") == 0
        assert _CUT_OFF not in (tmp_path / "serve.log").read_text()


@pytest.mark.parametrize(
    ("allowed", "apart"), [(None, True), ("192.0.2.1", False)], ids=["proxy on this host", "proxy elsewhere"]
)
def test_behind_a_trusted_proxy_each_forwarded_client_counts_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed: str | None, apart: bool
) -> None:
    if allowed is None:
        monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    else:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", allowed)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'rathaus.db'}"
    with _serving(database_url, tmp_path, availability_rate_limit_per_minute="1") as (_, base):
        day = (date.today() + timedelta(days=1)).isoformat()

        def availability(client: str) -> int:
            answer = httpx.get(
                f"{base}/api/v1/offices/mitte/availability",
                params={"services": "anmeldung", "date": day},
                headers={"X-Forwarded-For": client},
            )
            return answer.status_code

        clients = [availability(f"203.0.113.{n}") for n in (1, 2, 3)]
        # A limit of 1 a minute: three requests of one client meet in one minute's window even if a minute turns.
        again = [availability("203.0.113.1") for _ in range(2)]
    assert 429 in clients + again
    if apart:
        assert clients == [200, 200, 200]
    else:
        assert 429 in clients  # all three are the proxy
