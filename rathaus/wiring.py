"""How a domain package plugs into the app, the scheduler and the CLI without editing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
from litestar import Litestar
from litestar.plugins import PluginProtocol
from litestar.types import ControllerRouterHandler

if TYPE_CHECKING:
    from rathaus.settings import Settings
    from rathaus.web import Services

Job = Callable[["Services"], Awaitable[object]]


@dataclass(frozen=True)
class Wiring:
    """What one package contributes; each package's `wiring.py` defines `WIRING`."""

    routes: Sequence[ControllerRouterHandler] = ()
    # Built per app, from its settings (e.g. a channels backend on the configured database).
    plugins: Callable[[Settings], Sequence[PluginProtocol]] = lambda _settings: ()
    lifespans: Sequence[Callable[[Litestar], AbstractAsyncContextManager[Any]]] = ()
    # (job, seconds between runs): each run opens its own session and claims its work in the database.
    jobs: Sequence[tuple[Job, int]] = ()
    commands: Sequence[click.Command] = ()
    # Per-app objects put on the app state under these names (e.g. a cache), built at app creation.
    state: Mapping[str, Callable[[], object]] = field(default_factory=dict)
