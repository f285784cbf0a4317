"""Pages rendered once and answered as bytes (plain or gzip, with an ETag) while what they show stays the same.

A page that shows only shared, cached data (the catalogue snapshot, a day's cached slots) reads the same for
every reader of a language. Rendering it per request cost most of its time (templates, Babel names, gzip); kept
here, a request that finds its page renders nothing, compresses nothing and opens no database session.

An entry is valid while the objects it was made from are the very objects the caches hand out now: those caches
replace them on every change and on every refresh, so a cached page is never older than what they would show.
Each entry carries that check, which looks only into memory; the routes of cached pages run `from_page_cache` as
their middleware, which answers a page that is still valid before Litestar parses the request's parameters (a
page is only kept after its handler answered that very path and query, having checked them).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from litestar import MediaType, Request, Response
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from rathaus import i18n
from rathaus.templating import environment
from rathaus.web import runtime_of
from rathaus.web_headers import PUBLIC_REVALIDATE, VARY_LANGUAGE

# Handlers that answer through `respond` compress by themselves; the app's compression leaves them alone.
SKIP_COMPRESSION = "compressed_by_handler"
# The page changes with the language, which the reader sets by cookie or Accept-Language; the encoding varies.
VARY = "Accept-Encoding, Accept-Language, Cookie"
# Browsers may keep a page but ask again each time (a 304 when it did not change): free times must not go stale.
_REVALIDATE = "no-cache"
_MAX_ENTRIES = 2_000
# The API's public answers: revalidated, and in the reader's language (chosen by header or cookie).
_PUBLIC = PUBLIC_REVALIDATE.to_header()
_VARY_LANGUAGE = VARY_LANGUAGE[0].value or ""
# An answer as the ASGI messages carry it: status, headers, body.
Sent = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """An answer's bytes (gzipped too, if it is worth compressing) with its tag and the headers that describe it."""

    body: bytes
    gzipped: bytes | None
    etag: str
    status_code: int = 200
    media_type: str = MediaType.HTML.value
    vary: str = VARY
    cache_control: str = _REVALIDATE
    # Status, headers and body as sent from memory (`answered_from`), by `_choice`: built once, not per request.
    sent: tuple[Sent, Sent, Sent] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        described = [
            (b"etag", self.etag.encode("latin-1")),
            (b"vary", self.vary.encode("latin-1")),
            (b"cache-control", self.cache_control.encode("latin-1")),
        ]
        typed = (b"content-type", content_type_of(self.media_type))
        plain = [*described, typed, (b"content-length", str(len(self.body)).encode())]
        compressed = (
            plain
            if self.gzipped is None
            else [
                *described,
                (b"content-encoding", b"gzip"),
                typed,
                (b"content-length", str(len(self.gzipped)).encode()),
            ]
        )
        sent = (
            (304, described, b""),
            (self.status_code, compressed, self.gzipped or self.body),
            (self.status_code, plain, self.body),
        )
        object.__setattr__(self, "sent", sent)


def content_type_of(media_type: str) -> bytes:
    """The Content-Type header as Litestar writes it for a media type."""
    return (f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type).encode()


def _etag(body: bytes) -> str:
    # Weak: the plain and the gzip bytes are one page, so one tag names both.
    return f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


V = TypeVar("V")
# Whether a page may still be served at a time: what it was made from is what the caches hold now.
Still = Callable[[datetime], bool]


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    still: Still


def rendered(html: str, status_code: int = 200) -> RenderedPage:
    """A page's bytes, compressed once, with a weak ETag of its content."""
    body = html.encode()
    return RenderedPage(body, gzip.compress(body, compresslevel=6, mtime=0), _etag(body), status_code)


def encoded_json(body: bytes) -> RenderedPage:
    """A public JSON answer of the API, kept like a page (uncompressed, as the API answers on its hot paths)."""
    return RenderedPage(
        body, None, _etag(body), media_type=MediaType.JSON.value, vary=_VARY_LANGUAGE, cache_control=_PUBLIC
    )


def render(
    request: Request[Any, Any, Any], template: str, context: Mapping[str, Any], status_code: int = 200
) -> RenderedPage:
    """A page template rendered in the reader's language (a page with a POST form goes through Litestar's
    Template instead, which adds the CSRF field)."""
    html = environment().get_template(template).render({"request": request, "csrf_input": "", **context})
    return rendered(html, status_code)


class Kept(Generic[V]):
    """Answers by key, each served while its check says that what it was made from is still current."""

    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self._entries: dict[Hashable, _Entry[V]] = {}
        self._max_entries = max_entries

    def get(self, key: Hashable, now: datetime) -> V | None:
        """The answer stored under `key` if it may still be served at `now`."""
        entry = self._entries.get(key)
        if entry is None or not entry.still(now):
            return None
        return entry.value

    def put(self, key: Hashable, value: V, still: Still) -> V:
        """Keep `value` under `key` for as long as `still` says so."""
        if len(self._entries) >= self._max_entries and key not in self._entries:
            # Keys include free text (searches): a full cache starts again rather than grow without bound.
            self._entries.clear()
        self._entries[key] = _Entry(value, still)
        return value


class PageCache(Kept[RenderedPage]):
    """Rendered pages (and encoded API answers) of this instance."""


def page_key(scope: Scope) -> tuple[Hashable, ...]:
    """What a page's bytes depend on besides its sources: path, query (the language links carry it) and language."""
    return (scope["path"], scope["query_string"], i18n.current_language())


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header takes gzip."""
    for part in header.lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() in {"gzip", "*"}:
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


# What a request gets of a page (indexes into RenderedPage.sent).
_NOT_MODIFIED, _GZIP, _PLAIN = 0, 1, 2


def _choice(page: RenderedPage, scope: Scope) -> int:
    """304 if the reader has the page, else gzip if it is compressed and accepted, else the plain bytes."""
    if_none_match = accept_encoding = ""
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif name == b"accept-encoding":
            accept_encoding = value.decode("latin-1")
    if page.status_code == 200 and page.etag in if_none_match:
        return _NOT_MODIFIED
    if page.gzipped is not None and accepts_gzip(accept_encoding):
        return _GZIP
    return _PLAIN


def _negotiated(page: RenderedPage, scope: Scope, private: bool) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of `page` for this request, as `_choice` says."""
    choice = _choice(page, scope)
    out = {
        "etag": page.etag,
        "vary": page.vary,
        "cache-control": f"private, {_REVALIDATE}" if private else page.cache_control,
    }
    if choice == _NOT_MODIFIED:
        return 304, out, b""
    if choice == _GZIP:
        out["content-encoding"] = "gzip"
    return page.sent[choice][0], out, page.sent[choice][2]


def respond(request: Request[Any, Any, Any], page: RenderedPage, *, private: bool = False) -> Response[bytes]:
    """The page for this request: 304 if the reader has it, else gzip when the reader accepts it. A `private`
    page (one that carries a booking's token) is kept by the reader's browser only, never by a shared cache."""
    status, headers, body = _negotiated(page, request.scope, private)
    return Response(body, status_code=status, headers=headers, media_type=page.media_type)


async def send_raw(send: Send, status: int, headers: dict[str, str], body: bytes, content_type: bytes) -> None:
    """An answer sent as Litestar's Response would send it (a 304 carries no body, type or length)."""
    raw = [(name.lower().encode(), value.encode("latin-1")) for name, value in headers.items()]
    if status != 304:
        raw += [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def answered_from(store: type[Kept[RenderedPage]], key: Callable[[Scope], Hashable]) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware of a route whose answers are kept in the runtime's `store` under `key`: one that may still be
    served is answered from memory, as its handler would (`respond`), without parsing the request for the
    handler; anything else goes to the handler."""

    def middleware_of(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            page = None
            if scope["type"] == ScopeType.HTTP and scope["method"] == "GET":
                runtime = runtime_of(scope["app"].state)
                page = runtime.get(store).get(key(scope), runtime.clock.now())
            if page is None:
                await app(scope, receive, send)
                return
            status, headers, body = page.sent[_choice(page, scope)]
            # A copy: whoever wraps `send` may add headers to the message's list.
            await send({"type": "http.response.start", "status": status, "headers": [*headers]})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return middleware

    return middleware_of


# The middleware of a cached page's route.
from_page_cache = answered_from(PageCache, page_key)
