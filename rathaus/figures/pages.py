"""The figures, audit and display-launcher pages for signed-in staff of the office."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, Parameter, QueryParameter
from litestar.response import Template

from rathaus import i18n
from rathaus.booking.deps import BookingCtx
from rathaus.figures import audit, export, views
from rathaus.figures.controllers import office_and_period, read_figures
from rathaus.staff.deps import CurrentStaff
from rathaus.staff.pages_auth import StaffPage
from rathaus.web import DbSession, Now

PeriodKind = Annotated[str, Parameter(pattern="^(day|week|month)$")]
Anchor = Annotated[date | None, QueryParameter(name="date")]
BASE = "/staff/{office:str}"


def _urls(slug: str, kind: str, first: date) -> dict[str, str]:
    query = f"?period={kind}&date={first.isoformat()}"
    return {
        "figures_url": f"/staff/{slug}/figures{query}",
        "csv_url": f"/staff/{slug}/figures.csv{query}",
        "audit_url": f"/staff/{slug}/audit{query}",
    }


class FiguresPages(StaffPage):
    """An office's figures with charts and tables, the CSV download, the audit trail and the display's link."""

    @get(f"{BASE}/figures", name="staff-figures", media_type=MediaType.HTML)
    async def figures(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
        period: PeriodKind = "day",
        anchor: Anchor = None,
    ) -> Template:
        """The figures of a day, week or month: key numbers, charts, each beside its table."""
        rules, span = await office_and_period(
            db_session, booking_ctx, slug=office, staff=staff, kind=period, anchor=anchor, now=now
        )
        data = await read_figures(db_session, booking_ctx, state, rules, span, now)
        language = i18n.current_language()
        return Template(
            "figures/figures.html.j2",
            context={
                "staff": staff,
                "office": rules.slug,
                "office_name": rules.name.get(language),
                "period": span.kind,
                "anchor": (anchor or span.first).isoformat(),
                "periods": views.period_choices(language),
                "period_text": views.period_text(span, language),
                "page_url": request.url.path,
                "keys": views.key_figures(data, language),
                "panels": views.panels(data, language),
                "details": views.details(data, language),
                **_urls(rules.slug, span.kind, span.first),
            },
        )

    @get(f"{BASE}/figures.csv", media_type="text/csv")
    async def figures_csv(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
        period: PeriodKind = "day",
        anchor: Anchor = None,
    ) -> Response[str]:
        """The figures as a CSV download."""
        rules, span = await office_and_period(
            db_session, booking_ctx, slug=office, staff=staff, kind=period, anchor=anchor, now=now
        )
        data = await read_figures(db_session, booking_ctx, state, rules, span, now)
        return export.csv_response(data)

    @get(f"{BASE}/audit", name="staff-audit", media_type=MediaType.HTML)
    async def audit(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
        period: PeriodKind = "day",
        anchor: Anchor = None,
        actor: Annotated[str | None, Parameter(max_length=100)] = None,
    ) -> Template:
        """Who did what and when: booking, ticket and closure events, newest first."""
        rules, span = await office_and_period(
            db_session, booking_ctx, slug=office, staff=staff, kind=period, anchor=anchor, now=now
        )
        trail = await audit.audit_trail(db_session, office=rules, period=span, actor=actor or None)
        language = i18n.current_language()
        return Template(
            "figures/audit.html.j2",
            context={
                "staff": staff,
                "office": rules.slug,
                "office_name": rules.name.get(language),
                "period": span.kind,
                "anchor": (anchor or span.first).isoformat(),
                "actor": actor,
                "periods": views.period_choices(language),
                "period_text": views.period_text(span, language),
                "page_url": request.url.path,
                "entries": views.audit_rows(trail, language),
                **_urls(rules.slug, span.kind, span.first),
            },
        )
