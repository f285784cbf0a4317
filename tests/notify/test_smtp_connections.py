"""SMTP connections reused within a pass: closed with QUIT when it ends, and a connection the server dropped or ended
(421) costs a reconnect, never a lost or doubled message."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.jobs import run_unit
from rathaus.notify.channels import OutgoingEmail, SendFailure, SmtpChannel, build_email
from rathaus.notify.dispatcher import Dispatcher
from rathaus.notify.service import enqueue
from tests.conftest import Harness
from tests.notify.fakes import SmtpServer

pytestmark = pytest.mark.anyio


def email(n: int, to: str = "") -> OutgoingEmail:
    return OutgoingEmail(n, f"test:{n}", to or f"citizen{n}@example.org", "Test", "Text", "<p>Text</p>")


async def _enqueue_emails(session: AsyncSession, *, now: datetime, count: int) -> None:
    for n in range(count):
        enqueue(
            session,
            kind="test",
            channel="email",
            recipient=f"citizen{n}@example.org",
            language="de",
            due_at=now,
            dedupe_key=f"test:{n}",
            now=now,
        )


async def test_a_pass_reuses_its_smtp_connections_and_closes_them_with_quit_when_it_ends(
    notify_harness: Harness, smtp: SmtpServer
) -> None:
    h = notify_harness
    now = h.clock.now()
    await run_unit(h.runtime, lambda s: _enqueue_emails(s, now=now, count=10))
    dispatcher = Dispatcher(h.runtime, worker_id="test-worker", concurrency=2)
    channel = dispatcher.channels.email
    assert isinstance(channel, SmtpChannel)
    try:
        assert (await dispatcher.dispatch()).outcomes == {"sent": 10}
    finally:
        await dispatcher.channels.close()
    assert sorted(smtp.outbox_ids().values()) == [1] * 10
    # At most one connection per concurrent send, and each said goodbye when the pass ended.
    assert 1 <= channel.connections_opened <= 2
    assert smtp.quits == channel.connections_opened


async def test_a_connection_the_server_ended_or_dropped_costs_a_reconnect_not_a_message(
    notify_harness: Harness, smtp: SmtpServer
) -> None:
    channel = SmtpChannel(notify_harness.runtime.settings)
    now = notify_harness.clock.now()
    smtp.per_connection = 2  # the third MAIL FROM on a connection is answered 421
    try:
        for n in range(5):
            await channel.send(email(n), now=now)
        assert channel.connections_opened == 3
        smtp.drop_connections()  # the server restarts or times the idle connection out
        await channel.send(email(5), now=now)
        assert channel.connections_opened == 4
    finally:
        await channel.close()
    assert smtp.outbox_ids() == {n: 1 for n in range(6)}
    assert smtp.quits == 1  # the one connection still open at the end


async def test_a_refused_recipient_fails_that_message_only(notify_harness: Harness, smtp: SmtpServer) -> None:
    channel = SmtpChannel(notify_harness.runtime.settings)
    now = notify_harness.clock.now()
    smtp.refuse.add("nobody@example.org")
    try:
        with pytest.raises(SendFailure) as failure:
            await channel.send(email(0, "nobody@example.org"), now=now)
        assert failure.value.permanent and failure.value.code == "550"
        await channel.send(email(1), now=now)
    finally:
        await channel.close()
    assert smtp.outbox_ids() == {1: 1}


def test_an_international_address_is_written_as_utf8_headers_an_ascii_one_as_encoded_words() -> None:
    now = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
    message = OutgoingEmail(7, "test:7", "jürgen@bücher.example", "Grüße aus dem Bürgeramt", "Text", "<p>Text</p>")
    raw = build_email(message, sender="Bürgeramt <termine@rathaus.test>", domain="rathaus.test", now=now)
    assert "To: jürgen@bücher.example".encode() in raw
    ascii_raw = build_email(email(8), sender="Bürgeramt <termine@rathaus.test>", domain="rathaus.test", now=now)
    assert ascii_raw.isascii()
    parsed = message_from_bytes(ascii_raw, policy=policy.default)
    assert parsed["From"] == "Bürgeramt <termine@rathaus.test>" and parsed["Message-ID"].startswith("<rathaus.8.")
