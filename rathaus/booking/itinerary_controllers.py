"""HTTP API of life events across offices: the life events, proposed itineraries, and booking one as a whole."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from rathaus.booking import presenters, schemas, service
from rathaus.booking.controllers import Code, ManageToken, provide_manage_token
from rathaus.booking.deps import BookingCtx
from rathaus.fairness import Proof
from rathaus.offices import presenters as office_presenters
from rathaus.offices import schemas as office_schemas
from rathaus.offices.catalog import Catalog
from rathaus.web import DbSession, Now, language_of, runtime_of
from rathaus.web_headers import PUBLIC_REVALIDATE, VARY_LANGUAGE


class LifeEventController(Controller):
    path = "/api/v1/life-events"
    tags = ["catalog"]
    cache_control = PUBLIC_REVALIDATE
    response_headers = VARY_LANGUAGE

    @get("/")
    async def list_life_events(
        self, request: Request[Any, Any, Any], state: State, now: Now
    ) -> list[office_schemas.LifeEvent]:
        """Life events whose appointments may lie at several offices, with the steps outside them as a checklist."""
        snapshot = await runtime_of(state).get(Catalog).current(now=now)
        language = language_of(request)
        return [office_presenters.life_event(e, language) for e in snapshot.life_events.values()]

    @get("/{life_event:str}/itineraries")
    async def itineraries(
        self,
        life_event: FromPath[str],
        state: State,
        now: Now,
        since: Annotated[date | None, QueryParameter(name="since", required=False)] = None,
        days: Annotated[int, QueryParameter(name="days", ge=1, le=service.MAX_SEARCH_DAYS)] = 14,
    ) -> schemas.Itineraries:
        """The best itinerary for each day (from `since`, for `days` days) on which the life event can begin:
        one day where possible, the steps in a valid order, the travel time between offices respected."""
        runtime = runtime_of(state)
        result = await service.itineraries(
            runtime.read_session_maker,
            catalog=runtime.get(Catalog),
            cache=runtime.get(service.AvailabilityCache),
            life_event=life_event,
            since=since,
            days=days,
            now=now,
        )
        return presenters.itineraries(result)


class ItineraryController(Controller):
    path = "/api/v1/itineraries"
    tags = ["bookings"]
    dependencies = {"manage_token": Provide(provide_manage_token, sync_to_thread=False)}

    @post("/")
    async def create(
        self,
        data: JSONBody[schemas.ItineraryCreate],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        proof: Proof,
        now: Now,
    ) -> schemas.Itinerary:
        """Book every part of an itinerary, or none (409 when a part was taken meanwhile); with a solved proof of
        work (`altcha`)."""
        await proof.spend(db_session, payload=data.altcha, now=now)
        request = service.ItineraryRequest(
            life_event=data.life_event,
            parts=_parts(data.parts),
            name=data.name,
            email=data.email or None,
            phone=data.phone or None,
            language=data.language,
        )
        result = await service.book_itinerary(db_session, ctx=booking_ctx, request=request, now=now)
        return presenters.itinerary(result)

    @get("/{code:str}")
    async def read(
        self, code: Code, manage_token: ManageToken, db_session: DbSession, booking_ctx: BookingCtx, now: Now
    ) -> schemas.Itinerary:
        """An itinerary and its parts, for the holder of its manage token (which also manages each part)."""
        result = await service.view_itinerary(db_session, ctx=booking_ctx, code=code, token=manage_token, now=now)
        return presenters.itinerary(result)

    @post("/{code:str}/cancel", status_code=200)
    async def cancel(
        self, code: Code, manage_token: ManageToken, db_session: DbSession, booking_ctx: BookingCtx, now: Now
    ) -> schemas.Itinerary:
        """Cancel every part still ahead; their slots become free at once."""
        result = await service.cancel_itinerary(db_session, ctx=booking_ctx, code=code, token=manage_token, now=now)
        return presenters.itinerary(result)

    @post("/{code:str}/reschedule", status_code=200)
    async def reschedule(
        self,
        code: Code,
        manage_token: ManageToken,
        data: JSONBody[schemas.ItineraryReschedule],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> schemas.Itinerary:
        """Move every part at once, each at its office; on 409 every part keeps its old slot."""
        result = await service.reschedule_itinerary(
            db_session, ctx=booking_ctx, code=code, token=manage_token, parts=_parts(data.parts), now=now
        )
        return presenters.itinerary(result)


def _parts(parts: list[schemas.PartCreate]) -> list[service.PartRequest]:
    return [service.PartRequest(step=p.step, office=p.office, start=p.start) for p in parts]
