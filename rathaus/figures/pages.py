"""The figures and audit pages for signed-in staff of the office."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.response import Template

from rathaus import i18n
from rathaus.figures import audit, export, views
from rathaus.figures.controllers import Actor
from rathaus.figures.deps import DEPENDENCIES, FiguresDep, ReportScope, Scope
from rathaus.staff.deps import CurrentStaff
from rathaus.staff.pages_auth import StaffPage
from rathaus.staff.service import Staff
from rathaus.waitlist.presenters import figures_table
from rathaus.web import DbSession

BASE = "/staff/{office:str}"


def _common(report: Scope, staff: Staff, request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What both pages show: the office, the period form and the links between them."""
    language = i18n.current_language()
    slug, span = report.office.slug, report.period
    query = f"?period={span.kind}&date={report.anchor.isoformat()}"
    return {
        "staff": staff,
        "office": slug,
        "office_name": report.office.name.get(language),
        "period": span.kind,
        "anchor": report.anchor.isoformat(),
        "periods": views.period_choices(language),
        "period_text": views.period_text(span, language),
        "page_url": request.url.path,
        "figures_url": f"/staff/{slug}/figures{query}",
        "csv_url": f"/staff/{slug}/figures.csv{query}",
        "audit_url": f"/staff/{slug}/audit{query}",
    }


class FiguresPages(StaffPage):
    """An office's figures with charts and tables, their CSV, and the audit trail."""

    dependencies = {**StaffPage.dependencies, **DEPENDENCIES}

    @get(f"{BASE}/figures", name="staff-figures", media_type=MediaType.HTML)
    async def figures_page(
        self, report: ReportScope, figures: FiguresDep, staff: CurrentStaff, request: Request[Any, Any, Any]
    ) -> Template:
        """The figures of a day, week or month: key numbers, charts, each beside its table."""
        language = i18n.current_language()
        return Template(
            "figures/figures.html.j2",
            context={
                **_common(report, staff, request),
                "keys": views.key_figures(figures, language),
                "panels": views.panels(figures, language),
                "details": views.details(figures, language),
                "waitlist": None if figures.waitlist is None else figures_table(figures.waitlist, language),
            },
        )

    @get(f"{BASE}/figures.csv", media_type="text/csv")
    async def figures_csv(self, figures: FiguresDep) -> Response[str]:
        """The figures as a CSV download."""
        return export.csv_response(figures)

    @get(f"{BASE}/audit", name="staff-audit", media_type=MediaType.HTML)
    async def audit_page(
        self,
        report: ReportScope,
        staff: CurrentStaff,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        actor: Actor = None,
    ) -> Template:
        """Who did what and when: booking, ticket and closure events, newest first."""
        trail = await audit.audit_trail(db_session, office=report.office, period=report.period, actor=actor or None)
        return Template(
            "figures/audit.html.j2",
            context={
                **_common(report, staff, request),
                "actor": actor,
                "entries": views.audit_rows(trail, i18n.current_language()),
            },
        )
