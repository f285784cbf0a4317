"""Rendering feeds once per catalog version and day, and answering conditional requests cheaply."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.errors import RathausError
from rathaus.notify.calendar.embed import html_snippet, json_ld_bytes
from rathaus.notify.calendar.feeds import closures_feed, hours_feed
from rathaus.offices.catalog import Catalog, CatalogSnapshot, office_of
from rathaus.offices.presenters import office_cutoff
from rathaus.page_cache import Kept, Still

# kind -> (media type, file name stem and extension)
RENDERINGS = {
    "closures": ("text/calendar", "closures", "ics"),
    "hours": ("text/calendar", "hours", "ics"),
    "jsonld": ("application/ld+json", "hours", "jsonld"),
    "embed": ("text/html", "embed", "html"),
}

_MAX_ENTRIES = 2_000
# As the app's compression: smaller answers are sent as they are.
_WORTH_COMPRESSING = 500
_NEVER_CHANGED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    body: bytes
    etag: str
    last_modified: datetime
    headers: dict[str, str]  # built once: the 304 path is the hot one
    gzipped: bytes | None = None  # compressed once, for clients that accept it (None: too small to be worth it)


def rendered(body: bytes, last_modified: datetime) -> RenderedFeed:
    """A feed with its validators and caching headers, and compressed once if it is worth it."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= _WORTH_COMPRESSING else None
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(last_modified, usegmt=True),
        "Cache-Control": "public, max-age=900",
        # The language follows ?lang=, the language cookie or Accept-Language: a shared cache must keep them apart.
        "Vary": "Accept-Encoding, Accept-Language, Cookie" if gzipped else "Accept-Language, Cookie",
    }
    return RenderedFeed(body, etag, last_modified, headers, gzipped)


class FeedCache:
    """Rendered feeds per (office, kind, language, catalog version, local day); `answers` holds the latest one per
    path, query and language for the feeds' routes to answer before the handler runs."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str, int, str], RenderedFeed] = {}
        self.answers: Kept[tuple[RenderedFeed, str]] = Kept()

    def get_or_render(self, key: tuple[str, str, str, int, str], render: Callable[[], RenderedFeed]) -> RenderedFeed:
        """The cached feed, rendering it on first use."""
        found = self._entries.get(key)
        if found is None:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            found = self._entries[key] = render()
        return found


async def _snapshot(sessions: async_sessionmaker[AsyncSession], catalog: Catalog, now: datetime) -> CatalogSnapshot:
    snapshot = catalog.peek(now=now)
    if snapshot is None:
        async with sessions() as session:
            snapshot = await catalog.get(session, now=now)
    return snapshot


async def feed(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    cache: FeedCache,
    office_slug: str,
    kind: str,
    language: str,
    public_base_url: str,
    now: datetime,
) -> RenderedFeed:
    """One public feed of an office, from the cached catalog (no database work while it is fresh)."""
    found, _ = await checked_feed(
        sessions,
        catalog=catalog,
        cache=cache,
        office_slug=office_slug,
        kind=kind,
        language=language,
        public_base_url=public_base_url,
        now=now,
    )
    return found


async def checked_feed(
    sessions: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    cache: FeedCache,
    office_slug: str,
    kind: str,
    language: str,
    public_base_url: str,
    now: datetime,
) -> tuple[RenderedFeed, Still]:
    """One public feed of an office, and whether it may still be served at a later time (the same catalogue
    version and the same local day at the office; checked in memory)."""
    if kind not in RENDERINGS:
        raise RathausError("unknown_feed")
    snapshot = await _snapshot(sessions, catalog, now)
    office = office_of(snapshot, office_slug)
    today = office.local_day(now)
    last_modified = (snapshot.changed_at or _NEVER_CHANGED).replace(microsecond=0)

    def render() -> RenderedFeed:
        url = f"{public_base_url.rstrip('/')}/offices/{office.slug}"
        cutoff = office_cutoff(office, snapshot)
        if kind == "closures":
            body = closures_feed(
                office, language=language, public_base_url=public_base_url, changed_at=last_modified, today=today
            )
        elif kind == "hours":
            body = hours_feed(
                office,
                language=language,
                public_base_url=public_base_url,
                changed_at=last_modified,
                today=today,
                cutoff=cutoff,
            )
        elif kind == "jsonld":
            body = json_ld_bytes(office, today=today, language=language, url=url)
        else:
            body = html_snippet(office, today=today, language=language, url=url, cutoff=cutoff)
        return rendered(body, last_modified)

    version = snapshot.version

    def still(at: datetime) -> bool:
        current = catalog.peek(now=at)
        return current is not None and current.version == version and office.local_day(at) == today

    return cache.get_or_render((office.slug, kind, language, version, today.isoformat()), render), still
