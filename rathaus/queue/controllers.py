"""HTTP API of the queue: the front desk's endpoints, the public ticket and board, their live streams and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import ResponseHeader, State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter
from litestar.response import Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n
from rathaus.errors import RathausError
from rathaus.offices.catalog import Catalog
from rathaus.offices.rules import OfficeRules
from rathaus.queue import pages, presenters, schemas, service
from rathaus.queue._state import TicketRow
from rathaus.queue.deps import Hub, QueueCtx
from rathaus.queue.live import LiveSnapshot, QueueHub, event_stream
from rathaus.queue.models import OPEN, Ticket
from rathaus.queue.service import QueueContext
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.staff.service import Staff
from rathaus.web import PAGE_SECURITY_HEADERS, DbSession, Now, language_of, runtime_of
from rathaus.web_headers import PUBLIC_REVALIDATE
from rathaus.web_input import database_id


async def _answer(
    session: AsyncSession,
    ctx: QueueContext,
    hub: QueueHub,
    office: OfficeRules,
    ticket: Ticket | TicketRow,
    now: datetime,
) -> schemas.Ticket:
    """Commit the change (boards and ticket pages hear of it), then answer with the ticket, its position and
    estimate (only a waiting ticket has them).

    The estimate comes from the hub's next read of the waiting room, begun after the commit: the one the boards
    and ticket pages get too, so a burst of new tickets costs one read, and none holds the database's write
    lock (SQLite has one) from the other counters.
    """
    row = ticket if isinstance(ticket, TicketRow) else TicketRow.of(ticket)
    snapshot = await ctx.booking.catalog.get(session, now=now)
    hub.changed_after_commit(session, office.id)
    await session.commit()
    state = (await hub.snapshot(office.id)).state if row.status == "waiting" else None
    return presenters.ticket(row, state, office, snapshot.services_by_id, ctx.public_base_url)


class QueueController(Controller):
    """The front desk: check-in, walk-ins, call-next and the waiting list of one office."""

    path = "/api/v1/offices/{office:str}/queue"
    tags = ["queue"]
    dependencies = STAFF_ONLY

    async def _office(
        self, session: AsyncSession, ctx: QueueContext, slug: str, staff: Staff, now: datetime
    ) -> OfficeRules:
        office = await ctx.booking.catalog.office(session, slug, now=now)
        staff.require(office.id)
        return office

    @get("/")
    async def waiting_room(
        self, office: FromPath[str], staff: CurrentStaff, db_session: DbSession, queue_ctx: QueueCtx, now: Now
    ) -> schemas.Queue:
        """Everyone waiting (in the order they will probably be called, with estimates) and everyone called."""
        rules = await self._office(db_session, queue_ctx, office, staff, now)
        state = await service.queue_state(db_session, ctx=queue_ctx, office=rules, now=now)
        snapshot = await queue_ctx.booking.catalog.get(db_session, now=now)
        return presenters.queue(state, snapshot.services_by_id, queue_ctx.public_base_url)

    @post("/check-in")
    async def check_in(
        self,
        office: FromPath[str],
        data: JSONBody[schemas.CheckIn],
        staff: CurrentStaff,
        db_session: DbSession,
        queue_ctx: QueueCtx,
        hub: Hub,
        now: Now,
    ) -> schemas.Ticket:
        """Check in a booked citizen by booking code (typed, or the QR code's content): their ticket."""
        rules = await self._office(db_session, queue_ctx, office, staff, now)
        ticket = await service.check_in(
            db_session, ctx=queue_ctx, office=rules, code=data.code, actor=staff.username, now=now
        )
        return await _answer(db_session, queue_ctx, hub, rules, ticket, now)

    @post("/walk-ins")
    async def walk_in(
        self,
        office: FromPath[str],
        data: JSONBody[schemas.WalkIn],
        staff: CurrentStaff,
        db_session: DbSession,
        queue_ctx: QueueCtx,
        hub: Hub,
        now: Now,
    ) -> schemas.Ticket:
        """A walk-in ticket; after the cut-off, when the day is full or the office closed: 409 with the reason."""
        rules = await self._office(db_session, queue_ctx, office, staff, now)
        request = service.WalkInRequest(data.services, data.phone, data.language, data.override_note)
        ticket = await service.walk_in(
            db_session, ctx=queue_ctx, office=rules, request=request, actor=staff.username, now=now
        )
        return await _answer(db_session, queue_ctx, hub, rules, ticket, now)

    @post("/call-next", status_code=200)
    async def call_next(
        self,
        office: FromPath[str],
        data: JSONBody[schemas.CallNext],
        staff: CurrentStaff,
        db_session: DbSession,
        queue_ctx: QueueCtx,
        hub: Hub,
        now: Now,
    ) -> schemas.Ticket:
        """Call the next ticket this counter can serve (appointments due now first, then walk-ins)."""
        rules = await self._office(db_session, queue_ctx, office, staff, now)
        ticket = await service.call_next(
            db_session, ctx=queue_ctx, office=rules, counter_ref=str(data.counter), actor=staff.username, now=now
        )
        return await _answer(db_session, queue_ctx, hub, rules, ticket, now)


class TicketController(Controller):
    """What a counter does with the ticket it called."""

    path = "/api/v1/tickets/{ticket:str}"
    tags = ["queue"]
    dependencies = STAFF_ONLY

    async def _ticket(
        self, session: AsyncSession, ctx: QueueContext, ref: str, staff: Staff, now: datetime
    ) -> tuple[Ticket, OfficeRules]:
        ticket = await service.staff_ticket(session, _ticket_id(ref))
        office = (await ctx.booking.catalog.get(session, now=now)).office_by_id(ticket.office_id)
        staff.require(office.id)
        return ticket, office

    async def _finish(
        self,
        outcome: str,
        ref: str,
        staff: Staff,
        session: AsyncSession,
        ctx: QueueContext,
        hub: QueueHub,
        now: datetime,
    ) -> schemas.Ticket:
        row, office = await service.finish_called(
            session,
            ctx=ctx,
            ticket_id=_ticket_id(ref),
            outcome=outcome,
            check_office=staff.require,
            actor=staff.username,
            now=now,
        )
        return await _answer(session, ctx, hub, office, row, now)

    @post("/complete", status_code=200)
    async def complete(
        self, ticket: FromPath[str], staff: CurrentStaff, db_session: DbSession, queue_ctx: QueueCtx, hub: Hub, now: Now
    ) -> schemas.Ticket:
        """The citizen has been served."""
        return await self._finish("completed", ticket, staff, db_session, queue_ctx, hub, now)

    @post("/no-show", status_code=200)
    async def no_show(
        self, ticket: FromPath[str], staff: CurrentStaff, db_session: DbSession, queue_ctx: QueueCtx, hub: Hub, now: Now
    ) -> schemas.Ticket:
        """The citizen did not come to the counter."""
        return await self._finish("no_show", ticket, staff, db_session, queue_ctx, hub, now)

    @post("/recall", status_code=200)
    async def recall(
        self, ticket: FromPath[str], staff: CurrentStaff, db_session: DbSession, queue_ctx: QueueCtx, hub: Hub, now: Now
    ) -> schemas.Ticket:
        """Call the same ticket once more."""
        row, office = await self._ticket(db_session, queue_ctx, ticket, staff, now)
        await service.recall(db_session, office=office, ticket=row, actor=staff.username, now=now)
        return await _answer(db_session, queue_ctx, hub, office, row, now)

    @post("/transfer", status_code=200)
    async def transfer(
        self,
        ticket: FromPath[str],
        data: JSONBody[schemas.Transfer],
        staff: CurrentStaff,
        db_session: DbSession,
        queue_ctx: QueueCtx,
        hub: Hub,
        now: Now,
    ) -> schemas.Ticket:
        """Send the ticket on to another counter and/or other services; it waits ahead of new arrivals."""
        row, office = await self._ticket(db_session, queue_ctx, ticket, staff, now)
        await service.transfer(
            db_session,
            ctx=queue_ctx,
            office=office,
            ticket=row,
            counter_ref=None if data.counter is None else str(data.counter),
            service_slugs=data.services,
            actor=staff.username,
            now=now,
        )
        return await _answer(db_session, queue_ctx, hub, office, row, now)


def _ticket_id(ref: str) -> int:
    ticket_id = database_id(ref)
    if ticket_id is None:
        raise RathausError("unknown_ticket")
    return ticket_id


class PublicQueueController(Controller):
    """The citizen's ticket and the waiting-room board: JSON, live streams and pages. No personal data."""

    tags = ["queue (public)"]

    @get(
        "/api/v1/tickets/{ticket:str}",
        responses={200: ResponseSpec(data_container=schemas.PublicTicket, description="The citizen's ticket")},
    )
    async def public_ticket(
        self, ticket: FromPath[str], request: Request[Any, Any, Any], state: State, hub: Hub
    ) -> Response[bytes]:
        """A citizen's ticket: number, status, position, estimated wait, counter once called."""
        row = await _ticket_row(state, ticket)
        snapshot = await hub.snapshot(row.office_id)
        return Response(_view(snapshot, row, language_of(request)), media_type=MediaType.JSON)

    @get("/api/v1/tickets/{ticket:str}/events")
    async def ticket_events(
        self, ticket: FromPath[str], request: Request[Any, Any, Any], state: State, hub: Hub
    ) -> Stream:
        """The citizen's ticket as server-sent events: at once, then after every change of the waiting room."""
        row = await _ticket_row(state, ticket)
        language = language_of(request)

        async def render(snapshot: LiveSnapshot) -> bytes:
            nonlocal row
            view = snapshot.ticket(ticket, language)
            if view is not None:
                return view
            if row.status in OPEN:  # it has just been completed (or closed): read once how it ended
                row = await _ticket_row(state, ticket)
            return snapshot.encode(row, language)

        return event_stream(hub.stream(row.office_id, render))

    @get(
        "/api/v1/offices/{office:str}/board",
        cache_control=PUBLIC_REVALIDATE,
        responses={200: ResponseSpec(data_container=schemas.Board, description="What the display shows")},
    )
    async def board(self, office: FromPath[str], state: State, hub: Hub) -> Response[bytes]:
        """What the waiting-room display shows."""
        office_id = await _office_id(state, office)
        snapshot = await hub.snapshot(office_id)
        return Response(snapshot.board, media_type=MediaType.JSON)

    @get("/api/v1/offices/{office:str}/board/events", media_type="text/event-stream")
    async def board_events(self, office: FromPath[str], state: State, hub: Hub) -> Stream:
        """The display's content as server-sent events: at once, then after every call and every new ticket."""
        office_id = await _office_id(state, office)

        async def render(snapshot: LiveSnapshot) -> bytes:
            return snapshot.board

        return event_stream(hub.stream(office_id, render))

    @get(
        "/offices/{office:str}/board",
        media_type=MediaType.HTML,
        include_in_schema=False,
        response_headers=[ResponseHeader(name=name, value=value) for name, value in PAGE_SECURITY_HEADERS.items()],
    )
    async def board_page(
        self,
        office: FromPath[str],
        request: Request[Any, Any, Any],
        state: State,
        hub: Hub,
        chime: Annotated[str | None, Parameter(max_length=8)] = None,
        speak: Annotated[str | None, Parameter(max_length=8)] = None,
    ) -> Template:
        """The waiting-room display: readable across the room, updating itself; ?chime=1&speak=1 for sound.

        Its main language is the office's default unless ?lang= names another: a wall display should not depend
        on the language its browser happens to be set to.
        """
        office_id = await _office_id(state, office)
        snapshot = await hub.snapshot(office_id)
        return pages.board(
            snapshot.board,
            events=f"/api/v1/offices/{office}/board/events",
            language=i18n.choose(request.query_params.get("lang")),
            chime=chime,
            speak=speak,
        )

    @get("/tickets/{ticket:str}", media_type=MediaType.HTML, include_in_schema=False)
    async def ticket_page(
        self, ticket: FromPath[str], request: Request[Any, Any, Any], state: State, hub: Hub
    ) -> Template:
        """A citizen's ticket on their phone, updating itself."""
        language = language_of(request)
        row = await _ticket_row(state, ticket)
        view = _view(await hub.snapshot(row.office_id), row, language)
        return pages.ticket(view, language=language, events=f"/api/v1/tickets/{ticket}/events", public_id=ticket)


async def _office_id(state: State, slug: str) -> int:
    """The office's id; a short read that does not hold a connection while a stream stays open."""
    runtime = runtime_of(state)
    async with runtime.read_session_maker() as session:
        office = await runtime.get(Catalog).office(session, slug, now=runtime.clock.now())
    return office.id


async def _ticket_row(state: State, public_id: str) -> TicketRow:
    """A ticket by its public id; a short read that does not hold a connection while a stream stays open."""
    async with runtime_of(state).read_session_maker() as session:
        return TicketRow.of(await service.public_ticket(session, public_id))


def _view(snapshot: LiveSnapshot, row: TicketRow, language: str) -> bytes:
    """The ticket page's JSON: from the shared snapshot while the ticket is open, else from its own row."""
    return snapshot.ticket(row.public_id, language) or snapshot.encode(row, language)
