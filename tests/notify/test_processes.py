"""Real `rathaus worker` processes: SIGKILL mid-batch and restart, and two workers on one PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rathaus.db import create_engine, create_session_maker
from rathaus.notify.models import OutboxMessage
from rathaus.notify.service import enqueue
from tests.conftest import TEST_SECRET
from tests.notify.fakes import SmtpServer, TwilioFake, wait_until


async def _fill(url: str, count: int) -> list[int]:
    """`count` due messages, alternating e-mail and SMS, as the queue or a booking would write them."""
    engine = create_engine(url, pool_size=1)
    now = datetime.now(UTC) - timedelta(minutes=1)
    try:
        async with create_session_maker(engine)() as session:
            for i in range(count):
                email = i % 2 == 0
                enqueue(
                    session,
                    kind="test",
                    channel="email" if email else "sms",
                    recipient=f"citizen{i}@example.org" if email else f"+4915100{i:06d}",
                    language="de" if i % 3 else "en",
                    due_at=now,
                    dedupe_key=f"test:{i}",
                    now=now,
                )
            await session.commit()
            return list((await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id))).all())
    finally:
        await engine.dispose()


async def _count(url: str, status: str) -> int:
    engine = create_engine(url, pool_size=0 if url.startswith("postgresql") else 1)
    try:
        async with create_session_maker(engine)() as session:
            query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


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
            [sys.executable, "-c", "from rathaus.cli import main; main()", "worker", "--idle", "0.2"],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.DEVNULL,
            stderr=output,
        )


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
    ids = asyncio.run(_fill(db_url, 120))
    # Both servers answer 15 messages each, then hold their answers: the worker is stuck mid-batch.
    smtp.gate.hold_after(15)
    twilio.gate.hold_after(15)
    # The lease must outlast a batch on a loaded machine: the dispatcher does not renew it yet, so a batch slower
    # than its lease is claimed a second time (issue #11), which is not what this test is about.
    env = _env(db_url, smtp, twilio, tmp_path, notify_lease_seconds="8", notify_batch_size="40")
    first = _worker(env, tmp_path / "first.log")
    try:
        wait_until(lambda: sum(smtp.outbox_ids().values()) == 15, what="15 e-mails", timeout=60)
        wait_until(lambda: sum(twilio.outbox_ids().values()) == 15, what="15 SMS", timeout=60)
        wait_until(lambda: asyncio.run(_count(db_url, "sent")) == 30, what="30 recorded as sent", timeout=30)
        assert asyncio.run(_count(db_url, "claimed")) > 0  # rows in flight when the process dies
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    # The answers held for the dead worker now go out to closed connections: the servers do not count them
    # (once they have seen those connections close, which takes their event loops a moment).
    wait_until(
        lambda: smtp.gate.held_connections_closed() and twilio.gate.held_connections_closed(),
        what="the servers to see the dead worker's connections close",
        timeout=30,
    )
    smtp.gate.release()
    twilio.gate.release()
    second = _worker(env, tmp_path / "second.log")
    try:
        wait_until(lambda: asyncio.run(_count(db_url, "sent")) == len(ids), what="every message sent", timeout=90)
    finally:
        _stop(second)
    mails, sms = smtp.outbox_ids(), twilio.outbox_ids()
    assert set(mails) | set(sms) == set(ids)
    assert set(mails.values()) == {1} and set(sms.values()) == {1}, "a message was sent twice"
    assert len(mails) == len(sms) == 60


@pytest.mark.postgres
def test_two_workers_on_one_postgresql_send_1000_messages_once_each(
    pg_database: str, smtp: SmtpServer, twilio: TwilioFake, tmp_path: Path
) -> None:
    from tests.conftest import _truncate_pg

    asyncio.run(_truncate_pg(pg_database))
    ids = asyncio.run(_fill(pg_database, 1000))
    env = _env(pg_database, smtp, twilio, tmp_path, notify_batch_size="25", db_pool_size="4")
    workers = [_worker(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
    try:
        wait_until(lambda: asyncio.run(_count(pg_database, "sent")) == 1000, what="1000 sent", timeout=180)
    finally:
        for worker in workers:
            _stop(worker)
    mails, sms = smtp.outbox_ids(), twilio.outbox_ids()
    assert set(mails) | set(sms) == set(ids)
    assert set(mails.values()) == {1} and set(sms.values()) == {1}, "a message was sent twice"
    assert len(asyncio.run(_workers(pg_database))) == 2  # both took part
