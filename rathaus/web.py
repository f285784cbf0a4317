"""What every controller shares: the runtime, per-request dependencies and the error translator (no domain)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import traceback
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import Annotated, Any, cast
from urllib.parse import parse_qs, urlencode

from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import ResponseHeader, State
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.exc import TimeoutError as SqlalchemyTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n
from rathaus.db import end_unit
from rathaus.errors import RathausError
from rathaus.runtime import Runtime
from rathaus.templating import render
from rathaus.web_errors import framework_error, public_names, validation_error

log = logging.getLogger("rathaus.web")
# When a client refused for too many requests may try again, unless the refusal knows better.
RETRY_AFTER_SECONDS = 60

# Handler parameters that Litestar fills by name from the app's dependencies.
DbSession = NamedDependency[AsyncSession]
Now = NamedDependency[datetime]


def runtime_of(state: State) -> Runtime:
    """The app's runtime."""
    # By key: `state.runtime` goes through a failed attribute lookup first (0.7 µs against 0.2, on every request).
    runtime: Runtime = state["runtime"]
    return runtime


async def provide_db_session(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """One session and transaction per request: committed before the response is sent, or rolled back.

    GET and HEAD requests only read, so they get a read-only session that never waits for writers.
    """
    app = runtime_of(state)
    session = (app.read_session_maker if request.method in {"GET", "HEAD"} else app.session_maker)()
    try:
        try:
            yield session
        except BaseException as error:
            await _end_uncancelled(session, error)
            raise
        await _end_uncancelled(session, None)
    finally:
        await session.close()


# Requests cancelled while committing that have yet to send their answer; the app waits for them at shutdown.
_answering: set[asyncio.Task[Any]] = set()


async def _end_uncancelled(session: AsyncSession, error: BaseException | None) -> None:
    """End the request's transaction even if the request is cancelled meanwhile, and then go on with it.

    Requests still running at the end of the shutdown grace are cancelled (`cut_off_at_the_end_of_the_grace`). A
    cancellation that arrived during COMMIT would leave the change committed and its client with an error (and
    without the booking code); instead the commit finishes and the response is sent (`finish_answers` keeps the
    process alive for that). A request cancelled before it commits is rolled back: retried with the same
    Idempotency-Key, it is booked once.
    """
    ending = asyncio.ensure_future(end_unit(session, error))
    task = asyncio.current_task()
    cancelled = 0
    while True:
        try:
            await asyncio.shield(ending)
            break
        except asyncio.CancelledError:
            if ending.cancelled():  # the commit itself was cut off: its outcome is unknown, nothing to answer
                raise
            cancelled += 1
            if task is not None:
                _answering.add(task)
                task.add_done_callback(_answering.discard)
    while cancelled and task is not None:
        task.uncancel()
        cancelled -= 1


async def finish_answers(*, within: float) -> None:
    """Wait until the requests cancelled while committing have sent their answers (at most `within` seconds)."""
    if _answering:
        await asyncio.wait(set(_answering), timeout=within)


@contextmanager
def told_of_stop_signals(callback: Callable[[], object]) -> Iterator[None]:
    """Call `callback` on SIGTERM and SIGINT before the server's own handler, which stays in charge.

    The server stops accepting on these signals, then waits for every open response and only then shuts the app
    down: event streams never finish by themselves, and requests that outlast the grace must be cut off, so the app
    must hear the signal. Signals reach only the main thread; an app served from another thread (tests) is not
    told, nor is one whose signals nobody handles (the process simply ends).
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)} if in_main_thread else {}
    previous = {sig: handler for sig, handler in handlers.items() if callable(handler)}

    def chained(signum: int, frame: FrameType | None) -> None:
        callback()
        handler = previous[signal.Signals(signum)]
        assert callable(handler)
        handler(signum, frame)

    for sig in previous:
        signal.signal(sig, chained)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cut_off_at_the_end_of_the_grace(app: ASGIApp, *, grace: float) -> ASGIApp:
    """`app`, whose requests still running `grace` seconds after a stop signal are cancelled.

    uvicorn does this itself; Granian only kills its worker at its own timeout, which leaves those requests without
    an answer and the app's shutdown (the dispatcher's sends) unrun. Cancelled here, a request that was committing
    still finishes and answers (`_end_uncancelled`), the others end, and the server shuts the app down.
    """
    running: set[asyncio.Task[Any]] = set()

    def cut_off() -> None:
        if running:
            log.warning("shutdown grace of %s s ended: cutting off %d running request(s)", grace, len(running))
        for task in list(running):
            task.cancel()

    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        timers: list[asyncio.TimerHandle] = []

        def start_the_grace() -> None:
            if not timers:  # SIGINT from a terminal and the supervisor's SIGTERM: one grace
                timers.append(loop.call_later(grace, cut_off))

        try:
            with told_of_stop_signals(lambda: loop.call_soon_threadsafe(start_the_grace)):
                await app(scope, receive, send)
        finally:
            for timer in timers:
                timer.cancel()

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if cast(str, scope["type"]) == "lifespan":  # Litestar's Scope leaves the lifespan out
            await lifespan(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None  # servers run each request in a task of its own
        running.add(task)
        try:
            await app(scope, receive, send)
        finally:
            running.discard(task)

    return wrapped


def provide_now(state: State) -> datetime:
    """The current instant, read once per request."""
    return runtime_of(state).clock.now()


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def client_address(request: Request[Any, Any, Any]) -> str:
    """The client's address (behind a proxy, FORWARDED_ALLOW_IPS must name it for this to be the client's)."""
    return request.client.host if request.client else "unknown"


# Where a page's language switch keeps the reader's choice (a preference, not a secret).
LANGUAGE_COOKIE = "rathaus_lang"


def language_of(request: Request[Any, Any, Any]) -> str:
    """The reader's language among the offered ones: ?lang=, else the one they chose on a page (cookie), else the
    Accept-Language header, else German."""
    requested = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return i18n.negotiate(requested, request.headers.get("accept-language", ""))


_LANGUAGE_COOKIE = LANGUAGE_COOKIE.encode()


def _reader_language(scope: Scope) -> str:
    """`language_of` from the raw scope, in one pass over the headers."""
    query = scope["query_string"]
    requested = parse_qs(query.decode("latin-1")).get("lang", [None])[0] if b"lang=" in query else None
    cookie = accept = None
    for name, value in scope["headers"]:
        if name == b"accept-language":
            if accept is None:
                accept = value.decode("latin-1")
        elif name == b"cookie" and cookie is None and _LANGUAGE_COOKIE in value:
            cookie = _cookie_value(value.decode("latin-1"), LANGUAGE_COOKIE)
    return i18n.negotiate(requested or cookie, accept or "")


def _cookie_value(header: str, cookie: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == cookie:
            return value
    return None


def speak_the_reader_language(app: ASGIApp) -> ASGIApp:
    """Middleware: templates rendered while a request is handled speak its reader's language."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        # Read from the raw scope: building a Request here would cost every request (feeds, API) a few µs.
        with i18n.speaking(_reader_language(scope)):
            await app(scope, receive, send)

    return middleware


def _retry_after(error: RathausError, headers: dict[str, Any]) -> int:
    """Seconds until a refused client may try again: what the refusal says (its wait, the rate limit's reset)."""
    seconds = error.params.get("seconds") or 60 * error.params.get("minutes", 0) or headers.get("RateLimit-Reset")
    return max(1, int(seconds or RETRY_AFTER_SECONDS))


def _error_response(
    request: Request[Any, Any, Any], error: RathausError, status: int, headers: Any = None
) -> Response[dict[str, Any]]:
    """{"detail", "code"} in the reader's language; 401 says how to authenticate, 429 when to come back."""
    answer_headers = dict(headers or {})
    if status == 401:
        answer_headers.setdefault("WWW-Authenticate", "Bearer")
    if status == 429:
        answer_headers.setdefault("Retry-After", str(_retry_after(error, answer_headers)))
    return Response(
        {**error.extra, "detail": error.message(language_of(request)), "code": error.code},
        status_code=status,
        headers=answer_headers or None,
    )


def rathaus_error_handler(request: Request[Any, Any, Any], error: RathausError) -> Response[dict[str, Any]]:
    """A known failure as {"detail", "code"} with its status, in the reader's language."""
    return _error_response(request, error, error.status)


def validation_error_handler(request: Request[Any, Any, Any], error: ValidationException) -> Response[dict[str, Any]]:
    """Malformed input as a 400 that says which field and why."""
    problems = error.extra if isinstance(error.extra, list) else []
    names = public_names(request.route_handler)
    return _error_response(request, validation_error(problems, str(error.detail), names), 400)


def http_error_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    """Framework errors (404 route, 405 method, 413, 415, 429 …) in the same {"detail", "code"} shape."""
    # Litestar lists a 405's allowed methods in set order, which changes from run to run.
    headers = {
        name: ", ".join(sorted(v.strip() for v in value.split(","))) if name.lower() == "allow" else value
        for name, value in (error.headers or {}).items()
    }
    known = framework_error(error.status_code, request.method, headers)
    return _error_response(request, known, error.status_code, headers)


def internal_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    """An unexpected failure: logged with its type only (messages may carry personal data), answered 500."""
    # The stack without the exception's message: database errors echo bound parameters (names, e-mails). The
    # route's template, not the path: paths carry booking codes, and whatever a client put there.
    stack = "".join(traceback.format_tb(error.__traceback__))
    route = request.scope.get("path_template") or "(no route)"
    log.error("unhandled %s on %s %r\n%s", type(error).__name__, request.method, route, stack)
    return _error_response(request, RathausError("internal_error"), 500)


# A request that found every database connection in use for the pool's whole timeout: the instance is overloaded,
# not broken. Answered 503 with a time to come back (what proxies and clients retry on), logged without a stack.
BUSY_RETRY_AFTER = {"Retry-After": "60"}


def _log_busy(request: Request[Any, Any, Any]) -> None:
    route = request.scope.get("path_template") or "(no route)"
    log.warning("no database connection came free in time for %s %r", request.method, route)


def busy_handler(request: Request[Any, Any, Any], _error: SqlalchemyTimeoutError) -> Response[dict[str, Any]]:
    """No database connection came free in time: 503, to be tried again."""
    _log_busy(request)
    return _error_response(request, RathausError("busy"), 503, BUSY_RETRY_AFTER)


# Pages load nothing from elsewhere and run no inline script; a manage link's token never leaves in a Referer.
PAGE_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _error_page(
    request: Request[Any, Any, Any], template: str, status_code: int, headers: dict[str, str], **context: Any
) -> Response[str]:
    # Rendered here: an error handler runs outside the middleware that set the reader's language.
    html = render(template, language_of(request), request=request, csrf_input="", **context)
    return Response(
        html, status_code=status_code, headers={**PAGE_SECURITY_HEADERS, **headers}, media_type=MediaType.HTML
    )


def page_not_found(request: Request[Any, Any, Any], error: NotFoundException) -> Response[str]:
    """An unknown page as a page: the layout with a way back, not the API's JSON."""
    return _error_page(request, "web/not_found.html.j2", 404, {})


def page_busy(request: Request[Any, Any, Any], _error: SqlalchemyTimeoutError) -> Response[str]:
    """No database connection came free in time, as a page: 503, to be tried again."""
    _log_busy(request)
    return _error_page(request, "web/busy.html.j2", 503, BUSY_RETRY_AFTER)


class PageController(Controller):
    """Base of controllers that answer with pages for people: security headers, no place in the API schema,
    a 404 page for unknown things (rathaus.fairness answers requests past a rate limit before they get here)."""

    include_in_schema = False
    response_headers = [ResponseHeader(name=name, value=value) for name, value in PAGE_SECURITY_HEADERS.items()]
    exception_handlers = {NotFoundException: page_not_found, SqlalchemyTimeoutError: page_busy}


@get("/language", include_in_schema=False, sync_to_thread=False)
def switch_language(
    lang: Annotated[str, Parameter(max_length=16)], back: Annotated[str, Parameter(max_length=2000)] = "/"
) -> Redirect:
    """The language switch of every page: keep the choice in a cookie and return to the page (a local path only)."""
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    response = Redirect(target, status_code=303)
    if i18n.offers(lang):
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


def language_links(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """The language switch of a page: every offered language with the page's URL in it."""
    current = language_of(request)
    query = {key: value for key, value in request.query_params.items() if key != "lang"}
    back = request.url.path + (f"?{urlencode(query)}" if query else "")
    return [
        {
            "language": language,
            "name": i18n.language_name(language),
            "url": f"/language?{urlencode({'lang': language, 'back': back})}",
            "current": language == current,
        }
        for language in i18n.languages()
    ]
