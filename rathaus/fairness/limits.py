"""Rate limits per client that hold across every instance, at the cost of a dict operation per request.

Each instance counts the requests of each kind (availability, booking, wish, lookup) per client in fixed windows
of a minute, in memory. Every `rate_limit_sync_seconds` it writes its own counts of the window to the shared
table and reads back the other instances' sums, so a client spreading requests over several instances is refused
once their sum reaches the limit, within about one sync interval (plus the requests it can make in that interval).
Refusing never waits for the database: availability and cached pages are answered in tens of microseconds, and a
round trip per request would cost them more than their whole answer.

Fixed windows let a client make up to twice the limit around a window's end; that is the price of counting with
one integer per client. The client is the ASGI client address: behind a proxy on another host FORWARDED_ALLOW_IPS
must name it (rathaus.serving), or every citizen counts as the proxy. Only a keyed hash of the address is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus import i18n
from rathaus.db import dialect_insert
from rathaus.errors import RathausError
from rathaus.fairness.models import RequestCount
from rathaus.page_cache import send_raw
from rathaus.settings import Settings
from rathaus.templating import render

log = logging.getLogger("rathaus.fairness")

WINDOW_SECONDS = 60
KINDS = ("availability", "booking", "wish", "lookup")

# Paths whose POST books (or moves) an appointment, or reports a barrier (a form that writes), or registers a wish.
_BOOKING_POSTS = frozenset(
    {"/api/v1/bookings", "/book/contact", "/api/v1/itineraries", "/book/itinerary", "/accessibility"}
)
_WISH_POSTS = frozenset({"/api/v1/wishes", "/wishes"})
_AVAILABILITY_PAGES = frozenset({"/book", "/book/day", "/book/time"})
# What follows these is a booking's, wish's, offer's or itinerary's code or token: guessing them is a lookup.
_LOOKUPS = (
    "/api/v1/bookings/",
    "/bookings/",
    "/api/v1/wishes/",
    "/wishes/",
    "/api/v1/offers/",
    "/offers/",
    "/api/v1/itineraries/",
    "/itineraries/",
)
_MOVES = ("/api/v1/bookings/", "/bookings/", "/api/v1/itineraries/", "/itineraries/")


def kind_of(method: str, path: str) -> str | None:
    """Which limit counts a request: a few string comparisons, no parsing."""
    if method == "GET":
        if path in _AVAILABILITY_PAGES or (path.startswith("/api/v1/offices/") and path.endswith("/availability")):
            return "availability"
    elif method == "POST":
        bare = path.rstrip("/")
        if bare in _BOOKING_POSTS:
            return "booking"
        if bare in _WISH_POSTS:
            return "wish"
        if bare.endswith("/reschedule") and bare.startswith(_MOVES):
            return "booking"
    if path.startswith(_LOOKUPS) and path != "/wishes/new":
        return "lookup"
    return None


def limits_of(settings: Settings) -> dict[str, int]:
    """The configured limit per kind of request (0: that kind is not limited)."""
    return {
        "availability": settings.availability_rate_limit_per_minute,
        "booking": settings.booking_rate_limit_per_minute,
        "wish": settings.wish_rate_limit_per_minute,
        "lookup": settings.lookup_rate_limit_per_minute,
    }


class RateLimiter:
    """The counts of one instance and the other instances' sums, by (kind, client) in the current window."""

    def __init__(self, limits: Mapping[str, int], secret_key: str, instance: str | None = None) -> None:
        self.limits = {kind: limit for kind, limit in limits.items() if limit > 0}
        self.instance = instance or secrets.token_hex(8)
        self._key = hashlib.sha256(f"rathaus.rate-limit:{secret_key}".encode()).digest()
        self._window = 0
        self._clients: dict[str, str] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._written: dict[tuple[str, str], int] = {}
        self._others: dict[tuple[str, str], int] = {}

    def admit(self, kind: str, client: str, now: float) -> int:
        """Count one request and return 0, or refuse it (uncounted) with the seconds until its window ends."""
        window = int(now) // WINDOW_SECONDS
        if window != self._window:
            self._start(window)
        digest = self._clients.get(client)
        if digest is None:
            digest = self._clients[client] = hashlib.blake2b(client.encode(), key=self._key, digest_size=16).hexdigest()
        key = (kind, digest)
        count = self._counts.get(key, 0)
        if count + self._others.get(key, 0) >= self.limits[kind]:
            return WINDOW_SECONDS - int(now) % WINDOW_SECONDS
        self._counts[key] = count + 1
        return 0

    def _start(self, window: int) -> None:
        self._window = window
        self._clients, self._counts, self._written, self._others = {}, {}, {}, {}

    async def sync(self, session_maker: async_sessionmaker[AsyncSession], now: datetime) -> None:
        """Write this instance's changed counts of the window, read the others' sums, and drop past windows."""
        window = int(now.timestamp()) // WINDOW_SECONDS
        if window != self._window:
            self._start(window)
        changed = {key: count for key, count in self._counts.items() if self._written.get(key) != count}
        async with session_maker() as session, session.begin():
            if changed:
                rows = [
                    {"instance": self.instance, "window": window, "kind": kind, "client": client, "count": count}
                    for (kind, client), count in changed.items()
                ]
                statement = dialect_insert(session, RequestCount)
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["instance", "window", "kind", "client"],
                        set_={"count": statement.excluded.count},
                    ),
                    rows,
                )
            await session.execute(delete(RequestCount).where(RequestCount.window < window))
            others = await session.execute(
                select(RequestCount.kind, RequestCount.client, func.sum(RequestCount.count))
                .where(RequestCount.window == window, RequestCount.instance != self.instance)
                .group_by(RequestCount.kind, RequestCount.client)
            )
            sums = {(kind, client): int(total) for kind, client, total in others}
        if window == self._window:
            self._written.update(changed)
            self._others = sums


@contextlib.asynccontextmanager
async def syncing(
    limiter: RateLimiter,
    session_maker: async_sessionmaker[AsyncSession],
    clock_now: Callable[[], datetime],
    every: float,
) -> AsyncIterator[None]:
    """Share the counts every `every` seconds while the app runs (not at all when `every` is 0)."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await limiter.sync(session_maker, clock_now())
            except Exception as error:
                # A failed sync must not stop the next one; the limits still hold per instance meanwhile.
                # The type only: database errors may echo bound parameters.
                log.warning("sharing the rate-limit counts failed: %s", type(error).__name__)

    task = asyncio.create_task(loop()) if every > 0 and limiter.limits else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _refuse(scope: Scope, send: Send, seconds: int, *, kind: str, sent_form: bool) -> None:
    """429 with Retry-After: JSON for the API, a page that says how long to wait for people."""
    language = i18n.current_language()
    headers = {"retry-after": str(seconds), "cache-control": "no-store"}
    if scope["path"].startswith("/api/"):
        # Bookings keep the code clients have known since the limit covered only them.
        error = RathausError("too_many_requests" if kind == "booking" else "rate_limited", seconds=seconds)
        body = msgspec.json.encode({"detail": error.message(language), "code": error.code})
        await send_raw(send, 429, headers, body, b"application/json")
        return
    html = render(
        "web/too_many.html.j2",
        language,
        request=Request[Any, Any, Any](scope),
        csrf_input="",
        seconds=seconds,
        sent_form=sent_form,
    )
    await send_raw(send, 429, headers, html.encode(), b"text/html; charset=utf-8")


def rate_limits(limiter: RateLimiter, now: Callable[[], datetime]) -> Callable[[ASGIApp], ASGIApp]:
    """The app's middleware: counts requests of limited kinds and refuses those past their limit."""
    limited = limiter.limits

    def middleware_of(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                kind = kind_of(scope["method"], scope["path"])
                if kind in limited:
                    client = scope.get("client")
                    wait = limiter.admit(kind, client[0] if client else "", now().timestamp())
                    if wait:
                        await _refuse(scope, send, wait, kind=kind, sent_form=scope["method"] == "POST")
                        return
            await app(scope, receive, send)

        return middleware

    return middleware_of
