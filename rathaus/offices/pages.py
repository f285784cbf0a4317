"""The catalogue's pages for citizens: the home page with search, every service and life event, and a life
event's page."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, Parameter, QueryParameter
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.errors import RathausError
from rathaus.i18n import N_
from rathaus.offices import service
from rathaus.offices._barriers import PAGE_LIMIT, TEXT_LIMIT
from rathaus.offices.catalog import Catalog, CatalogSnapshot
from rathaus.offices.deps import CatalogDep
from rathaus.offices.search import search
from rathaus.page_cache import SKIP_COMPRESSION, PageCache, from_page_cache, page_key, render, respond
from rathaus.web import DbSession, Now, PageController, runtime_of

_NO_TEXT = N_("Please describe the problem.")
_TOO_LONG = N_("Please use at most {limit} characters.")


class BarrierForm(msgspec.Struct):
    # Generous here so that an over-long text comes back as a message next to its field, not as a 400.
    page: Annotated[str, msgspec.Meta(max_length=4 * PAGE_LIMIT)] = ""
    text: Annotated[str, msgspec.Meta(max_length=4 * TEXT_LIMIT)] = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""


def _home(snapshot: CatalogSnapshot, q: str, office: str) -> dict[str, Any]:
    chosen = snapshot.offices.get(office)
    language = i18n.current_language()
    return {
        "query": q.strip(),
        "hits": search(snapshot, q) if q.strip() else [],
        "services": sorted(snapshot.services.values(), key=lambda s: s.name.get(language).casefold()),
        "bundles": list(snapshot.bundles.values()),
        "offices": list(snapshot.offices.values()),
        "office": chosen,
        "office_services": [snapshot.services[s] for s in offered_at(snapshot, office)] if chosen else [],
    }


def offered_at(snapshot: CatalogSnapshot, office_slug: str) -> list[str]:
    """Slugs of the services some counter of the office serves, in catalogue order."""
    office = snapshot.offices[office_slug]
    served = {sid for counter in office.counters for sid in counter.services}
    return [slug for slug, service in snapshot.services.items() if service.id in served]


class CataloguePages(PageController):
    @get(
        "/",
        media_type=MediaType.HTML,
        exclude_from_csrf=True,
        opt={SKIP_COMPRESSION: True},
        middleware=[from_page_cache],
    )
    async def home(
        self,
        request: Request[Any, Any, Any],
        state: State,
        q: Annotated[str, Parameter(max_length=200)] = "",
        office: Annotated[str, Parameter(max_length=64)] = "",
    ) -> Response[bytes]:
        """Where citizens start: search, the life events and services, and the offices. `?office=` (the rebook
        link of messages) puts that office's services first.

        The same for every reader of a language while the catalogue stays the same: rendered once per change.
        It takes no dependencies: resolving two of them costs a request a task group, more than the page's answer.
        """
        runtime = runtime_of(state)
        catalog, now = runtime.get(Catalog), runtime.clock.now()
        pages, key = runtime.get(PageCache), page_key(request.scope)
        page = pages.get(key, now)
        if page is None:
            snapshot = await catalog.current(now=now)
            page = render(request, "offices/home.html.j2", _home(snapshot, q, office))
            pages.put(key, page, lambda at: catalog.peek(now=at) is snapshot)
        return respond(request, page)

    @get("/life-events/{slug:str}", media_type=MediaType.HTML)
    async def life_event(self, slug: FromPath[str], db_session: DbSession, now: Now, catalog: CatalogDep) -> Template:
        """A life event: what it is, the services it needs, and one link to book them all as one appointment."""
        snapshot = await catalog.get(db_session, now=now)
        bundle = snapshot.bundles.get(slug)
        if bundle is None:
            raise NotFoundException()
        minutes = sum(int(s.duration.total_seconds() // 60) for s in bundle.services)
        bookable = all(s.bookable_online for s in bundle.services)
        return Template(
            "offices/life_event.html.j2",
            context={
                "bundle": bundle,
                "minutes": minutes,
                "bookable": bookable,
                "book_url": "/book?services=" + ",".join(s.slug for s in bundle.services),
            },
        )

    @get("/accessibility", media_type=MediaType.HTML)
    async def accessibility(
        self,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        state: State,
        sent: Annotated[str, QueryParameter(max_length=1)] = "",
    ) -> Template:
        """The accessibility statement (BITV 2.0) with its form to report a barrier; ?sent=1 thanks for one."""
        return await self._accessibility_page(db_session, now, catalog, state, BarrierForm(), {}, sent=bool(sent))

    async def _accessibility_page(
        self,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        state: State,
        form: BarrierForm,
        errors: dict[str, str],
        *,
        sent: bool = False,
    ) -> Template:
        snapshot = await catalog.get(db_session, now=now)
        return Template(
            "web/accessibility.html.j2",
            context={
                "offices": list(snapshot.offices.values()),
                "form": form,
                "errors": errors,
                "sent": sent,
                "retention_days": runtime_of(state).settings.personal_data_retention_days,
            },
            status_code=422 if errors else 200,
        )

    @post("/accessibility", media_type=MediaType.HTML)
    async def report_barrier(
        self,
        data: Annotated[BarrierForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        state: State,
    ) -> Template | Redirect:
        """Store a barrier report, then thank (Post/Redirect/Get); a mistake shows the form again with why."""
        language = i18n.current_language()
        errors: dict[str, str] = {}
        if len(data.page) > PAGE_LIMIT:
            errors["page"] = i18n.translate(language, _TOO_LONG, limit=PAGE_LIMIT)
        if not data.text.strip():
            errors["text"] = i18n.translate(language, _NO_TEXT)
        elif len(data.text.strip()) > TEXT_LIMIT:
            errors["text"] = i18n.translate(language, _TOO_LONG, limit=TEXT_LIMIT)
        if not errors:
            try:
                await service.report_barrier(db_session, page=data.page, text=data.text, email=data.email, now=now)
            except RathausError as error:
                errors["email" if error.code == "invalid_email" else "text"] = error.message(language)
        if errors:
            return await self._accessibility_page(db_session, now, catalog, state, data, errors)
        return Redirect("/accessibility?sent=1", status_code=303)
