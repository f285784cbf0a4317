"""A service's page (where and when it can be done next) and an office's page (hours, cut-off, current wait).

They live in the queue package because they show the booking domain's next free slot and the waiting room's
current wait, and the catalogue below both may not import them.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date, format_datetime, get_day_names
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from rathaus import i18n
from rathaus.booking import service as bookings
from rathaus.freshness import Age, SingleFlight, age_of
from rathaus.offices import presenters
from rathaus.offices.catalog import Catalog, CatalogSnapshot
from rathaus.offices.config import WEEKDAYS
from rathaus.offices.rules import OfficeRules, ServiceRule
from rathaus.offices.schema_org import JsonLdCache
from rathaus.page_cache import (
    SKIP_COMPRESSION,
    PageCache,
    RenderedPage,
    from_page_cache,
    page_key,
    render,
    respond,
)
from rathaus.queue.deps import QueueCtx
from rathaus.queue.live import LiveSnapshot, QueueHub
from rathaus.queue.service import QueueContext
from rathaus.ratings import service as ratings
from rathaus.runtime import Runtime
from rathaus.waitlist import presenters as waitlist_presenters
from rathaus.waitlist import service as waitlist
from rathaus.web import DbSession, Now, PageController, runtime_of

WEEKDAY_NUMBERS = {name: number for number, name in enumerate(WEEKDAYS)}


def book_url(services: list[str], office: str | None = None) -> str:
    """The booking path's entry for these services (and office)."""
    query = {"services": ",".join(services)} | ({"office": office} if office else {})
    return "/book?" + urlencode(query, safe=",")


def offices_serving(snapshot: CatalogSnapshot, service: ServiceRule) -> list[OfficeRules]:
    """Offices with a counter that serves the service, by name."""
    found = [o for o in snapshot.offices.values() if any(service.id in c.services for c in o.counters)]
    return sorted(found, key=lambda o: o.name.get("de"))


def when(instant: datetime, office: OfficeRules, language: str) -> str:
    """A slot's start as the reader says it, in the office's time zone ("Montag, 11. Januar 2027, 08:00")."""
    local = instant.astimezone(office.tz)
    locale = i18n.babel_locale(language)
    return f"{format_date(local.date(), 'full', locale=locale)}, {format_datetime(local, 'HH:mm', locale=locale)}"


async def _next_slot(ctx: QueueContext, office: OfficeRules, service: ServiceRule, now: datetime) -> datetime | None:
    if not service.bookable_online or not office.able_counters([service.id], online=True):
        return None
    slot = await bookings.next_free_slot(
        ctx.read_sessions,
        catalog=ctx.booking.catalog,
        cache=ctx.booking.cache,
        office=office,
        service_slugs=[service.slug],
        now=now,
    )
    return None if slot is None else slot.start


def _map_url(office: OfficeRules) -> str | None:
    lat, lon = office.extra.get("latitude"), office.extra.get("longitude")
    if not isinstance(lat, float) or not isinstance(lon, float):
        return None
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=18/{lat:.5f}/{lon:.5f}"


def _tel(phone: str) -> str:
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+")


class OfficePages(PageController):
    @get("/services/{slug:str}", media_type=MediaType.HTML)
    async def service(self, slug: FromPath[str], db_session: DbSession, queue_ctx: QueueCtx, now: Now) -> Template:
        """What a service is, what to bring, what it costs, and where it can be done next."""
        snapshot = await queue_ctx.booking.catalog.get(db_session, now=now)
        rule = snapshot.services.get(slug)
        if rule is None:
            raise NotFoundException()
        language = i18n.current_language()
        places = []
        for office in offices_serving(snapshot, rule):
            start = await _next_slot(queue_ctx, office, rule, now)
            places.append(
                {
                    "office": office,
                    "next": None if start is None else when(start, office, language),
                    "book_url": book_url([rule.slug], office.slug) if start is not None else None,
                }
            )
        return Template(
            "offices/service.html.j2",
            context={
                "service": rule,
                "minutes": int(rule.duration.total_seconds() // 60),
                "fee": None
                if rule.fee_cents is None
                else format_currency(rule.fee_cents / 100, "EUR", locale=i18n.babel_locale(language)),
                "places": places,
                "bundles": [b for b in snapshot.bundles.values() if rule in b.services],
            },
        )

    @get(
        "/offices/{slug:str}",
        media_type=MediaType.HTML,
        exclude_from_csrf=True,
        opt={SKIP_COMPRESSION: True},
        middleware=[from_page_cache],
    )
    async def office(self, request: Request[Any, Any, Any], slug: FromPath[str], state: State) -> Response[bytes]:
        """An office: where it is, how to reach it, when it is open, until when walk-ins are taken today and
        how long they wait now, what the building offers, and its calendar feeds.

        Rendered once per language while the catalogue, the office's day, its score and the waiting room's last
        read stay the same, the read at most RATHAUS_AVAILABILITY_CACHE_SECONDS old (the page has no form).
        Its dependencies are taken from the runtime: resolving them costs more than an answer from memory."""
        runtime = runtime_of(state)
        now = runtime.clock.now()
        key = page_key(request.scope)
        page = runtime.get(PageCache).get(key, now)
        if page is None:
            renders = runtime.get(OfficePageRenders)
            page = await renders.run(key, lambda: _office_page(request, runtime, slug, key, now))
        return respond(request, page)


class OfficePageRenders(SingleFlight[Hashable, RenderedPage]):
    """One rendering of an office page per path, query and language at a time: the readers that arrive while it
    renders (all of them, once a page is no longer valid) take its page instead of rendering it again."""


async def _office_page(
    request: Request[Any, Any, Any], runtime: Runtime, slug: str, key: Hashable, now: datetime
) -> RenderedPage:
    """The office page rendered and kept while what it shows stays the same."""
    catalog, hub, scores = runtime.get(Catalog), runtime.get(QueueHub), runtime.get(ratings.ScoreCache)
    counts = runtime.get(waitlist.FiguresCache)
    bound = runtime.settings.availability_cache_seconds
    async with runtime.read_session_maker() as session:
        snapshot = await catalog.get(session, now=now)
        rules = snapshot.offices.get(slug)
        if rules is None:
            raise NotFoundException()
        today = rules.local_day(now)
        score = await scores.get(session, office_id=rules.id, today=today, now=now)
        figures = await counts.get(session, office_id=rules.id, now=now)
    live = hub.peek(rules.id)
    if live is None or age_of(live.as_of, now=now, ttl=bound) is Age.STALE:
        live = await hub.snapshot(rules.id)
    base = runtime.settings.public_base_url.rstrip("/")
    document = runtime.get(JsonLdCache).get(
        rules, today=today, language=i18n.current_language(), url=f"{base}/offices/{slug}"
    )
    page = render(
        request,
        "offices/office.html.j2",
        _office_context(rules, snapshot, score, live, base, now)
        | _waitlist_context(rules, snapshot, figures, now)
        | {"json_ld": json_ld_text(document)},
    )
    until = presenters.office_valid_until(rules, now)
    return runtime.get(PageCache).put(
        key,
        page,
        lambda at: (
            at < until
            and catalog.peek(now=at) is snapshot
            and hub.peek(rules.id) is live
            and age_of(live.as_of, now=at, ttl=bound) is not Age.STALE
            and scores.peek(office_id=rules.id, today=today, now=at) is score
            and counts.peek(office_id=rules.id, now=at) is figures
        ),
    )


def _office_context(
    rules: OfficeRules,
    snapshot: CatalogSnapshot,
    score: ratings.Score,
    live: LiveSnapshot,
    base: str,
    now: datetime,
) -> dict[str, Any]:
    """What the office page shows, in the reader's language (but its schema.org document)."""
    language = i18n.current_language()
    locale = i18n.babel_locale(language)
    view = presenters.office(rules, snapshot, language=language, now=now)
    board = json.loads(live.board)
    slug = rules.slug
    day_names = get_day_names("wide", locale=locale)
    feeds = {kind: f"{base}/feeds/{slug}/{kind}.ics" for kind in ("closures", "hours")}
    return {
        "score": score,
        "score_average": None if score.average is None else format_decimal(score.average, "0.0", locale=locale),
        "office": rules,
        "view": view,
        "weekly": [(day_names[d], rules.weekly.get(d, ())) for d in range(7)],
        "days": [(format_date(day.date, "full", locale=locale), day) for day in view.next_days],
        "today": view.next_days[0],
        "open_now": board["open_now"],
        "wait": board["walk_in_wait_minutes"],
        "events": f"/api/v1/offices/{slug}/board/events",
        "map_url": _map_url(rules),
        "tel": _tel(view.phone) if view.phone else None,
        "feeds": feeds,
        "webcal": {kind: "webcal" + url[url.index(":") :] for kind, url in feeds.items()},
        "services": [
            s
            for s in sorted(snapshot.services.values(), key=lambda s: s.name.get(language).casefold())
            if any(s.id in c.services for c in rules.counters)
        ],
        "closures": [
            (
                format_date(c.start.date(), "full", locale=locale),
                format_date((c.end - timedelta(seconds=1)).date(), "full", locale=locale),
                c,
            )
            for c in view.upcoming_closures
        ],
    }


def _waitlist_context(
    rules: OfficeRules, snapshot: CatalogSnapshot, figures: waitlist.OfficeFigures, now: datetime
) -> dict[str, Any]:
    """The office's release schedule in words, and how its waiting list serves citizens."""
    language = i18n.current_language()
    locale = i18n.babel_locale(language)
    shown = waitlist_presenters.figures(figures, rules, snapshot.services_by_id)
    found: dict[str, Any] = {"figures": waitlist_presenters.figures_table(shown, language), "releases": None}
    schedule = presenters.releases(rules, language=language, now=now)
    if schedule is not None:
        day_names = get_day_names("wide", locale=locale)
        found["releases"] = {
            "weekdays": format_list([day_names[WEEKDAY_NUMBERS[d]] for d in schedule.weekdays], locale=locale),
            "at": schedule.at,
            "days": schedule.days_ahead,
            "next": None if schedule.next_release is None else when(schedule.next_release, rules, language),
            "next_day": None if schedule.next_day is None else format_date(schedule.next_day, "full", locale=locale),
            "through": None
            if schedule.released_through is None
            else format_date(schedule.released_through, "full", locale=locale),
            "closed_days": schedule.closed_days,
            "skipped": format_list([format_date(day, "full", locale=locale) for day in schedule.skipped], locale=locale)
            if schedule.skipped
            else None,
        }
    return found


def json_ld_text(document: dict[str, Any]) -> str:
    """A JSON-LD document for a <script> data block: `<` escaped so no text can end the element."""
    return json.dumps(document, ensure_ascii=False).replace("<", "\\u003c")
