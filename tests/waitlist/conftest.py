"""The app for waiting-list tests: caches that outlive the hours and days the tests move the clock on.

Jobs run on the test's own event loop with the harness's runtime; a cache past half its age would start its
refresh there, on a loop the app does not own.
"""

from collections.abc import AsyncIterator

import pytest

from rathaus.clock import ManualClock
from tests.conftest import Harness, open_harness

LONG_CACHE = 30 * 86400.0


@pytest.fixture
async def harness(db_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    """The app on each database kind, with caches kept for a month."""
    async with open_harness(db_url, clock, availability_cache_seconds=LONG_CACHE) as h:
        yield h
