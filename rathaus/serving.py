"""How `rathaus serve` runs the app: Granian, with the restart guarantees of the README's "Restarts".

Granian serves 1.5-2x uvicorn's requests a second on the app's endpoints (bench/BENCHMARKS.md, "The server"). On
SIGTERM its supervisor closes the listening socket and tells every worker to stop; a worker lets its open responses
finish and then runs the app's shutdown. Its only bound on that wait is to kill the worker, which would leave the
requests still running without an answer and the app's shutdown unrun, so the app bounds it itself
(`cut_off_at_the_end_of_the_grace`) and the kill comes only once the app's own shutdown has had its time. Event
streams of boards and ticket pages end at the signal (rathaus.queue.jobs) and reconnect to another instance.
"""

from __future__ import annotations

import os
from typing import Any, cast

from litestar.types import ASGIApp

from rathaus.app import create_app
from rathaus.settings import Settings
from rathaus.web import cut_off_at_the_end_of_the_grace

# After the grace the app's shutdown waits up to a grace for the dispatcher's sends and up to one more for answers
# cut off while committing; then it closes the database connections within this margin.
_KILL_MARGIN_SECONDS = 10
# Granian serves at most this many connections per worker at once and leaves the next ones waiting, idle keep-alive
# connections and the event streams of boards and ticket pages included (its default is 1024 over the workers). uvicorn
# had no such bound; the process's open-file limit is the one that counts.
_CONNECTIONS_PER_WORKER = 65_536


def served_app() -> ASGIApp:
    """The app as every worker serves it, its requests cut off at the end of the grace; X-Forwarded-For and
    X-Forwarded-Proto are believed from the addresses in FORWARDED_ALLOW_IPS (default: this host), as uvicorn did,
    so that behind a local reverse proxy the rate limits count each client, not the proxy."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    settings = Settings.from_env()
    app = cut_off_at_the_end_of_the_grace(create_app(settings), grace=settings.shutdown_grace_seconds)
    trusted = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    return cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=trusted))


def serve(*, host: str, port: int, workers: int, grace_seconds: int) -> None:
    """Serve until SIGTERM or SIGINT, with no access log: request lines carry booking codes and ?token= secrets."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    Granian(
        f"{__name__}:served_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=host,
        port=port,
        workers=workers,
        backpressure=_CONNECTIONS_PER_WORKER,
        log_level=LogLevels.info,
        log_access=False,
        workers_kill_timeout=3 * grace_seconds + _KILL_MARGIN_SECONDS,
    ).serve()
