"""Pages rendered once and answered as bytes (plain or gzip, with an ETag) while what they show stays the same.

A page that shows only shared, cached data (the catalogue snapshot, a day's cached slots) reads the same for
every reader of a language. Rendering it per request cost most of its time (templates, Babel names, gzip); kept
here, a request that finds its page renders nothing, compresses nothing and opens no database session.

An entry is valid while the objects it was made from are the very objects the caches hand out now: those caches
replace them on every change and on every refresh, so a cached page is never older than what they would show.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, Response

from rathaus import i18n
from rathaus.templating import environment

# Handlers that answer through `respond` compress by themselves; the app's compression leaves them alone.
SKIP_COMPRESSION = "compressed_by_handler"
# The page changes with the language, which the reader sets by cookie or Accept-Language; the encoding varies.
VARY = "Accept-Encoding, Accept-Language, Cookie"
# Browsers may keep a page but ask again each time (a 304 when it did not change): free times must not go stale.
_REVALIDATE = "no-cache"
_MAX_ENTRIES = 2_000


@dataclass(frozen=True, slots=True)
class RenderedPage:
    body: bytes
    gzipped: bytes
    etag: str
    status_code: int = 200


@dataclass(frozen=True, slots=True)
class _Entry:
    sources: tuple[object, ...]
    page: RenderedPage


def rendered(html: str, status_code: int = 200) -> RenderedPage:
    """A page's bytes, compressed once, with a weak ETag of its content."""
    body = html.encode()
    # Weak: the plain and the gzip bytes are one page, so one tag names both.
    etag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    return RenderedPage(body, gzip.compress(body, compresslevel=6, mtime=0), etag, status_code)


def render(
    request: Request[Any, Any, Any], template: str, context: Mapping[str, Any], status_code: int = 200
) -> RenderedPage:
    """A page template rendered in the reader's language (a page with a POST form goes through Litestar's
    Template instead, which adds the CSRF field)."""
    html = environment().get_template(template).render({"request": request, "csrf_input": "", **context})
    return rendered(html, status_code)


class PageCache:
    """Rendered pages by key, each valid while its sources are the same objects (compared by identity)."""

    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self._entries: dict[Hashable, _Entry] = {}
        self._max_entries = max_entries

    def get(self, key: Hashable, sources: tuple[object, ...]) -> RenderedPage | None:
        """The page stored under `key` if it was made from exactly `sources`."""
        entry = self._entries.get(key)
        if entry is None or len(entry.sources) != len(sources):
            return None
        if any(kept is not current for kept, current in zip(entry.sources, sources, strict=True)):
            return None
        return entry.page

    def put(self, key: Hashable, sources: tuple[object, ...], page: RenderedPage) -> RenderedPage:
        """Keep `page` under `key` for as long as `sources` stay current."""
        if len(self._entries) >= self._max_entries and key not in self._entries:
            # Keys include free text (searches): a full cache starts again rather than grow without bound.
            self._entries.clear()
        self._entries[key] = _Entry(sources, page)
        return page


def page_key(request: Request[Any, Any, Any], *parts: Hashable) -> tuple[Hashable, ...]:
    """What a page's bytes depend on besides its sources: path, query (the language links carry it) and language."""
    scope = request.scope
    return (scope["path"], scope["query_string"], i18n.current_language(), *parts)


def _accepts_gzip(header: str) -> bool:
    for part in header.lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() in {"gzip", "*"}:
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def respond(request: Request[Any, Any, Any], page: RenderedPage, *, private: bool = False) -> Response[bytes]:
    """The page for this request: 304 if the reader has it, else gzip when the reader accepts it. A `private`
    page (one that carries a booking's token) is kept by the reader's browser only, never by a shared cache."""
    out = {"ETag": page.etag, "Vary": VARY, "Cache-Control": f"private, {_REVALIDATE}" if private else _REVALIDATE}
    request_headers = request.headers
    if page.status_code == 200 and page.etag in request_headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=out, media_type=MediaType.HTML)
    body = page.body
    if _accepts_gzip(request_headers.get("accept-encoding", "")):
        body = page.gzipped
        out["Content-Encoding"] = "gzip"
    return Response(body, status_code=page.status_code, headers=out, media_type=MediaType.HTML)
