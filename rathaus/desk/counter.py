"""A counter's page: the counter chosen once (remembered in a cookie), call next, recall, complete, no-show,
transfer, and the live queue, which a small script refreshes whenever the waiting room changes."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.desk import views
from rathaus.desk.home import CurrentDesk, OfficeDesk, OfficePage
from rathaus.errors import RathausError
from rathaus.offices.rules import CounterRule, OfficeRules
from rathaus.queue import presenters
from rathaus.queue import service as queue

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


async def _queue_view(desk: OfficeDesk) -> dict[str, Any]:
    state = await queue.queue_state(desk.session, ctx=desk.ctx, office=desk.office, now=desk.now)
    snapshot = await desk.ctx.booking.catalog.get(desk.session, now=desk.now)
    answer = presenters.queue(state, snapshot.services_by_id, desk.ctx.public_base_url)
    by_slug = {s.slug: s for s in snapshot.services.values()}
    return {
        "waiting": [views.ticket(t, by_slug, desk.now) for t in answer.waiting],
        "called": [views.ticket(t, by_slug, desk.now) for t in answer.called],
        "walk_in_wait": answer.walk_in_wait_minutes,
        "completed": answer.completed_today,
        "no_show": answer.no_show_today,
        "updated": views.clock_time(desk.now, desk.office),
    }


class CounterPages(OfficePage):
    """One counter of an office."""

    async def _page(
        self,
        request: Request[Any, Any, Any],
        desk: OfficeDesk,
        *,
        status: int = 200,
        error: RathausError | None = None,
        choose: bool = False,
    ) -> Template:
        office = desk.office
        counter = None if choose else chosen_counter(request, office)
        language = i18n.current_language()
        context: dict[str, Any] = {
            "staff": desk.staff,
            "office": office.slug,
            "office_name": office.name.get(language),
            "counters": office.counters,
            "counter": counter,
            "errors": {"actions": error.message(language)} if error else {},
        }
        if counter is not None:
            live = await _queue_view(desk)
            snapshot = await desk.ctx.booking.catalog.get(desk.session, now=desk.now)
            context |= {
                "calls_in": queue.calls_from_waiting_room(counter),
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
        self, request: Request[Any, Any, Any], desk: CurrentDesk, choose: FromQuery[bool] = False
    ) -> Template:
        """The counter's page, or the choice of counter when this device has none yet."""
        return await self._page(request, desk, choose=choose)

    @get("/staff/{office:str}/counter/queue", media_type=MediaType.HTML)
    async def live_queue(self, desk: CurrentDesk) -> Template:
        """The waiting list alone, for the page's script to swap in after each change of the waiting room."""
        return Template("desk/_queue.html.j2", context={"queue": await _queue_view(desk)})

    @post("/staff/{office:str}/counter/choose")
    async def choose(self, data: Annotated[ChooseForm, Form], desk: CurrentDesk) -> Redirect:
        """Remember which counter this device is."""
        counter = queue.find_counter(desk.office, data.counter)
        response = Redirect(f"/staff/{desk.office.slug}/counter", status_code=303)
        response.set_cookie(
            counter_cookie(desk.office),
            str(counter.id),
            path="/staff",
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
        )
        return response

    @post("/staff/{office:str}/counter/call-next", media_type=MediaType.HTML)
    async def call_next(self, request: Request[Any, Any, Any], desk: CurrentDesk) -> Template | Redirect:
        """Call the next ticket this counter can serve."""
        counter = chosen_counter(request, desk.office)
        back = Redirect(f"/staff/{desk.office.slug}/counter", status_code=303)
        if counter is None:
            return back
        try:
            await queue.call_next(
                desk.session,
                ctx=desk.ctx,
                office=desk.office,
                counter_ref=str(counter.id),
                actor=desk.staff.username,
                now=desk.now,
            )
        except RathausError as error:
            return await self._page(request, desk, status=error.status, error=error)
        await desk.publish()
        return back

    @post("/staff/{office:str}/counter/tickets/{ticket:int}/{action:str}", media_type=MediaType.HTML)
    async def act(
        self, ticket: FromPath[int], action: FromPath[str], request: Request[Any, Any, Any], desk: CurrentDesk
    ) -> Template | Redirect:
        """Recall, complete, no-show or transfer a ticket this office called."""
        if action not in ACTIONS:
            raise RathausError("invalid_input", reason="action")
        row = await queue.staff_ticket(desk.session, ticket)
        if row.office_id != desk.office.id:
            raise RathausError("unknown_ticket")
        actor, now = desk.staff.username, desk.now
        try:
            if action == "recall":
                await queue.recall(desk.session, office=desk.office, ticket=row, actor=actor, now=now)
            elif action == "transfer":
                form = msgspec.convert(await _form(request), TransferForm, strict=False)
                await queue.transfer(
                    desk.session,
                    ctx=desk.ctx,
                    office=desk.office,
                    ticket=row,
                    counter_ref=form.counter or None,
                    service_slugs=form.slugs() or None,
                    actor=actor,
                    now=now,
                )
            else:
                outcome = "completed" if action == "complete" else "no_show"
                await queue.finish(desk.session, office=desk.office, ticket=row, outcome=outcome, actor=actor, now=now)
        except RathausError as error:
            return await self._page(request, desk, status=error.status, error=error)
        await desk.publish()
        return Redirect(f"/staff/{desk.office.slug}/counter", status_code=303)


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The posted form with repeated fields as lists (the transfer's services)."""
    form = await request.form()
    return {key: (values if key == "services" else values[0]) for key, values in form.dict().items()}
