"""Staff API of the figures and the audit trail: JSON, and the figures as CSV. Office-scoped, bearer token."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, Parameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.booking.deps import BookingCtx
from rathaus.booking.service import BookingContext
from rathaus.figures import audit, export, schemas, service
from rathaus.figures.periods import Period, period_of
from rathaus.offices.rules import OfficeRules
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.staff.service import Staff
from rathaus.web import DbSession, Now, runtime_of

PeriodKind = Annotated[str, Parameter(pattern="^(day|week|month)$")]
Anchor = Annotated[date | None, QueryParameter(name="date")]


async def office_and_period(
    session: AsyncSession,
    ctx: BookingContext,
    *,
    slug: str,
    staff: Staff,
    kind: str,
    anchor: date | None,
    now: datetime,
) -> tuple[OfficeRules, Period]:
    """The office (403 unless the staff member works there) and the period asked for (default: today)."""
    office = await ctx.catalog.office(session, slug, now=now)
    staff.require(office.id)
    return office, period_of(office, kind=kind, anchor=anchor or office.local_day(now))


async def read_figures(
    session: AsyncSession, ctx: BookingContext, state: State, office: OfficeRules, period: Period, now: datetime
) -> schemas.Figures:
    """The figures of the office and period, with the catalogue's current services."""
    snapshot = await ctx.catalog.get(session, now=now)
    return await service.figures(
        session,
        office=office,
        services=snapshot.services_by_id,
        period=period,
        booking_ctx=ctx,
        read_sessions=runtime_of(state).read_session_maker,
        now=now,
    )


class FiguresController(Controller):
    """An office's figures over a day, week or month, and who did what."""

    path = "/api/v1/offices/{office:str}"
    tags = ["staff"]
    dependencies = STAFF_ONLY

    @get("/figures")
    async def figures(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
        state: State,
        period: PeriodKind = "day",
        anchor: Anchor = None,
    ) -> schemas.Figures:
        """Bookings, online share, no-shows, waits, service times, counters, lead times, cancellations, messages."""
        rules, span = await office_and_period(
            db_session, booking_ctx, slug=office, staff=staff, kind=period, anchor=anchor, now=now
        )
        return await read_figures(db_session, booking_ctx, state, rules, span, now)

    @get("/figures.csv", media_type="text/csv")
    async def figures_csv(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
        state: State,
        period: PeriodKind = "day",
        anchor: Anchor = None,
    ) -> Response[str]:
        """The same figures as CSV, one value per row."""
        rules, span = await office_and_period(
            db_session, booking_ctx, slug=office, staff=staff, kind=period, anchor=anchor, now=now
        )
        return export.csv_response(await read_figures(db_session, booking_ctx, state, rules, span, now))

    @get("/audit", media_type=MediaType.JSON)
    async def audit(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
        period: PeriodKind = "day",
        anchor: Anchor = None,
        actor: Annotated[str | None, Parameter(max_length=100)] = None,
    ) -> schemas.Audit:
        """Booking, ticket and closure events of the period, newest first: who, what, when."""
        rules, span = await office_and_period(
            db_session, booking_ctx, slug=office, staff=staff, kind=period, anchor=anchor, now=now
        )
        return await audit.audit_trail(db_session, office=rules, period=span, actor=actor)
