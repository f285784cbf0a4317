"""HTTP API of the booking domain: parse, call one service operation, present."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, PathParameter, QueryParameter

from rathaus.booking import presenters, schemas, service
from rathaus.booking.answers import AvailabilityAnswers, answer_key
from rathaus.booking.deps import BookingCtx
from rathaus.booking.service import BookingRequest
from rathaus.errors import RathausError
from rathaus.fairness import Proof
from rathaus.localized import Localized
from rathaus.offices import presenters as office_presenters
from rathaus.offices import schemas as office_schemas
from rathaus.offices import service as offices
from rathaus.offices.catalog import Catalog
from rathaus.offices.deps import CatalogDep
from rathaus.page_cache import answered_from, encoded_json, respond
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.web import DbSession, Now, bearer_token, language_of, runtime_of
from rathaus.web_headers import DESCRIBED_PUBLIC_REVALIDATE, DESCRIBED_VARY_LANGUAGE
from rathaus.web_openapi import ERRORS_OPT

Code = Annotated[str, PathParameter(max_length=32)]
ManageToken = NamedDependency[str]


def provide_manage_token(request: Request[Any, Any, Any]) -> str:
    """The manage token from the Authorization header or ?token=; a missing one answers like a wrong one."""
    value = bearer_token(request) or request.query_params.get("token")
    if not value:
        raise RathausError("unknown_booking")
    return value


class AvailabilityController(Controller):
    path = "/api/v1"
    tags = ["catalog"]

    @get(
        "/offices/{office:str}/availability",
        middleware=[answered_from(AvailabilityAnswers, answer_key)],
        # The kept answer carries these itself (a 304 from memory too); here they are for the API's description.
        cache_control=DESCRIBED_PUBLIC_REVALIDATE,
        response_headers=DESCRIBED_VARY_LANGUAGE,
        responses={200: ResponseSpec(data_container=schemas.Availability, description="Free slots of the day")},
    )
    async def availability(
        self,
        request: Request[Any, Any, Any],
        office: FromPath[str],
        now: Now,
        state: State,
        services: Annotated[str, QueryParameter(name="services", min_length=1, max_length=700)],
        day: Annotated[date, QueryParameter(name="date")],
        mode: Annotated[schemas.Mode, QueryParameter(name="mode")] = "on_site",
    ) -> Response[bytes]:
        """Free slots of one day for the chosen services (comma-separated slugs), on site, by phone or video."""
        runtime = runtime_of(state)
        catalog, cache = runtime.get(Catalog), runtime.get(service.AvailabilityCache)
        result = await service.availability(
            runtime.read_session_maker,
            catalog=catalog,
            cache=cache,
            office_slug=office,
            service_slugs=[s.strip() for s in services.split(",") if s.strip()],
            day=day,
            now=now,
            mode=mode,
            video=bool(runtime.settings.video_url_template),
        )
        answer = encoded_json(presenters.availability_json(result))
        # Answered from memory (rathaus.booking.answers) while `availability` would answer these very bytes.
        kept = runtime.get(AvailabilityAnswers).put(
            answer_key(request.scope), answer, service.same_answer(result, catalog=catalog, cache=cache, now=now)
        )
        return respond(request, kept)


class BookingController(Controller):
    path = "/api/v1/bookings"
    tags = ["bookings"]
    dependencies = {"manage_token": Provide(provide_manage_token, sync_to_thread=False)}

    @post("/")
    async def create(
        self,
        data: JSONBody[schemas.BookingCreate],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        proof: Proof,
        now: Now,
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", max_length=200, required=False)
        ] = None,
    ) -> schemas.Booking:
        """Book a slot, with a solved proof of work (`altcha`). Replays with the same Idempotency-Key return the
        first answer."""
        await proof.spend(db_session, payload=data.altcha, now=now, idempotency_key=idempotency_key)
        request = BookingRequest(
            office=data.office,
            services=data.services,
            start=data.start,
            name=data.name,
            email=data.email or None,
            phone=data.phone or None,
            language=data.language,
            mode=data.mode,
            call_number=data.call_number,
        )
        result = await service.book(
            db_session, ctx=booking_ctx, request=request, idempotency_key=idempotency_key, now=now
        )
        return presenters.booking(result)

    @get("/{code:str}")
    async def read(
        self, code: Code, manage_token: ManageToken, db_session: DbSession, booking_ctx: BookingCtx, now: Now
    ) -> schemas.Booking:
        """A booking with its history, for the holder of its manage token."""
        result = await service.view(db_session, ctx=booking_ctx, code=code, token=manage_token, now=now)
        return presenters.booking(result, with_history=True)

    @post("/{code:str}/cancel", status_code=200)
    async def cancel(
        self, code: Code, manage_token: ManageToken, db_session: DbSession, booking_ctx: BookingCtx, now: Now
    ) -> schemas.Booking:
        """Cancel; the slot becomes free at once."""
        result = await service.cancel(db_session, ctx=booking_ctx, code=code, token=manage_token, now=now)
        return presenters.booking(result)

    @post("/{code:str}/reschedule", status_code=200)
    async def reschedule(
        self,
        code: Code,
        manage_token: ManageToken,
        data: JSONBody[schemas.BookingReschedule],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> schemas.Booking:
        """Move to another slot; on 409 the booking keeps its old slot."""
        result = await service.reschedule(
            db_session, ctx=booking_ctx, code=code, token=manage_token, start=data.start, now=now
        )
        return presenters.booking(result)

    @delete("/{code:str}", status_code=200)
    async def erase(
        self, code: Code, manage_token: ManageToken, db_session: DbSession, booking_ctx: BookingCtx, now: Now
    ) -> schemas.Booking:
        """Delete the citizen's personal data (a booking still ahead is cancelled first)."""
        result = await service.erase(db_session, ctx=booking_ctx, code=code, token=manage_token, now=now)
        return presenters.booking(result)

    @post("/{code:str}/confirm", status_code=200, opt={ERRORS_OPT: [429]})
    async def confirm(
        self,
        code: Code,
        manage_token: ManageToken,
        data: JSONBody[schemas.BookingConfirm],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> schemas.Booking:
        """Confirm a held booking with the code sent by e-mail or SMS."""
        result = await service.confirm(
            db_session,
            ctx=booking_ctx,
            code=code,
            token=manage_token,
            verification_code=data.verification_code,
            now=now,
        )
        return presenters.booking(result)


class ClosureController(Controller):
    path = "/api/v1/offices/{office:str}/closures"
    tags = ["staff"]
    dependencies = STAFF_ONLY

    @get("/")
    async def list_closures(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
    ) -> list[office_schemas.Closure]:
        """Closures of the office that have not ended, internal ones included."""
        rules = await catalog.office(db_session, office, now=now)
        staff.require(rules.id)
        rows = await offices.list_closures(db_session, office_id=rules.id, since=now)
        lang = language_of(request)
        return [office_presenters.closure(offices.closure_rule(c), rules, lang) for c in rows]

    @post("/")
    async def create(
        self,
        office: FromPath[str],
        data: JSONBody[schemas.ClosureCreate],
        staff: CurrentStaff,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> schemas.ClosureCreated:
        """Close the office for a time; bookings inside are cancelled and their citizens told."""
        rules = await booking_ctx.catalog.office(db_session, office, now=now)
        staff.require(rules.id, role="admin")
        reasons = (data.reason, data.reason_en or data.reason)
        offices.check_closure_window(start=data.start, end=data.end, reasons=reasons, now=now)
        closure = await offices.add_closure(
            db_session,
            catalog=booking_ctx.catalog,
            office_id=rules.id,
            start=data.start,
            end=data.end,
            reason=Localized(de=reasons[0], en=reasons[1]),
            public=data.public,
            source="staff",
            actor=staff.username,
            now=now,
        )
        return schemas.ClosureCreated(
            closure=office_presenters.closure(offices.closure_rule(closure), rules, language_of(request)),
            cancelled_bookings=await service.cancelled_by_closures(db_session, closure_ids=[closure.id]),
        )

    @delete("/{closure_id:int}")
    async def remove(
        self,
        office: FromPath[str],
        closure_id: FromPath[int],
        staff: CurrentStaff,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> None:
        """Reopen: remove a closure (cancelled bookings stay cancelled)."""
        rules = await booking_ctx.catalog.office(db_session, office, now=now)
        staff.require(rules.id, role="admin")
        await offices.remove_closure(
            db_session, catalog=booking_ctx.catalog, office_id=rules.id, closure_id=closure_id, now=now
        )
