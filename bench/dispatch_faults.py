"""Duplicates and delay when a dispatcher dies or is stopped: two `rathaus worker` processes on one PostgreSQL.

Each run fills a fresh database with N due messages (half e-mail, half SMS), starts two workers (A and B) against
the local SMTP server and Twilio fake, both answering after `--delay` seconds, and once a third of the messages
have arrived hits A with the fault:

- sigkill: A dies at once; the rows it held come back when their lease ends (heartbeats stop renewing them).
- sigterm: A stops claiming, finishes what is on the wire and hands the rest back; then exits.
- slow: no fault, the providers take longer (`--slow-delay`) than the lease.

The servers keep every message they accepted, even when the client went away before the answer (as real providers
do), so a message accepted from a dying A and sent again by B counts as a duplicate. Delay: for the rows A held at
the fault and no server had accepted yet, the time from the fault until a server accepted them. Loopback only.

    .venv/bin/python -m bench.dispatch_faults [--n 300] [--runs 2] [--lease 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rathaus import migrate  # noqa: E402
from rathaus.db import create_engine, create_session_maker  # noqa: E402
from rathaus.notify.models import OutboxMessage  # noqa: E402
from tests.conftest import TEST_SECRET  # noqa: E402
from tests.notify.fakes import SmtpServer, TwilioFake, fill_outbox, start_smtp, wait_until  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _fresh_database(n: int) -> tuple[str, str]:
    """A migrated database with n due messages; (name, url)."""
    name = f"rathaus_bench_faults_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    engine = create_engine(url, pool_size=1)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    await fill_outbox(url, n)
    return name, url


async def _query(url: str, statement: Any) -> list[Any]:
    engine = create_engine(url, pool_size=0)
    try:
        async with create_session_maker(engine)() as session:
            return list((await session.execute(statement)).all())
    finally:
        await engine.dispose()


def _env(url: str, smtp: SmtpServer, twilio: TwilioFake, directory: Path, lease: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    env.update(
        RATHAUS_DATABASE_URL=url,
        RATHAUS_SECRET_KEY=TEST_SECRET,
        RATHAUS_ENVIRONMENT="test",
        RATHAUS_PUBLIC_BASE_URL="http://rathaus.test",
        RATHAUS_NOTIFY_DIR=str(directory / "files"),
        RATHAUS_LOG_LEVEL="WARNING",
        RATHAUS_NOTIFY_LEASE_SECONDS=str(lease),
        RATHAUS_DB_POOL_SIZE="4",
        **smtp.env(),
        **twilio.env(),
    )
    # The providers' timeouts as deployed (20 s, 15 s): a row on the wire holds its lease that much longer.
    del env["RATHAUS_SMTP_TIMEOUT"], env["RATHAUS_TWILIO_TIMEOUT"]
    return env


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-u", "-c", "from rathaus.cli import main; main()", "worker", "--idle", "2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=output,
        )


def _worker_id(log: Path) -> str:
    for line in log.read_text().splitlines():
        if line.startswith("rathaus worker ") and line.endswith(": dispatching"):
            return line.removeprefix("rathaus worker ").removesuffix(": dispatching")
    raise RuntimeError(f"worker did not start: {log.read_text()[-2000:]}")


def run_once(fault: str, *, n: int, delay: float, lease: float, directory: Path) -> dict[str, Any]:
    """One run of one fault; the figures of the report."""
    name, url = asyncio.run(_fresh_database(n))
    smtp = start_smtp(directory)
    twilio = TwilioFake()
    twilio.start()
    smtp.keep_abandoned = twilio.keep_abandoned = True
    smtp.delay = twilio.delay = delay
    workers: list[subprocess.Popen[bytes]] = []
    try:
        env = _env(url, smtp, twilio, directory, lease)
        logs = [directory / f"{fault}-{name}-{w}.log" for w in ("a", "b")]
        workers = [_worker(env, log) for log in logs]
        for log in logs:
            wait_until(lambda log=log: "dispatching" in log.read_text(), what="the workers to start", timeout=60)
        a_id = _worker_id(logs[0])

        def received() -> int:
            return len(smtp.arrivals()) + len(twilio.arrivals())

        held: set[int] = set()
        fault_at = time.monotonic()
        if fault != "slow":
            wait_until(lambda: received() >= n // 3, what="a third sent", timeout=300)
            held = {
                row
                for (row,) in asyncio.run(
                    _query(
                        url,
                        select(OutboxMessage.id).where(
                            OutboxMessage.status == "claimed", OutboxMessage.claimed_by == a_id
                        ),
                    )
                )
            }
            fault_at = time.monotonic()
            workers[0].send_signal(signal.SIGKILL if fault == "sigkill" else signal.SIGTERM)
        statuses: list[Any] = []

        def all_recorded() -> bool:
            nonlocal statuses
            statuses = asyncio.run(_query(url, select(OutboxMessage.status)))
            return all(status == "sent" for (status,) in statuses)

        wait_until(all_recorded, what="every message recorded as sent", timeout=600)
        done_at = time.monotonic()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        smtp.stop()
        twilio.stop()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    arrivals = smtp.arrivals() + twilio.arrivals()
    counts = Counter(row for row, _ in arrivals)
    first = {}
    for row, at in sorted(arrivals, key=lambda item: item[1]):
        first.setdefault(row, at)
    # Rows A held and no server had accepted when the fault came: how long they waited for it.
    waits = sorted(first[row] - fault_at for row in held if row in first and first[row] > fault_at)
    return {
        "fault": fault,
        "messages": n,
        "provider_delay_s": delay,
        "lease_s": lease,
        "duplicates": sum(c - 1 for c in counts.values()),
        "missing": n - len(counts),
        "held_by_a_at_fault": len(held),
        "held_waiting_after_fault": len(waits),
        "held_delay_median_s": round(statistics.median(waits), 2) if waits else None,
        "held_delay_max_s": round(waits[-1], 2) if waits else None,
        "fault_to_all_sent_s": round(done_at - fault_at, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--n", type=int, default=300, help="messages per run")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds a provider takes per message")
    parser.add_argument("--slow-delay", type=float, default=5.0, help="provider seconds in the slow run")
    parser.add_argument("--lease", type=float, default=10.0, help="RATHAUS_NOTIFY_LEASE_SECONDS")
    parser.add_argument("--slow-lease", type=float, default=2.0, help="lease in the slow run (below --slow-delay)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--faults", default="sigkill,sigterm,slow")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's deprecation notice on every login
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for fault in args.faults.split(","):
                slow = fault == "slow"
                result = run_once(
                    fault,
                    n=args.n,
                    delay=args.slow_delay if slow else args.delay,
                    lease=args.slow_lease if slow else args.lease,
                    directory=Path(tmp),
                )
                result["run"] = run + 1
                print(json.dumps(result), flush=True)
                results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
