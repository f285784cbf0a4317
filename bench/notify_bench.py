"""Notification throughput: N due reminders dispatched by `rathaus worker` vs a bare loop, to the same local servers.

Every sender runs as its own process against the same SMTP server (aiosmtpd, STARTTLS + AUTH) and Twilio fake
(official client), with the same concurrency; half the messages are e-mails, half SMS. The rate is counted at the
servers (first to last accepted message). Three senders: the bare loop (a new SMTP connection per e-mail, the goal's
baseline), the bare loop keeping one SMTP connection per sending slot, and the worker. They run interleaved in rounds
(ABC, then CBA, …), each worker pass on its own freshly filled database; reported are the medians, the worker's
ratios, the ratios of each round's passes, the CPU each sender and the servers spent per message (from /proc, less
sensitive to the machine's load than rates) and the worker's RSS. Loopback only, bounded.

    .venv/bin/python bench/notify_bench.py [--n 10000] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.notify.fakes import SmtpServer, TwilioFake, start_smtp  # noqa: E402

CONCURRENCY = 16
# The bare loop as the goal defines it (a new SMTP connection per e-mail), the bare loop keeping one SMTP connection
# per sending slot (the leanest sender there is), and the rathaus worker.
SENDERS = ("bare", "bare_reuse", "worker")


# --- the bare loop (run in its own process) -----------------------------------------------------------


async def bare(n: int, env: dict[str, str], *, reuse: bool) -> None:
    """Send n messages (half e-mail, half SMS) with aiosmtplib and the twilio client directly.

    `reuse`: each of the CONCURRENCY sending slots keeps one SMTP connection (else one connection per e-mail).
    """
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
    smtp_options: dict[str, Any] = {
        "hostname": "127.0.0.1", "port": int(settings["smtp_port"]), "username": settings["smtp_username"],
        "password": settings["smtp_password"], "start_tls": True, "tls_context": tls, "local_hostname": "rathaus.test",
    }  # fmt: skip
    connections: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
    if reuse:
        for _ in range(CONCURRENCY):
            connection = aiosmtplib.SMTP(**smtp_options)
            await connection.connect()
            connections.put_nowait(connection)

    async def one(i: int) -> None:
        async with gate:
            if i % 2 == 0:
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = settings["mail_from"], f"c{i}@example.org", "Erinnerung"
                msg["Message-ID"] = f"<bare.{i}.x@rathaus.test>"
                msg.set_content("Erinnerung an Ihren Termin.")
                msg.add_alternative("<p>Erinnerung an Ihren Termin.</p>", subtype="html")
                if reuse:
                    connection = await connections.get()
                    await connection.send_message(msg)
                    connections.put_nowait(connection)
                else:
                    await aiosmtplib.send(msg, **smtp_options)
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process: the SMTP server's and the Twilio fake's threads (and this cheap poll)."""
    times = os.times()
    return times.user + times.system


class Arrivals:
    """Counts accepted messages at both servers with their times."""

    def __init__(self, smtp: SmtpServer, twilio: TwilioFake) -> None:
        self.smtp, self.twilio = smtp, twilio

    def reset(self) -> None:
        with self.smtp.lock:
            self.smtp.messages.clear()
            self.smtp.accepted_at.clear()
        with self.twilio.lock:
            self.twilio.sent.clear()

    def count(self) -> int:
        return len(self.smtp.messages) + len(self.twilio.sent)


@dataclass
class Pass:
    """One sender's pass over n messages: rate between the first and the n-th arrival, and the CPU it cost."""

    sender: str
    round: int
    seconds: float
    per_s: float
    sender_cpu_ms_per_message: float
    servers_cpu_ms_per_message: float
    load_average: tuple[float, float, float]
    rss_kib: list[int] = field(repr=False)


def run_pass(
    sender: str, round_: int, command: list[str], env: dict[str, str], arrivals: Arrivals, n: int, timeout: float
) -> Pass:
    """Start the sender, time it from the first to the n-th accepted message, and stop it."""
    arrivals.reset()
    load = os.getloadavg()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[int] = []
    first: tuple[float, float, float] | None = None  # (time, sender CPU, servers' CPU) at the first arrival
    deadline = time.monotonic() + timeout
    try:
        while arrivals.count() < n:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{sender}: only {arrivals.count()} of {n} messages arrived")
            if first is None and arrivals.count() > 0:
                first = (time.monotonic(), cpu_seconds(process.pid), own_cpu_seconds())
            samples.append(rss_kib(process.pid))
            time.sleep(0.02)
        end = (time.monotonic(), cpu_seconds(process.pid), own_cpu_seconds())
    finally:
        process.terminate()
        process.wait(30)
    start = first or end
    seconds = max(end[0] - start[0], 1e-6)
    return Pass(
        sender=sender,
        round=round_,
        seconds=round(seconds, 3),
        per_s=round(n / seconds, 1),
        sender_cpu_ms_per_message=round((end[1] - start[1]) * 1000 / n, 3),
        servers_cpu_ms_per_message=round((end[2] - start[2]) * 1000 / n, 3),
        load_average=load,
        rss_kib=samples,
    )


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()


def summary(passes: list[Pass], n: int) -> dict[str, Any]:
    """Medians of the rounds, the worker's ratio to each bare loop, and the ratios of each round's passes."""
    by = {sender: [p for p in passes if p.sender == sender] for sender in SENDERS}
    rate = {sender: statistics.median(p.per_s for p in runs) for sender, runs in by.items()}
    rss = [kib for p in by["worker"] for kib in p.rss_kib]
    quarter = max(len(rss) // 4, 1)
    return {
        "messages": n,
        "rounds": len(by["worker"]),
        "per_s": rate,
        "ratio": round(rate["worker"] / rate["bare"], 3),
        "per_round_ratios": [round(w.per_s / b.per_s, 3) for b, w in zip(by["bare"], by["worker"], strict=True)],
        "ratio_to_bare_reusing_connections": round(rate["worker"] / rate["bare_reuse"], 3),
        "per_round_ratios_to_bare_reusing_connections": [
            round(w.per_s / b.per_s, 3) for b, w in zip(by["bare_reuse"], by["worker"], strict=True)
        ],
        "sender_cpu_ms_per_message": {
            sender: statistics.median(p.sender_cpu_ms_per_message for p in runs) for sender, runs in by.items()
        },
        "servers_cpu_ms_per_message": {
            sender: statistics.median(p.servers_cpu_ms_per_message for p in runs) for sender, runs in by.items()
        },
        "worker_rss_mib_first_quarter_max": round(max(rss[:quarter]) / 1024, 1) if rss else None,
        "worker_rss_mib_last_quarter_max": round(max(rss[-quarter:]) / 1024, 1) if rss else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, help="messages per pass (default 10000; --quick: 400)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a small run proving the script works")
    parser.add_argument("--timeout", type=float, default=600, help="seconds one pass may take")
    parser.add_argument("--output", type=Path, help="JSON file (default: bench/results/notify-<time>.json)")
    parser.add_argument("--bare", choices=["new", "reuse"], help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    n = args.n or (400 if args.quick else 10_000)
    if args.bare:
        asyncio.run(bare(n, json.loads(args.settings), reuse=args.bare == "reuse"))
        return {}

    started = datetime.now(UTC)
    machine = {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(), "git_commit": git("rev-parse", "HEAD")}
    machine["git_uncommitted_in_rathaus"] = git("status", "--short", "rathaus", "bench").splitlines()
    tmp = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    smtp = start_smtp(tmp)
    twilio = TwilioFake()
    twilio.start()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    settings = {**smtp.env(), **twilio.env()}
    arrivals = Arrivals(smtp, twilio)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    bare_command = [sys.executable, __file__, "--n", str(n), "--settings", json.dumps(settings), "--bare"]
    worker_env = {
        **env,
        "RATHAUS_SECRET_KEY": "bench-secret-" + "x" * 40,
        "RATHAUS_ENVIRONMENT": "test",
        "RATHAUS_LOG_LEVEL": "WARNING",
        "RATHAUS_NOTIFY_CONCURRENCY": str(CONCURRENCY),
        **settings,
    }
    worker_command = [sys.executable, "-c", "from rathaus.cli import main; main()", "worker", "--idle", "0.5"]
    passes: list[Pass] = []
    try:
        # Every round gets its own database, filled before any pass runs so the filling never overlaps one.
        urls = [f"sqlite+aiosqlite:///{tmp / f'round{r}.db'}" for r in range(args.rounds)]
        for url in urls:
            asyncio.run(populate(url, n))
        for r, url in enumerate(urls):
            # ABC… then …CBA: no sender always runs first (or last) in its round.
            for sender in SENDERS if r % 2 == 0 else SENDERS[::-1]:
                if sender == "worker":
                    worker_env["RATHAUS_DATABASE_URL"] = url
                    command, sender_env = worker_command, worker_env
                else:
                    command, sender_env = [*bare_command, "reuse" if sender == "bare_reuse" else "new"], env
                passes.append(run_pass(sender, r + 1, command, sender_env, arrivals, n, args.timeout))
    finally:
        smtp.stop()
        twilio.stop()
    machine["load_average_at_end"] = os.getloadavg()
    result: dict[str, Any] = {
        "started": started.isoformat(),
        "machine": machine,
        **summary(passes, n),
        "passes": [{k: v for k, v in asdict(p).items() if k != "rss_kib"} for p in passes],
    }
    print(json.dumps({k: v for k, v in result.items() if k != "passes"}, indent=2))
    for p in passes:
        print(f"round {p.round} {p.sender:10} {p.per_s:8.1f}/s  sender CPU {p.sender_cpu_ms_per_message:.2f} ms/msg  "
              f"servers CPU {p.servers_cpu_ms_per_message:.2f} ms/msg  load {p.load_average[0]:.1f}")  # fmt: skip
    suffix = "-quick" if args.quick else ""
    output = args.output or ROOT / "bench" / "results" / f"notify-{started:%Y%m%dT%H%M%S}{suffix}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2))
    print(f"written {output}")
    return result


if __name__ == "__main__":
    main()
