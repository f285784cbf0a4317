"""The staff start page, and what every staff page of an office needs: the office, refused to other offices' staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar import MediaType, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n
from rathaus.offices.rules import OfficeRules
from rathaus.queue.deps import Hub, QueueCtx
from rathaus.queue.live import QueueHub
from rathaus.queue.service import QueueContext
from rathaus.staff.deps import CurrentStaff
from rathaus.staff.pages_auth import StaffPage
from rathaus.staff.service import Staff
from rathaus.web import DbSession, Now


async def staff_office(
    session: AsyncSession, ctx: QueueContext, slug: str, staff: Staff, now: datetime, *, role: str = "desk"
) -> OfficeRules:
    """The office of a staff page, refused (403) to staff of other offices."""
    office = await ctx.booking.catalog.office(session, slug, now=now)
    staff.require(office.id, role=role)
    return office


@dataclass(frozen=True, slots=True)
class OfficeDesk:
    """What a page of one office works with: the office (checked against the staff member), the request's
    session, the queue's context and the live hub, and the instant of the request."""

    office: OfficeRules
    staff: Staff
    session: AsyncSession
    ctx: QueueContext
    hub: QueueHub
    now: datetime

    async def publish(self) -> None:
        """Commit now, so that boards, ticket pages and the counters' queues hear of the change."""
        self.hub.changed_after_commit(self.session, self.office.id)
        await self.session.commit()


async def provide_office_desk(
    office: FromPath[str], staff: CurrentStaff, db_session: DbSession, queue_ctx: QueueCtx, hub: Hub, now: Now
) -> OfficeDesk:
    """The office of the page's path, refused (403) to staff of other offices."""
    rules = await staff_office(db_session, queue_ctx, office, staff, now)
    return OfficeDesk(rules, staff, db_session, queue_ctx, hub, now)


CurrentDesk = NamedDependency[OfficeDesk]


class OfficePage(StaffPage):
    """Base of the pages of one office (`/staff/{office}/…`): handlers take `desk: CurrentDesk`."""

    dependencies = {**StaffPage.dependencies, "desk": Provide(provide_office_desk)}


class StaffHome(StaffPage):
    @get("/staff", media_type=MediaType.HTML)
    async def home(self, staff: CurrentStaff, db_session: DbSession, queue_ctx: QueueCtx, now: Now) -> Template:
        """The offices the staff member works at, each with its pages."""
        snapshot = await queue_ctx.booking.catalog.get(db_session, now=now)
        language = i18n.current_language()
        offices = sorted(
            (o for o in snapshot.offices.values() if o.id in staff.office_ids), key=lambda o: o.name.get(language)
        )
        return Template("desk/home.html.j2", context={"staff": staff, "offices": offices, "office": None})
