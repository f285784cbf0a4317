"""Fixtures of the notification tests: a real SMTP server, a Twilio fake, and the app pointed at both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rathaus.clock import ManualClock
from rathaus.notify.dispatcher import Dispatcher
from tests.conftest import Harness, open_harness
from tests.notify.fakes import SmtpServer, TwilioFake, start_smtp


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = start_smtp(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    fake = TwilioFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
async def notify_harness(
    db_url: str, clock: ManualClock, smtp: SmtpServer, twilio: TwilioFake
) -> AsyncIterator[Harness]:
    """The app on each database kind, its e-mail going to `smtp` and its SMS to `twilio`."""
    async with open_harness(db_url, clock, smtp=smtp.settings(), twilio=twilio.settings()) as h:
        yield h


@pytest.fixture
async def dispatcher(notify_harness: Harness) -> AsyncIterator[Dispatcher]:
    """A dispatcher on the test's own engine, reading the harness clock."""
    d = Dispatcher(notify_harness.runtime, worker_id="test-worker")
    yield d
    await d.channels.close()
