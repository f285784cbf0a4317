"""The caches read behind the scenes only on the app's own event loop.

The tests run the app on one loop and reach its components from another (the harness's); a background read
started there would use the app's database connections from the wrong thread.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from rathaus.booking.service import AvailabilityCache
from rathaus.offices.catalog import Catalog
from tests.conftest import Harness
from tests.factories import make_config

pytestmark = pytest.mark.anyio


async def test_a_reader_on_another_loop_starts_no_background_read(harness: Harness) -> None:
    await harness.load(make_config())
    catalog = harness.runtime.get(Catalog)
    cache = harness.runtime.get(AvailabilityCache)
    answer = await harness.client.get("/api/v1/offices/amt/availability?services=a&date=2027-01-12")
    assert answer.status_code == 200
    snapshot = catalog.peek(now=harness.clock.now())
    assert snapshot is not None
    office = snapshot.offices["amt"]
    day = office.local_day(harness.clock.now()) + timedelta(days=1)
    harness.clock.advance(timedelta(seconds=3600 * 0.75))  # past half the cache time: due for a re-read

    before = asyncio.all_tasks()
    assert catalog.peek(now=harness.clock.now()) is snapshot  # served as always
    assert cache.claims(office, day, now=harness.clock.now()) is not None
    assert asyncio.all_tasks() == before
