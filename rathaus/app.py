"""create_app(settings) -> Litestar: the composition root wiring every package into one application."""

from __future__ import annotations

import gc
import logging

from litestar import Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ControllerRouterHandler, Middleware
from sqlalchemy.exc import TimeoutError as SqlalchemyTimeoutError

from rathaus.assets import static_file
from rathaus.booking.service import AvailabilityCache
from rathaus.clock import Clock
from rathaus.errors import RathausError
from rathaus.fairness import RateLimiter, kind_of, rate_limits
from rathaus.jobs import scheduler_lifespan
from rathaus.metrics import metrics, ready, request_metrics
from rathaus.offices.catalog import Catalog
from rathaus.packages import WIRINGS
from rathaus.page_cache import SKIP_COMPRESSION
from rathaus.runtime import Runtime, build_runtime
from rathaus.settings import Settings
from rathaus.staff.pages_auth import staff_nav
from rathaus.templating import environment, template_config
from rathaus.web import (
    busy_handler,
    finish_answers,
    http_error_handler,
    internal_error_handler,
    language_links,
    provide_db_session,
    provide_now,
    rathaus_error_handler,
    runtime_of,
    speak_the_reader_language,
    switch_language,
    validation_error_handler,
)
from rathaus.web_headers import security_headers
from rathaus.web_input import refuse_malformed_input
from rathaus.web_openapi import openapi_router
from rathaus.writes_first import ReadAdmission, writes_first

ROUTES: list[ControllerRouterHandler] = [route for package in WIRINGS for route in package.routes]
JOBS = [job for package in WIRINGS for job in package.jobs]
# Third-party loggers that would otherwise write phone numbers or addresses at INFO.
_QUIET_LOGGERS = ("twilio", "twilio.http_client", "twilio.async_http_client", "aiosmtplib", "httpx")


@get("/health", include_in_schema=False)
async def health() -> dict[str, str]:
    """Liveness for load balancers."""
    return {"status": "ok"}


def build(settings: Settings, clock: Clock | None = None) -> Runtime:
    """The runtime of one instance with every package wired in (also used by the CLI and the worker)."""
    return build_runtime(settings, WIRINGS, clock=clock)


def _settle_home_loops(app: Litestar) -> None:
    """The caches read behind the scenes only on the loop that serves (see rathaus.freshness.HomeLoop)."""
    runtime = runtime_of(app.state)
    runtime.get(Catalog).home.settle()
    runtime.get(AvailabilityCache).home.settle()
    if ReadAdmission in runtime.components:
        runtime.get(ReadAdmission).home.settle()


async def _dispose(app: Litestar) -> None:
    runtime = runtime_of(app.state)
    await finish_answers(within=runtime.settings.shutdown_grace_seconds)
    await runtime.dispose()


# Python's cyclic garbage collector runs a young collection every 700 allocations, and the older generations
# after a number of those; on a busy event loop that stalls every request in flight. Measured with
# bench/queue_bench.py (SQLite, 200 live streams): call-next p99 105 ms with the default, 31-65 ms over four runs
# with young collections every 50,000 allocations. Memory barely moves: almost everything a request allocates is
# freed by reference counting, not by the collector.
_GC_THRESHOLDS = (50_000, 50, 100)


def _rate_limits(runtime: Runtime) -> list[Middleware]:
    """The shared rate limits, when any is set: without them requests pass no check at all."""
    limiter = runtime.get(RateLimiter)
    return [rate_limits(limiter, runtime.clock.now)] if limiter.limits else []


# Reads that may start per turn of the event loop while requests that write run on SQLite (rathaus.writes_first).
_READS_PER_TURN = 8


def _writes_first(runtime: Runtime) -> list[Middleware]:
    """On SQLite, requests that write go before reads (rathaus.writes_first). PostgreSQL runs writes side by side
    on several connections, so none holds up the others while it waits for the loop."""
    if not runtime.settings.is_sqlite:
        return []
    admission = ReadAdmission(per_turn=_READS_PER_TURN)
    runtime.components[ReadAdmission] = admission
    return [writes_first(admission)]


def _csrf(settings: Settings) -> CSRFConfig:
    """Every form of a page carries a token (double submit); the API is for scripts with bearer tokens and the
    webhooks are signed by Twilio."""
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="rathaus_csrf",
        cookie_secure=settings.is_production,
        cookie_samesite="lax",
        cookie_httponly=True,
        # Static files, feeds and the health check carry no form and must stay cacheable: no CSRF cookie on them.
        exclude=[r"^/api/", r"^/twilio/", r"^/feeds/", r"^/static/", r"^/health$", r"^/schema", r"^/(metrics|ready)$"],
    )


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Litestar:
    """The rathaus web application."""
    settings = settings or Settings.from_env()
    logging.getLogger("rathaus").setLevel(settings.log_level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    runtime = build(settings, clock)
    environment().globals["language_links"] = language_links
    environment().globals["staff_nav"] = staff_nav
    gc.set_threshold(*_GC_THRESHOLDS)
    limiter = runtime.get(RateLimiter)
    return Litestar(
        route_handlers=[health, ready, metrics, static_file, switch_language, *ROUTES],
        state=State({"runtime": runtime}),
        dependencies={
            "db_session": Provide(provide_db_session),
            "now": Provide(provide_now, sync_to_thread=False),
            **{name: provide for package in WIRINGS for name, provide in package.dependencies.items()},
        },
        before_request=refuse_malformed_input,
        before_send=[security_headers(settings)],
        exception_handlers={
            RathausError: rathaus_error_handler,
            ValidationException: validation_error_handler,
            HTTPException: http_error_handler,
            HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
            SqlalchemyTimeoutError: busy_handler,
        },
        openapi_config=OpenAPIConfig(
            title="rathaus",
            version="1",
            path="/schema",
            openapi_router=openapi_router(lambda method, path: kind_of(method, path) in limiter.limits),
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        plugins=[plugin for package in WIRINGS for plugin in package.plugins(settings)],
        # The rate limits count after the language is chosen (a refusal is written in it).
        # Reads waiting behind writes count in the request metrics (their latency, in flight).
        middleware=[request_metrics, *_writes_first(runtime), speak_the_reader_language, *_rate_limits(runtime)],
        template_config=template_config(),
        csrf_config=_csrf(settings),
        compression_config=CompressionConfig(
            backend="gzip",
            minimum_size=500,
            # The JSON API stays uncompressed on its hot paths; live streams must not wait for a buffer to fill.
            exclude=[r"^/api/", r"/events$", r"^/health"],
            exclude_opt_key=SKIP_COMPRESSION,  # pages kept compressed by rathaus.page_cache
        ),
        lifespan=[*(lifespan for package in WIRINGS for lifespan in package.lifespans), scheduler_lifespan(JOBS)],
        on_startup=[_settle_home_loops],
        on_shutdown=[_dispose],
        debug=False,
    )
