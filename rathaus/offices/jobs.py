"""Scheduled work of the catalogue."""

from __future__ import annotations

from rathaus.jobs import run_unit
from rathaus.offices.catalog import Catalog
from rathaus.offices.holidays import load_new_holidays
from rathaus.runtime import Runtime


async def load_public_holidays(runtime: Runtime) -> object:
    """Add the public holidays of a new year (this year's and the next are always known)."""
    now = runtime.clock.now()
    catalog = runtime.get(Catalog)
    return await run_unit(runtime, lambda s: load_new_holidays(s, catalog=catalog, now=now))
