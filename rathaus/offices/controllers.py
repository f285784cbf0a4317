"""HTTP API of the catalogue: offices, services and life events, in the reader's language."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from rathaus.errors import RathausError
from rathaus.offices import presenters, schemas
from rathaus.offices import service as offices
from rathaus.offices.deps import CatalogDep
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.web import DbSession, Now, language_of
from rathaus.web_headers import PUBLIC_REVALIDATE, VARY_LANGUAGE


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

    @get("/offices")
    async def list_offices(
        self, request: Request[Any, Any, Any], db_session: DbSession, now: Now, catalog: CatalogDep
    ) -> list[schemas.Office]:
        """Offices with hours, cut-offs and upcoming closures."""
        snapshot = await catalog.get(db_session, now=now)
        lang = language_of(request)
        return [presenters.office(o, snapshot, language=lang, now=now) for o in snapshot.offices.values()]

    @get("/offices/{office:str}")
    async def get_office(
        self,
        office: FromPath[str],
        request: Request[Any, Any, Any],
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
    ) -> schemas.Office:
        """One office with hours, cut-offs and upcoming closures."""
        rules = await catalog.office(db_session, office, now=now)
        snapshot = await catalog.get(db_session, now=now)
        return presenters.office(rules, snapshot, language=language_of(request), now=now)


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
