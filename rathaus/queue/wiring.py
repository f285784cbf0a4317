"""The queue domain's routes, plugins, lifespans, jobs and commands."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.plugins import PluginProtocol

from rathaus.queue.controllers import PublicQueueController, QueueController, TicketController
from rathaus.queue.deps import DEPENDENCIES
from rathaus.queue.display_pages import DisplayLauncher
from rathaus.queue.jobs import close_days, live_lifespan
from rathaus.queue.live import QueueHub
from rathaus.queue.office_pages import OfficePageRenders, OfficePages
from rathaus.queue.pg_channels import KeptConnectionChannelsBackend
from rathaus.settings import Settings
from rathaus.wiring import Wiring


def _channels(settings: Settings) -> Sequence[PluginProtocol]:
    """Live-board fan-out: PostgreSQL LISTEN/NOTIFY reaches every instance; SQLite means one instance."""
    backend: ChannelsBackend
    if settings.is_sqlite:
        backend = MemoryChannelsBackend()
    else:
        dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        backend = KeptConnectionChannelsBackend(dsn)
    return [ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True)]


WIRING = Wiring(
    routes=[QueueController, TicketController, PublicQueueController, OfficePages, DisplayLauncher],
    dependencies=DEPENDENCIES,
    plugins=_channels,
    lifespans=[live_lifespan],
    jobs=[(close_days, 300)],
    components=[(QueueHub, lambda _runtime: QueueHub()), (OfficePageRenders, lambda _runtime: OfficePageRenders())],
)
