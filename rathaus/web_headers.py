"""Headers every response carries unless its handler chose its own: a strict Content-Security-Policy, no MIME
sniffing, no Referer, HSTS in production, and `Cache-Control: no-store`.

No-store is the default because most answers are personal (a booking, its messages and calendar entry, tokens,
the waiting room, the outbox, staff lists); what is public and may be cached says so itself (static files, the
catalogue, availability, the calendar feeds).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace

from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.types import Message, Scope

from rathaus.settings import Settings

# Pages load nothing from elsewhere and run no inline script; nobody frames them (clickjacking).
STRICT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The API documentation (Scalar, Swagger UI) runs its viewer's inline bootstrap from a CDN: it only may not be framed.
DOCS_CSP = "frame-ancestors 'none'"
_DOCS = re.compile(r"^/(schema|swagger)(/|$)")
_DOCS_PREFIXES = ("/schema", "/swagger")
# The opening-hours snippet that city websites show in a frame.
_EMBED = re.compile(r"^/feeds/[^/]+/embed\.html$")
HSTS = "max-age=31536000; includeSubDomains"

# What anyone may see and a shared cache may keep, if it asks again each time (times and slots change any moment);
# the answer depends on the reader's language, chosen by header or by the language cookie.
PUBLIC_REVALIDATE = CacheControlHeader(public=True, no_cache=True)
VARY_LANGUAGE = [ResponseHeader(name="Vary", value="Accept-Language, Cookie")]
# The same, for the API's description only: on routes whose kept answers carry these headers themselves (a 304
# from memory too; rathaus.page_cache), so that Litestar does not add them a second time.
DESCRIBED_PUBLIC_REVALIDATE = replace(PUBLIC_REVALIDATE, documentation_only=True)
DESCRIBED_VARY_LANGUAGE = [ResponseHeader(name=h.name, value=h.value, documentation_only=True) for h in VARY_LANGUAGE]


def _embed_csp(origins: list[str]) -> bytes:
    ancestors = " ".join(origins) if origins else "*"
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {ancestors}"
    ).encode()


def security_headers(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """A before_send hook of the app adding the default headers to every response, error answers included."""
    common: list[tuple[bytes, bytes]] = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
    ]
    if settings.is_production:
        common.append((b"strict-transport-security", HSTS.encode()))
    # Every response passes here: the defaults are built once per policy, and most responses set none of them.
    strict, docs, embed = (
        [(b"content-security-policy", policy), *common]
        for policy in (STRICT_CSP.encode(), DOCS_CSP.encode(), _embed_csp(settings.embed_origin_list))
    )
    ours = frozenset(name for name, _ in strict)

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path = scope["path"]
        defaults = (
            embed
            if path.startswith("/feeds/") and _EMBED.match(path)
            else docs
            if path.startswith(_DOCS_PREFIXES) and _DOCS.match(path)
            else strict
        )
        headers = list(message.get("headers", ()))
        present = {name.lower() for name, _ in headers}
        headers.extend(defaults if present.isdisjoint(ours) else [h for h in defaults if h[0] not in present])
        message["headers"] = headers

    return add_headers
