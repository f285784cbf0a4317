"""Staff API of the figures and the audit trail: JSON, and the figures as CSV. Office-scoped, bearer token."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, MediaType, Response, get
from litestar.params import Parameter

from rathaus.figures import audit, export, schemas
from rathaus.figures.deps import DEPENDENCIES, FiguresDep, ReportScope
from rathaus.staff.deps import STAFF_ONLY
from rathaus.web import DbSession

Actor = Annotated[str | None, Parameter(max_length=100)]


class FiguresController(Controller):
    """An office's figures over a day, week or month (`?period=day|week|month&date=YYYY-MM-DD`), and who did what."""

    path = "/api/v1/offices/{office:str}"
    tags = ["staff"]
    dependencies = {**STAFF_ONLY, **DEPENDENCIES}

    @get("/figures")
    async def figures_json(self, figures: FiguresDep) -> schemas.Figures:
        """Bookings, online share, no-shows, waits, service times, counters, lead times, cancellations, messages."""
        return figures

    @get("/figures.csv", media_type="text/csv")
    async def figures_csv(self, figures: FiguresDep) -> Response[str]:
        """The same figures as CSV, one value per row."""
        return export.csv_response(figures)

    @get("/audit", media_type=MediaType.JSON)
    async def audit(self, report: ReportScope, db_session: DbSession, actor: Actor = None) -> schemas.Audit:
        """Booking, ticket and closure events of the period, newest first: who, what, when."""
        return await audit.audit_trail(db_session, office=report.office, period=report.period, actor=actor)
