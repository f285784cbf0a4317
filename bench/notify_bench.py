"""Notification throughput: N due reminders dispatched by `rathaus worker` vs a bare loop, to the same local servers.

Both senders run as their own process against the same SMTP server (aiosmtpd, STARTTLS + AUTH) and Twilio fake
(official client), with the same concurrency; half the messages are e-mails, half SMS. The rate is counted at the
servers (first to last accepted message). The worker's RSS is sampled while it runs. Loopback only, bounded.

    .venv/bin/python bench/notify_bench.py --n 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.notify.fakes import SmtpServer, TwilioFake, start_smtp  # noqa: E402

CONCURRENCY = 16


# --- the bare loop (run in its own process) -----------------------------------------------------------


async def bare(n: int, env: dict[str, str]) -> None:
    """Send n messages (half e-mail, half SMS) with aiosmtplib and the twilio client directly."""
    import ssl

    import aiosmtplib
    from twilio.rest import Client

    from rathaus.notify.channels import _HeaderAuthHttpClient

    settings = {key.removeprefix("RATHAUS_").lower(): value for key, value in env.items()}
    tls = ssl.create_default_context(cafile=settings["smtp_cafile"])
    http = _HeaderAuthHttpClient()
    client = Client(settings["twilio_account_sid"], settings["twilio_auth_token"], http_client=http)
    client.api.base_url = settings["twilio_api_base"]
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with gate:
            if i % 2 == 0:
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = settings["mail_from"], f"c{i}@example.org", "Erinnerung"
                msg["Message-ID"] = f"<bare.{i}.x@rathaus.test>"
                msg.set_content("Erinnerung an Ihren Termin.")
                msg.add_alternative("<p>Erinnerung an Ihren Termin.</p>", subtype="html")
                await aiosmtplib.send(
                    msg, hostname="127.0.0.1", port=int(settings["smtp_port"]), username=settings["smtp_username"],
                    password=settings["smtp_password"], start_tls=True, tls_context=tls, local_hostname="rathaus.test",
                )  # fmt: skip
            else:
                await client.messages.create_async(
                    to=f"+4915100{i:06d}", from_=settings["twilio_from"], body="Erinnerung: Termin morgen 09:00",
                    status_callback=f"http://rathaus.test/twilio/status?n={i}",
                )  # fmt: skip

    await asyncio.gather(*(one(i) for i in range(n)))
    await http.close()


# --- the rathaus side -----------------------------------------------------------------------------------


async def populate(url: str, n: int) -> None:
    """Migrate, load one office, and write n confirmed bookings each with one reminder due now."""
    from sqlalchemy import insert

    from rathaus import migrate
    from rathaus.booking.models import Booking
    from rathaus.db import create_engine, create_session_maker
    from rathaus.notify.models import OutboxMessage
    from rathaus.offices.models import Office
    from tests.factories import make_config

    engine = create_engine(url, pool_size=1)
    await migrate.upgrade(engine)
    from rathaus.events import EventBus
    from rathaus.offices._load import load_config
    from rathaus.offices.catalog import Catalog

    maker = create_session_maker(engine, info=EventBus().session_info())  # nothing reacts: no bookings yet
    catalog = Catalog(ttl=60, sessions=maker)
    now = datetime.now(UTC)
    async with maker() as session:
        await load_config(session, catalog=catalog, config=make_config(), now=now)
        await session.commit()
        office = (await session.execute(Office.__table__.select())).first()
        assert office is not None
        counter_id = (await session.execute(__import__("sqlalchemy").text("select id from counter"))).scalar()
        start = now + timedelta(days=1)
        bookings = [
            {
                "code": f"B{i:07d}", "office_id": office.id, "counter_id": counter_id,
                "start_at": start + timedelta(minutes=15 * (i % 16)),
                "end_at": start + timedelta(minutes=15 * (i % 16) + 15),
                "status": "confirmed", "language": "de" if i % 3 else "en", "name": "Erika Mustermann",
                "email": f"c{i}@example.org" if i % 2 == 0 else None,
                "phone": None if i % 2 == 0 else f"+4915100{i:06d}",
                "token_hash": "0" * 64, "verification_attempts": 0, "ical_sequence": 0,
                "created_at": now, "updated_at": now,
            }
            for i in range(n)
        ]  # fmt: skip
        ids = (await session.execute(insert(Booking).returning(Booking.id), bookings)).scalars().all()
        rows = [
            {
                "kind": "reminder", "channel": "email" if i % 2 == 0 else "sms",
                "recipient": b["email"] or b["phone"], "language": b["language"], "payload": {"offset_minutes": 1440},
                "due_at": now - timedelta(seconds=1), "status": "pending", "attempts": 0, "priority": 0,
                "dedupe_key": f"reminder:{bid}:0:x:1440", "booking_id": bid, "office_id": office.id,
                "created_at": now, "updated_at": now,
            }
            for i, (bid, b) in enumerate(zip(ids, bookings, strict=True))
        ]  # fmt: skip
        await session.execute(insert(OutboxMessage), rows)
        await session.commit()
    await engine.dispose()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Arrivals:
    """Counts accepted messages at both servers with their times."""

    def __init__(self, smtp: SmtpServer, twilio: TwilioFake) -> None:
        self.smtp, self.twilio = smtp, twilio

    def reset(self) -> None:
        with self.smtp.lock:
            self.smtp.messages.clear()
        with self.twilio.lock:
            self.twilio.sent.clear()

    def count(self) -> int:
        return len(self.smtp.messages) + len(self.twilio.sent)


def run_and_time(
    command: list[str], env: dict[str, str], arrivals: Arrivals, n: int, timeout: float
) -> tuple[float, list[int]]:
    """Seconds from the first to the n-th accepted message, and RSS samples of the sender (KiB)."""
    arrivals.reset()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[int] = []
    first: float | None = None
    deadline = time.monotonic() + timeout
    try:
        while arrivals.count() < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {arrivals.count()} of {n} messages arrived in {timeout} s")
            if first is None and arrivals.count() > 0:
                first = time.monotonic()
            if process.poll() is None:
                samples.append(rss_kib(process.pid))
            time.sleep(0.05)
        elapsed = time.monotonic() - (first or time.monotonic())
    finally:
        process.terminate()
        process.wait(20)
    return elapsed, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        asyncio.run(bare(args.n, json.loads(args.settings)))
        return

    tmp = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    smtp = start_smtp(tmp)
    twilio = TwilioFake()
    twilio.start()
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    settings = {**smtp.env(), **twilio.env()}
    arrivals = Arrivals(smtp, twilio)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    try:
        bare_seconds, _ = run_and_time(
            [sys.executable, __file__, "--bare", "--n", str(args.n), "--settings", json.dumps(settings)],
            env, arrivals, args.n, args.timeout,
        )  # fmt: skip
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        asyncio.run(populate(url, args.n))
        worker_env = {
            **env,
            "RATHAUS_DATABASE_URL": url,
            "RATHAUS_SECRET_KEY": "bench-secret-" + "x" * 40,
            "RATHAUS_ENVIRONMENT": "test",
            "RATHAUS_LOG_LEVEL": "WARNING",
            "RATHAUS_NOTIFY_CONCURRENCY": str(CONCURRENCY),
            **settings,
        }
        worker_seconds, rss = run_and_time(
            [sys.executable, "-c", "from rathaus.cli import main; main()", "worker", "--idle", "0.5"],
            worker_env, arrivals, args.n, args.timeout,
        )  # fmt: skip
    finally:
        smtp.stop()
        twilio.stop()
    bare_rate, worker_rate = args.n / bare_seconds, args.n / worker_seconds
    quarter = max(len(rss) // 4, 1)
    result: dict[str, Any] = {
        "messages": args.n,
        "bare_loop_per_s": round(bare_rate, 1),
        "rathaus_worker_per_s": round(worker_rate, 1),
        "ratio": round(worker_rate / bare_rate, 2),
        "worker_rss_mib_first_quarter_max": round(max(rss[:quarter]) / 1024, 1) if rss else None,
        "worker_rss_mib_last_quarter_max": round(max(rss[-quarter:]) / 1024, 1) if rss else None,
        "worker_rss_mib_max": round(max(rss) / 1024, 1) if rss else None,
        "rss_samples": len(rss),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
