"""Keeping exported feed files current."""

from __future__ import annotations

from rathaus.notify.calendar.export import export_feeds
from rathaus.runtime import Runtime


async def export_feed_files(runtime: Runtime) -> object:
    """Rewrite changed feed files when RATHAUS_FEEDS_EXPORT_DIR is set."""
    directory = runtime.settings.feeds_export_dir
    if directory is None:
        return []
    return await export_feeds(runtime, directory)
