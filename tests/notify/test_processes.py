"""Real `rathaus worker` processes: SIGKILL and SIGTERM mid-batch, a provider slower than the lease, and two
workers on one PostgreSQL. Every message must reach the servers exactly once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rathaus.db import create_engine, create_session_maker
from rathaus.notify.models import OutboxMessage
from tests.conftest import TEST_SECRET
from tests.notify.fakes import SmtpServer, TwilioFake, fill_outbox, wait_until


async def _count(url: str, status: str) -> int:
    engine = create_engine(url, pool_size=0 if url.startswith("postgresql") else 1)
    try:
        async with create_session_maker(engine)() as session:
            query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


async def _statuses(url: str) -> Counter[str]:
    """How many outbox rows are in each status, and how many are claimed by nobody's live lease (`unowned`)."""
    engine = create_engine(url, pool_size=0 if url.startswith("postgresql") else 1)
    try:
        async with create_session_maker(engine)() as session:
            rows = (await session.execute(select(OutboxMessage.status, OutboxMessage.claimed_by))).all()
            return Counter(status for status, _ in rows)
    finally:
        await engine.dispose()


async def _held_by(url: str, worker: str) -> int:
    engine = create_engine(url, pool_size=0 if url.startswith("postgresql") else 1)
    try:
        async with create_session_maker(engine)() as session:
            query = select(func.count()).where(OutboxMessage.status == "claimed", OutboxMessage.claimed_by == worker)
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


def _worker_id(log: Path) -> str | None:
    """The id a worker announced in its log once it was ready ("rathaus worker ID: dispatching")."""
    match = re.search(r"rathaus worker (\S+): dispatching", log.read_text())
    return match.group(1) if match else None


async def _workers(url: str) -> set[str]:
    engine = create_engine(url, pool_size=0 if url.startswith("postgresql") else 1)
    try:
        async with create_session_maker(engine)() as session:
            return set((await session.scalars(select(OutboxMessage.claimed_by).distinct())).all()) - {None}
    finally:
        await engine.dispose()


def _env(url: str, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATHAUS_")}
    env.update(
        RATHAUS_DATABASE_URL=url,
        RATHAUS_SECRET_KEY=TEST_SECRET,
        RATHAUS_ENVIRONMENT="test",
        RATHAUS_PUBLIC_BASE_URL="http://rathaus.test",
        RATHAUS_NOTIFY_DIR=str(tmp_path / "files"),
        RATHAUS_LOG_LEVEL="WARNING",
    )
    env.update(smtp.env(), **twilio.env())
    for key, value in extra.items():
        env[f"RATHAUS_{key.upper()}"] = value
    return env


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-u", "-c", "from rathaus.cli import main; main()", "worker", "--idle", "0.2"],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.DEVNULL,
            stderr=output,
        )


def _assert_each_sent_once(ids: list[int], smtp: SmtpServer, twilio: TwilioFake) -> None:
    mails, sms = smtp.outbox_ids(), twilio.outbox_ids()
    assert set(mails) | set(sms) == set(ids)
    assert set(mails.values()) == {1} and set(sms.values()) == {1}, "a message was sent twice"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_sigkill_mid_batch_then_restart_sends_every_message_exactly_once(
    db_url: str, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path
) -> None:
    ids = asyncio.run(fill_outbox(db_url, 120))
    # Both servers answer 15 messages each, then hold their answers: the worker is stuck mid-batch.
    smtp.gate.hold_after(15)
    twilio.gate.hold_after(15)
    # A short lease, renewed while the worker lives: the dead worker's rows come back within seconds.
    env = _env(db_url, smtp, twilio, tmp_path, notify_lease_seconds="2", notify_batch_size="40")
    first_log = tmp_path / "first.log"
    first = _worker(env, first_log)
    try:
        wait_until(lambda: sum(smtp.outbox_ids().values()) == 15, what="15 e-mails", timeout=60)
        wait_until(lambda: sum(twilio.outbox_ids().values()) == 15, what="15 SMS", timeout=60)
        wait_until(lambda: asyncio.run(_count(db_url, "sent")) == 30, what="30 recorded as sent", timeout=30)
        assert asyncio.run(_count(db_url, "claimed")) > 0  # rows in flight when the process dies
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = time.monotonic()
    assert first.returncode == -signal.SIGKILL
    dead = _worker_id(first_log)
    assert dead is not None and asyncio.run(_held_by(db_url, dead)) > 0
    # The answers held for the dead worker now go out to closed connections: the servers do not count them
    # (once they have seen those connections close, which takes their event loops a moment).
    wait_until(
        lambda: smtp.gate.held_connections_closed() and twilio.gate.held_connections_closed(),
        what="the servers to see the dead worker's connections close",
        timeout=30,
    )
    smtp.gate.release()
    twilio.gate.release()
    second_log = tmp_path / "second.log"
    started_at = time.monotonic()
    second = _worker(env, second_log)
    try:
        wait_until(lambda: _worker_id(second_log) is not None, what="the second worker to start", timeout=60)
        ready_at = time.monotonic()
        wait_until(lambda: asyncio.run(_held_by(db_url, dead)) == 0, what="the dead worker's rows reclaimed")
        # Within the lease (2 s; 2 + 5 s for rows on the wire, whose lease covers the provider's timeout) of the
        # kill, give or take the new worker's start-up: not the old two minutes.
        assert time.monotonic() - killed_at < 2 + 5 + (ready_at - started_at) + 3
        wait_until(lambda: asyncio.run(_count(db_url, "sent")) == len(ids), what="every message sent", timeout=90)
    finally:
        _stop(second)
    _assert_each_sent_once(ids, smtp, twilio)
    assert len(smtp.outbox_ids()) == len(twilio.outbox_ids()) == 60


@pytest.mark.postgres
def test_two_workers_on_one_postgresql_send_1000_messages_once_each(
    pg_database: str, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path
) -> None:
    from tests.conftest import _truncate_pg

    asyncio.run(_truncate_pg(pg_database))
    ids = asyncio.run(fill_outbox(pg_database, 1000))
    env = _env(pg_database, smtp, twilio, tmp_path, notify_batch_size="25", db_pool_size="4")
    workers = [_worker(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        wait_until(lambda: asyncio.run(_count(pg_database, "sent")) == 1000, what="1000 sent", timeout=180)
    finally:
        for worker in workers:
            _stop(worker)
    _assert_each_sent_once(ids, smtp, twilio)
    assert len(asyncio.run(_workers(pg_database))) == 2  # both took part


def test_sigterm_finishes_sends_on_the_wire_hands_back_the_rest_and_nothing_is_sent_twice(
    db_url: str, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path
) -> None:
    ids = asyncio.run(fill_outbox(db_url, 80))
    smtp.gate.hold_after(10)
    twilio.gate.hold_after(10)
    # A long lease: a row kept claimed by the stopped worker would visibly wait for it.
    env = _env(db_url, smtp, twilio, tmp_path, notify_lease_seconds="600", shutdown_grace_seconds="60")
    log = tmp_path / "first.log"
    first = _worker(env, log)
    try:
        wait_until(lambda: smtp.gate.admitted > 10 and twilio.gate.admitted > 10, what="sends held", timeout=120)
        first.send_signal(signal.SIGTERM)
        wait_until(lambda: "stopping" in log.read_text(), what="the worker to stop claiming")
        smtp.gate.release()
        twilio.gate.release()
        assert first.wait(30) == 0, log.read_text()
    finally:
        _stop(first)
    received = sum(smtp.outbox_ids().values()) + sum(twilio.outbox_ids().values())
    statuses = asyncio.run(_statuses(db_url))
    # Every send that was on the wire finished and was recorded; nothing stays claimed; the rest is due at once.
    assert received > 20
    assert statuses == Counter(sent=received, pending=len(ids) - received)
    second = _worker(env, tmp_path / "second.log")
    try:
        wait_until(lambda: asyncio.run(_count(db_url, "sent")) == len(ids), what="every message sent", timeout=60)
    finally:
        _stop(second)
    _assert_each_sent_once(ids, smtp, twilio)


@pytest.mark.postgres
def test_a_provider_slower_than_the_lease_sends_nothing_twice_with_two_workers(
    pg_database: str, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path
) -> None:
    from tests.conftest import _truncate_pg

    asyncio.run(_truncate_pg(pg_database))
    ids = asyncio.run(fill_outbox(pg_database, 48))
    # Each message takes 1.5 s to be accepted, the lease is 1 s: only the heartbeat keeps claims alive, and the
    # claim size (measured pace) keeps claimed rows from queueing behind a full set of connections.
    smtp.delay = twilio.delay = 1.5
    env = _env(pg_database, smtp, twilio, tmp_path, notify_lease_seconds="1", notify_concurrency="4")
    workers = [_worker(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        wait_until(lambda: asyncio.run(_count(pg_database, "sent")) == len(ids), what="all sent", timeout=120)
    finally:
        for worker in workers:
            _stop(worker)
    _assert_each_sent_once(ids, smtp, twilio)
    assert len(asyncio.run(_workers(pg_database))) == 2
