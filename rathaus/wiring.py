"""How a domain package plugs into the app, the scheduler, the event bus and the CLI without editing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
from litestar import Litestar
from litestar.di import Provide
from litestar.plugins import PluginProtocol
from litestar.types import ControllerRouterHandler

from rathaus.events import DomainEvent, Handler

if TYPE_CHECKING:
    from rathaus.runtime import Runtime
    from rathaus.settings import Settings

Job = Callable[["Runtime"], Awaitable[object]]


@dataclass(frozen=True)
class Wiring:
    """What one package contributes; each package's `wiring.py` defines `WIRING`."""

    routes: Sequence[ControllerRouterHandler] = ()
    # Handler parameters the package's controllers (and those of packages above it) inject by name.
    dependencies: Mapping[str, Provide] = field(default_factory=dict)
    # Built per app, from its settings (e.g. a channels backend on the configured database).
    plugins: Callable[[Settings], Sequence[PluginProtocol]] = lambda _settings: ()
    lifespans: Sequence[Callable[[Litestar], AbstractAsyncContextManager[Any]]] = ()
    # (job, seconds between runs): each run opens its own session and claims its work in the database.
    jobs: Sequence[tuple[Job, int]] = ()
    commands: Sequence[click.Command] = ()
    # Reactions to other packages' domain events, run inside the publisher's transaction; each handler is
    # made once per instance from its runtime (so it can reach the instance's caches).
    subscriptions: Sequence[tuple[type[DomainEvent], Callable[[Runtime], Handler]]] = ()
    # Long-lived objects of one instance (a cache, a live-stream hub), built once from the runtime.
    components: Sequence[tuple[type, Callable[[Runtime], object]]] = ()
