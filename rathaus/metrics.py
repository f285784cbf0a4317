"""Operations: Prometheus metrics and a readiness check.

Request rates and latencies are counted by a small ASGI middleware, labelled with the route template (never the
raw path, which can carry booking codes and feed tokens), under the names Litestar's Prometheus middleware uses;
it runs on every request, so it resolves its labels once per route, method and status. Bookings, tickets and
outbox rows by status, and how far the dispatcher lags behind, are counted in the database at each scrape, so
every instance reports the same numbers. Labels are statuses, channels and office slugs only: no personal data.
"""

from __future__ import annotations

import hmac
import logging
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import accumulate
from math import isinf
from time import perf_counter, time
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.models import Booking
from rathaus.errors import RathausError
from rathaus.notify.models import OUTBOX_STATUSES, OutboxMessage
from rathaus.offices.models import Office
from rathaus.queue.models import Ticket
from rathaus.settings import Settings
from rathaus.web import runtime_of

log = logging.getLogger("rathaus.metrics")

BOOKING_STATUSES = ("pending", "confirmed", "checked_in", "serving", "completed", "no_show", "cancelled", "expired")
TICKET_STATUSES = ("waiting", "called", "completed", "no_show", "closed")
CHANNELS = ("email", "sms")
# Not yet handed to a provider: what the dispatcher still has to do.
_UNSENT = ("pending", "claimed")
# Operations endpoints: not counted as traffic.
_OPERATIONS = frozenset({"/metrics", "/ready"})
_LABELS = ("method", "path", "status_code", "app_name")
_APP = "rathaus"
# prometheus_client's default histogram buckets, as Litestar's middleware used them.
_BOUNDS = Histogram.DEFAULT_BUCKETS
# Their names as Prometheus writes them ("0.005" … "10.0", "+Inf").
_LE = ["+Inf" if isinf(bound) else repr(float(bound)) for bound in _BOUNDS]


class _Finished:
    """The requests of one method, route template and status so far: how many, their summed duration and how many
    took at most each bucket's bound (and more than the one before)."""

    __slots__ = ("buckets", "count", "created", "labels", "seconds")

    def __init__(self, labels: tuple[str, ...]) -> None:
        self.labels = labels
        self.created = time()
        self.count = 0
        self.seconds = 0.0
        self.buckets = [0] * len(_BOUNDS)

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds
        self.buckets[bisect_left(_BOUNDS, seconds)] += 1


class _Running:
    __slots__ = ("count", "labels")

    def __init__(self, labels: tuple[str, ...]) -> None:
        self.labels = labels
        self.count = 0


# Counted in plain Python on the event loop, and turned into Prometheus' families at each scrape: the metric
# objects of prometheus_client take a lock per value changed, five per request (4 µs of a 20 µs answer).
_done: dict[tuple[str, str, int], _Finished] = {}
_running: dict[tuple[str, str], _Running] = {}


def _finished(method: str, template: str, status: int) -> _Finished:
    key = (method, template, status)
    found = _done.get(key)
    if found is None:
        found = _done[key] = _Finished((method, template, str(status), _APP))
    return found


def _in_progress(method: str, template: str) -> _Running:
    running = _running.get((method, template))
    if running is None:
        # Litestar's middleware counted requests in progress with the status they start with.
        running = _running[(method, template)] = _Running((method, template, "200", _APP))
    return running


class _RequestFamilies(Collector):
    """The request metrics under the names and with the samples of prometheus_client's own metric objects."""

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily("rathaus_http_requests", "Total requests", labels=_LABELS)
        errors = CounterMetricFamily("rathaus_http_requests_error", "Total errors in requests", labels=_LABELS)
        durations = HistogramMetricFamily(
            "rathaus_http_request_duration_seconds", "Request duration, in seconds", labels=_LABELS
        )
        running = GaugeMetricFamily(
            "rathaus_http_requests_in_progress", "Total requests currently in progress", labels=_LABELS
        )
        for done in list(_done.values()):
            requests.add_metric(done.labels, done.count, created=done.created)
            if int(done.labels[2]) >= 500:
                errors.add_metric(done.labels, done.count, created=done.created)
            durations.add_metric(done.labels, list(zip(_LE, accumulate(done.buckets), strict=True)), done.seconds)
            durations.samples.append(
                Sample(f"{durations.name}_created", dict(zip(_LABELS, done.labels, strict=True)), done.created)
            )
        for gauge in list(_running.values()):
            running.add_metric(gauge.labels, gauge.count)
        return [requests, errors, durations, running]


REGISTRY.register(_RequestFamilies())


def request_metrics(app: ASGIApp) -> ASGIApp:
    """Middleware: requests per route template, method and status, with their durations (up to the last part of
    the body sent) and how many are in progress."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        template = scope["path_template"]
        if template in _OPERATIONS:
            await app(scope, receive, send)
            return
        method = scope["method"] if scope["type"] == ScopeType.HTTP else "websocket"
        started = perf_counter()
        span = [200, 0.0]  # status, duration

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                span[0] = message["status"]
            elif message["type"] == "http.response.body":
                span[1] = perf_counter() - started
            await send(message)

        running = _in_progress(method, template)
        running.count += 1
        try:
            await app(scope, receive, observed)
        finally:
            running.count -= 1
            _finished(method, template, int(span[0])).observe(span[1])

    return middleware


class _Families(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


async def _by_status(
    session: AsyncSession, column: Any, office_column: Any, statuses: Sequence[str], offices: dict[int, str]
) -> dict[tuple[str, str], int]:
    counts = {(slug, status): 0 for slug in offices.values() for status in statuses}
    for office_id, status, count in await session.execute(
        select(office_column, column, func.count()).group_by(office_column, column)
    ):
        if office_id in offices:
            counts[(offices[office_id], status)] = count
    return counts


async def domain_families(session: AsyncSession, *, now: datetime) -> list[Metric]:
    """Bookings and tickets per office and status, outbox rows per channel and status, and the dispatcher's lag."""
    offices = dict((await session.execute(select(Office.id, Office.slug))).tuples().all())
    bookings = GaugeMetricFamily("rathaus_bookings", "Bookings in the database", labels=["office", "status"])
    for (office, status), count in (
        await _by_status(session, Booking.status, Booking.office_id, BOOKING_STATUSES, offices)
    ).items():
        bookings.add_metric([office, status], count)
    tickets = GaugeMetricFamily("rathaus_tickets", "Queue tickets in the database", labels=["office", "status"])
    for (office, status), count in (
        await _by_status(session, Ticket.status, Ticket.office_id, TICKET_STATUSES, offices)
    ).items():
        tickets.add_metric([office, status], count)
    outbox = GaugeMetricFamily("rathaus_outbox_messages", "Outbox rows", labels=["channel", "status"])
    counts = {(channel, status): 0 for channel in CHANNELS for status in OUTBOX_STATUSES}
    for channel, status, count in await session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
            OutboxMessage.channel, OutboxMessage.status
        )
    ):
        counts[(channel, status)] = count
    for (channel, status), count in counts.items():
        outbox.add_metric([channel, status], count)
    oldest = await session.scalar(
        select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status.in_(_UNSENT), OutboxMessage.due_at <= now)
    )
    lag = GaugeMetricFamily(
        "rathaus_outbox_lag_seconds", "Age of the oldest message that is due and not yet sent (0 if none)"
    )
    lag.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)
    return [bookings, tickets, outbox, lag]


def _check_token(settings: Settings, request: Request[Any, Any, Any]) -> None:
    expected = settings.metrics_token
    if not expected:
        return
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        raise RathausError("unauthorized")


@get("/metrics", include_in_schema=False, cache=False)
async def metrics(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    """Prometheus metrics of this instance (with RATHAUS_METRICS_TOKEN set: only with that bearer token)."""
    runtime = runtime_of(state)
    _check_token(runtime.settings, request)
    async with runtime.read_session_maker() as session:
        families = await domain_families(session, now=runtime.clock.now())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


@get("/ready", include_in_schema=False, cache=False)
async def ready(state: State) -> Response[dict[str, str]]:
    """Readiness for load balancers: 200 if the database answers, 503 if not."""
    runtime = runtime_of(state)
    try:
        async with runtime.read_session_maker() as session:
            await session.execute(text("SELECT 1"))
    except Exception as error:  # any failure means: send no traffic here
        log.warning("readiness: the database does not answer: %s", type(error).__name__)
        return Response(
            {"status": "unavailable", "database": "down"},
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Cache-Control": "no-store", "Retry-After": "5"},
        )
    return Response({"status": "ready", "database": "up"}, headers={"Cache-Control": "no-store"})
