"""What the figures' API and pages inject: the office and period asked for, and the figures of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter, QueryParameter

from rathaus.booking.deps import BookingCtx
from rathaus.figures import schemas, service
from rathaus.figures.periods import Period, period_of
from rathaus.offices.rules import OfficeRules
from rathaus.staff.deps import CurrentStaff
from rathaus.web import DbSession, Now, runtime_of

PeriodKind = Annotated[str, Parameter(pattern="^(day|week|month)$")]
Anchor = Annotated[date | None, QueryParameter(name="date")]


@dataclass(frozen=True, slots=True)
class Scope:
    office: OfficeRules
    period: Period
    anchor: date  # the day asked for (the period contains it)


async def provide_report(
    office: FromPath[str],
    staff: CurrentStaff,
    db_session: DbSession,
    booking_ctx: BookingCtx,
    now: Now,
    period: PeriodKind = "day",
    anchor: Anchor = None,
) -> Scope:
    """The office (403 unless the staff member works there) and the period asked for (default: today)."""
    rules = await booking_ctx.catalog.office(db_session, office, now=now)
    staff.require(rules.id)
    day = anchor or rules.local_day(now)
    return Scope(rules, period_of(rules, kind=period, anchor=day), day)


async def provide_figures(
    report: ReportScope, staff: CurrentStaff, db_session: DbSession, booking_ctx: BookingCtx, state: State, now: Now
) -> schemas.Figures:
    """The figures of the office and period, with the catalogue's current services; the citizens' comments
    for the office's admins."""
    snapshot = await booking_ctx.catalog.get(db_session, now=now)
    return await service.figures(
        db_session,
        office=report.office,
        services=snapshot.services_by_id,
        period=report.period,
        booking_ctx=booking_ctx,
        read_sessions=runtime_of(state).read_session_maker,
        now=now,
        with_comments=staff.may(report.office.id, role="admin"),
    )


ReportScope = NamedDependency[Scope]
FiguresDep = NamedDependency[schemas.Figures]
DEPENDENCIES = {"report": Provide(provide_report), "figures": Provide(provide_figures)}
