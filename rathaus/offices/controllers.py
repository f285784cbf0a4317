"""HTTP API of the catalogue: offices, services and life events, in the reader's language."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from rathaus.errors import RathausError
from rathaus.offices import presenters, schemas
from rathaus.offices import service as offices
from rathaus.offices.catalog import Catalog, office_of
from rathaus.offices.deps import CatalogDep
from rathaus.page_cache import PageCache, encoded_json, from_page_cache, page_key, respond
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.web import DbSession, Now, language_of, runtime_of
from rathaus.web_headers import DESCRIBED_PUBLIC_REVALIDATE, DESCRIBED_VARY_LANGUAGE, PUBLIC_REVALIDATE, VARY_LANGUAGE


class CatalogController(Controller):
    path = "/api/v1"
    tags = ["catalog"]
    cache_control = PUBLIC_REVALIDATE
    response_headers = VARY_LANGUAGE

    @get("/services")
    async def list_services(
        self, request: Request[Any, Any, Any], db_session: DbSession, now: Now, catalog: CatalogDep
    ) -> list[schemas.Service]:
        """Every service with duration, what to bring and fee."""
        snapshot = await catalog.get(db_session, now=now)
        lang = language_of(request)
        return [presenters.service(s, lang) for s in snapshot.services.values()]

    @get("/bundles")
    async def list_bundles(
        self, request: Request[Any, Any, Any], db_session: DbSession, now: Now, catalog: CatalogDep
    ) -> list[schemas.Bundle]:
        """Life events ("Lebenslagen") and the services they need."""
        snapshot = await catalog.get(db_session, now=now)
        return [presenters.bundle(b, language_of(request)) for b in snapshot.bundles.values()]

    @get(
        "/offices",
        middleware=[from_page_cache],
        # The kept answer carries these itself (a 304 from memory too); here they are for the API's description.
        cache_control=DESCRIBED_PUBLIC_REVALIDATE,
        response_headers=DESCRIBED_VARY_LANGUAGE,
        responses={200: ResponseSpec(data_container=list[schemas.Office], description="Offices")},
    )
    async def list_offices(self, request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        """Offices with hours, cut-offs and upcoming closures."""
        return await _offices_answer(request, state, None)

    @get(
        "/offices/{office:str}",
        middleware=[from_page_cache],
        # The kept answer carries these itself (a 304 from memory too); here they are for the API's description.
        cache_control=DESCRIBED_PUBLIC_REVALIDATE,
        response_headers=DESCRIBED_VARY_LANGUAGE,
        responses={200: ResponseSpec(data_container=schemas.Office, description="The office")},
    )
    async def get_office(self, office: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        """One office with hours, cut-offs and upcoming closures."""
        return await _offices_answer(request, state, office)


async def _offices_answer(request: Request[Any, Any, Any], state: State, slug: str | None) -> Response[bytes]:
    """Every office (`slug` None) or one, encoded once per language while the catalogue and the day stay the same:
    every citizen page shows offices, so this answer is read as often as the pages."""
    runtime = runtime_of(state)
    catalog, now = runtime.get(Catalog), runtime.clock.now()
    pages, key = runtime.get(PageCache), page_key(request.scope)
    page = pages.get(key, now)
    if page is None:
        snapshot = await catalog.current(now=now)
        chosen = list(snapshot.offices.values()) if slug is None else [office_of(snapshot, slug)]
        language = language_of(request)
        views = [presenters.office(o, snapshot, language=language, now=now) for o in chosen]
        body = msgspec.json.encode(views if slug is None else views[0])
        until = min(presenters.office_valid_until(o, now) for o in chosen) if chosen else None
        page = pages.put(
            key,
            encoded_json(body),
            lambda at: catalog.peek(now=at) is snapshot and (until is None or at < until),
        )
    return respond(request, page)


class BarrierReportController(Controller):
    path = "/api/v1/barrier-reports"
    tags = ["staff"]
    dependencies = STAFF_ONLY

    @get("/")
    async def list_reports(self, staff: CurrentStaff, db_session: DbSession) -> list[schemas.BarrierReport]:
        """The latest barrier reports from the accessibility statement's form, newest first (admins only: the
        pages are the same for every office)."""
        if staff.role != "admin":
            raise RathausError("forbidden")
        rows = await offices.list_barrier_reports(db_session)
        return [
            schemas.BarrierReport(
                id=r.id, created_at=r.created_at, page=r.page, text=r.text, email=r.email, status=r.status
            )
            for r in rows
        ]
