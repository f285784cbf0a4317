"""A counter's page: the counter chosen once (remembered in a cookie), call next, recall, complete, no-show,
transfer, and the live queue, which a small script refreshes whenever the waiting room changes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n
from rathaus.desk import views
from rathaus.desk.home import publish_change, staff_office
from rathaus.errors import RathausError
from rathaus.offices.rules import CounterRule, OfficeRules
from rathaus.queue import presenters
from rathaus.queue import service as queue
from rathaus.queue.deps import Hub, QueueCtx
from rathaus.queue.service import QueueContext
from rathaus.staff.deps import CurrentStaff
from rathaus.staff.pages_auth import StaffPage
from rathaus.staff.service import Staff
from rathaus.web import DbSession, Now

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
ACTIONS = ("recall", "complete", "no-show", "transfer")


class ChooseForm(msgspec.Struct):
    counter: Annotated[str, msgspec.Meta(max_length=20)] = ""


class TransferForm(msgspec.Struct):
    counter: Annotated[str, msgspec.Meta(max_length=20)] = ""
    services: list[Annotated[str, msgspec.Meta(max_length=64)]] | Annotated[str, msgspec.Meta(max_length=64)] = []

    def slugs(self) -> list[str]:
        return [self.services] if isinstance(self.services, str) else list(self.services)


def counter_cookie(office: OfficeRules) -> str:
    """The cookie that remembers which counter this device is, per office."""
    return f"rathaus_counter_{office.id}"


def chosen_counter(request: Request[Any, Any, Any], office: OfficeRules) -> CounterRule | None:
    """The counter this device chose, if it still exists."""
    value = request.cookies.get(counter_cookie(office), "")
    return next((c for c in office.counters if str(c.id) == value), None)


async def _queue_view(session: AsyncSession, ctx: QueueContext, office: OfficeRules, now: datetime) -> dict[str, Any]:
    state = await queue.queue_state(session, ctx=ctx, office=office, now=now)
    snapshot = await ctx.booking.catalog.get(session, now=now)
    answer = presenters.queue(state, snapshot.services_by_id, ctx.public_base_url)
    by_slug = {s.slug: s for s in snapshot.services.values()}
    return {
        "waiting": [views.ticket(t, by_slug, now) for t in answer.waiting],
        "called": [views.ticket(t, by_slug, now) for t in answer.called],
        "walk_in_wait": answer.walk_in_wait_minutes,
        "completed": answer.completed_today,
        "no_show": answer.no_show_today,
        "updated": views.clock_time(now, office),
    }


class CounterPages(StaffPage):
    """One counter of an office."""

    async def _page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        ctx: QueueContext,
        office: OfficeRules,
        staff: Staff,
        now: datetime,
        *,
        status: int = 200,
        error: str | None = None,
        choose: bool = False,
    ) -> Template:
        counter = None if choose else chosen_counter(request, office)
        language = i18n.current_language()
        context: dict[str, Any] = {
            "staff": staff,
            "office": office.slug,
            "office_name": office.name.get(language),
            "counters": office.counters,
            "counter": counter,
            "errors": {"actions": error} if error else {},
        }
        if counter is not None:
            live = await _queue_view(session, ctx, office, now)
            snapshot = await ctx.booking.catalog.get(session, now=now)
            context |= {
                "queue": live,
                "current": next((t for t in live["called"] if t["counter"] == counter.name), None),
                "services": sorted(
                    (s for s in snapshot.services.values() if office.able_counters([s.id], online=False)),
                    key=lambda s: s.name.get(language).casefold(),
                ),
            }
        return Template("desk/counter.html.j2", status_code=status, context=context)

    @get("/staff/{office:str}/counter", media_type=MediaType.HTML, name="staff-counter")
    async def counter(
        self,
        office: FromPath[str],
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        db_session: DbSession,
        queue_ctx: QueueCtx,
        now: Now,
        choose: FromQuery[bool] = False,
    ) -> Template:
        """The counter's page, or the choice of counter when this device has none yet."""
        rules = await staff_office(db_session, queue_ctx, office, staff, now)
        return await self._page(request, db_session, queue_ctx, rules, staff, now, choose=choose)

    @get("/staff/{office:str}/counter/queue", media_type=MediaType.HTML)
    async def live_queue(
        self, office: FromPath[str], staff: CurrentStaff, db_session: DbSession, queue_ctx: QueueCtx, now: Now
    ) -> Template:
        """The waiting list alone, for the page's script to swap in after each change of the waiting room."""
        rules = await staff_office(db_session, queue_ctx, office, staff, now)
        live = await _queue_view(db_session, queue_ctx, rules, now)
        return Template("desk/_queue.html.j2", context={"queue": live})

    @post("/staff/{office:str}/counter/choose")
    async def choose(
        self,
        office: FromPath[str],
        data: Annotated[ChooseForm, Form],
        staff: CurrentStaff,
        db_session: DbSession,
        queue_ctx: QueueCtx,
        now: Now,
    ) -> Redirect:
        """Remember which counter this device is."""
        rules = await staff_office(db_session, queue_ctx, office, staff, now)
        counter = queue.find_counter(rules, data.counter)
        response = Redirect(f"/staff/{rules.slug}/counter", status_code=303)
        response.set_cookie(
            counter_cookie(rules),
            str(counter.id),
            path="/staff",
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
        )
        return response

    @post("/staff/{office:str}/counter/call-next", media_type=MediaType.HTML)
    async def call_next(
        self,
        office: FromPath[str],
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        db_session: DbSession,
        queue_ctx: QueueCtx,
        hub: Hub,
        now: Now,
    ) -> Template | Redirect:
        """Call the next ticket this counter can serve."""
        rules = await staff_office(db_session, queue_ctx, office, staff, now)
        counter = chosen_counter(request, rules)
        if counter is None:
            return Redirect(f"/staff/{rules.slug}/counter", status_code=303)
        try:
            await queue.call_next(
                db_session, ctx=queue_ctx, office=rules, counter_ref=str(counter.id), actor=staff.username, now=now
            )
        except RathausError as error:
            return await self._failed(request, db_session, queue_ctx, rules, staff, now, error)
        await publish_change(db_session, hub, rules)
        return Redirect(f"/staff/{rules.slug}/counter", status_code=303)

    @post("/staff/{office:str}/counter/tickets/{ticket:int}/{action:str}", media_type=MediaType.HTML)
    async def act(
        self,
        office: FromPath[str],
        ticket: FromPath[int],
        action: FromPath[str],
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        db_session: DbSession,
        queue_ctx: QueueCtx,
        hub: Hub,
        now: Now,
    ) -> Template | Redirect:
        """Recall, complete, no-show or transfer the ticket this counter called."""
        rules = await staff_office(db_session, queue_ctx, office, staff, now)
        if action not in ACTIONS:
            raise RathausError("invalid_input", reason="action")
        row = await queue.staff_ticket(db_session, ticket)
        if row.office_id != rules.id:
            raise RathausError("unknown_ticket")
        try:
            if action == "recall":
                await queue.recall(db_session, office=rules, ticket=row, actor=staff.username, now=now)
            elif action == "transfer":
                form = msgspec.convert(dict(await _form(request)), TransferForm, strict=False)
                await queue.transfer(
                    db_session,
                    ctx=queue_ctx,
                    office=rules,
                    ticket=row,
                    counter_ref=form.counter or None,
                    service_slugs=form.slugs() or None,
                    actor=staff.username,
                    now=now,
                )
            else:
                outcome = "completed" if action == "complete" else "no_show"
                await queue.finish(db_session, office=rules, ticket=row, outcome=outcome, actor=staff.username, now=now)
        except RathausError as error:
            return await self._failed(request, db_session, queue_ctx, rules, staff, now, error)
        await publish_change(db_session, hub, rules)
        return Redirect(f"/staff/{rules.slug}/counter", status_code=303)

    async def _failed(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        ctx: QueueContext,
        office: OfficeRules,
        staff: Staff,
        now: datetime,
        error: RathausError,
    ) -> Template:
        message = error.message(i18n.current_language())
        return await self._page(request, session, ctx, office, staff, now, status=error.status, error=message)


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The posted form with repeated fields as lists (the transfer's services)."""
    form = await request.form()
    return {key: (values if key == "services" else values[0]) for key, values in form.dict().items()}
