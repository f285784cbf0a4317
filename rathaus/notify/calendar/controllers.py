"""HTTP for calendars: public feeds with ETag/Last-Modified/304, and a booking's own calendar object."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, HttpMethod, Request, Response, delete, get, post, route
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, PathParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from rathaus.booking import links
from rathaus.booking import service as booking
from rathaus.booking.controllers import ManageToken, provide_manage_token
from rathaus.booking.deps import BookingCtx
from rathaus.notify.calendar import agenda, service
from rathaus.notify.calendar.invite import CalendarPart, booking_invitation, itinerary_invitation
from rathaus.offices.catalog import Catalog
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.web import DbSession, Now, language_of, runtime_of

CALENDAR = "text/calendar"
Code = Annotated[str, PathParameter(max_length=32)]


def _not_modified(request: Request[Any, Any, Any], etag: str, last_modified: datetime) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since:
        try:
            return parsedate_to_datetime(if_modified_since) >= last_modified
        except (TypeError, ValueError):
            return False
    return False


class FeedController(Controller):
    path = "/feeds/{office:str}"
    tags = ["calendars"]

    async def _answer(self, office: str, kind: str, request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        app = runtime_of(state)
        now = app.clock.now()  # read here rather than injected: one dependency less on the polling hot path
        feed = await service.feed(
            app.read_session_maker,
            catalog=app.get(Catalog),
            cache=app.get(service.FeedCache),
            office_slug=office,
            kind=kind,
            language=language_of(request),
            public_base_url=app.settings.public_base_url,
            now=now,
        )
        if _not_modified(request, feed.etag, feed.last_modified):
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=feed.headers)
        if request.method == HttpMethod.HEAD:
            # What a GET would send, without it: clients and caches check the length before they download.
            head = {**feed.headers, "Content-Length": str(len(feed.body))}
            return Response(b"", media_type=service.RENDERINGS[kind][0], headers=head)
        return Response(feed.body, media_type=service.RENDERINGS[kind][0], headers=feed.headers)

    @route("/closures.ics", http_method=[HttpMethod.GET, HttpMethod.HEAD], media_type="text/calendar")
    async def closures(self, office: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        """Public closures and extra openings of an office (?lang=en for English)."""
        return await self._answer(office, "closures", request, state)

    @route("/hours.ics", http_method=[HttpMethod.GET, HttpMethod.HEAD], media_type="text/calendar")
    async def hours(self, office: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        """Opening hours as weekly events, closures left out, walk-in cut-offs stated (?lang=en for English)."""
        return await self._answer(office, "hours", request, state)

    @route(
        "/hours.jsonld",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        media_type="application/ld+json",
        responses={
            200: ResponseSpec(
                data_container=dict[str, Any],
                description="schema.org GovernmentOffice",
                media_type="application/ld+json",
                generate_examples=False,
            )
        },
    )
    async def json_ld(self, office: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        """schema.org GovernmentOffice with opening hours and dated exceptions, for search engines."""
        return await self._answer(office, "jsonld", request, state)

    @route("/embed.html", http_method=[HttpMethod.GET, HttpMethod.HEAD], media_type="text/html")
    async def embed(self, office: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        """An HTML fragment with the hours, the coming exceptions and the JSON-LD, to embed in a city website."""
        return await self._answer(office, "embed", request, state)


class BookingCalendarController(Controller):
    path = "/api/v1/bookings"
    tags = ["bookings"]
    dependencies = {"manage_token": Provide(provide_manage_token, sync_to_thread=False)}

    @get("/{code:str}/calendar.ics")
    async def calendar(
        self,
        code: Code,
        manage_token: ManageToken,
        request: Request[Any, Any, Any],
        state: State,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> Response[bytes]:
        """The booking as a calendar entry (a cancelled one as a cancellation with the same UID)."""
        result = await booking.view(db_session, ctx=booking_ctx, code=code, token=manage_token, now=now)
        settings = runtime_of(state).settings
        base = settings.public_base_url.rstrip("/")
        body = booking_invitation(
            booking=result.booking,
            office=result.office,
            services=result.services,
            method="CANCEL" if result.booking.status in {"cancelled", "expired"} else "PUBLISH",
            manage_url=links.manage_url(base, code=result.booking.code, token=manage_token),
            language=result.booking.language if "lang" not in request.query_params else language_of(request),
            public_base_url=base,
            organizer=settings.smtp.mail_from,
        )
        return Response(
            body,
            media_type=CALENDAR,
            headers={"Content-Disposition": f'attachment; filename="termin-{result.booking.code}.ics"'},
        )


class ItineraryCalendarController(Controller):
    path = "/api/v1/itineraries"
    tags = ["bookings"]
    dependencies = {"manage_token": Provide(provide_manage_token, sync_to_thread=False)}

    @get("/{code:str}/calendar.ics")
    async def calendar(
        self,
        code: Code,
        manage_token: ManageToken,
        request: Request[Any, Any, Any],
        state: State,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> Response[bytes]:
        """Every part of the itinerary as one calendar object, one event per part with the part's own UID."""
        result = await booking.view_itinerary(db_session, ctx=booking_ctx, code=code, token=manage_token, now=now)
        settings = runtime_of(state).settings
        base = settings.public_base_url.rstrip("/")
        body = itinerary_invitation(
            parts=[
                CalendarPart(
                    part.booking,
                    part.office,
                    part.services,
                    links.manage_url(base, code=part.booking.code, token=manage_token),
                )
                for part in result.parts
            ],
            method="PUBLISH",
            language=result.itinerary.language if "lang" not in request.query_params else language_of(request),
            public_base_url=base,
            organizer=settings.smtp.mail_from,
        )
        return Response(
            body,
            media_type=CALENDAR,
            headers={"Content-Disposition": f'attachment; filename="termine-{result.itinerary.code}.ics"'},
        )


class AgendaFeedCreated(msgspec.Struct):
    id: int
    url: str


class AgendaFeedController(Controller):
    path = "/api/v1/offices/{office:str}/agenda-feeds"
    tags = ["staff"]
    dependencies = STAFF_ONLY

    @post("/")
    async def create(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
        state: State,
    ) -> AgendaFeedCreated:
        """A secret calendar URL with the office's appointments, for this staff member (keep it private)."""
        rules = await booking_ctx.catalog.office(db_session, office, now=now)
        feed_id, token = await agenda.create_feed(db_session, staff=staff, office_id=rules.id, now=now)
        base = runtime_of(state).settings.public_base_url.rstrip("/")
        return AgendaFeedCreated(feed_id, f"{base}/feeds/agenda/{token}/calendar.ics")

    @delete("/{feed_id:int}")
    async def revoke(
        self,
        office: FromPath[str],
        feed_id: FromPath[int],
        staff: CurrentStaff,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> None:
        """Revoke an agenda feed URL (its owner or an admin)."""
        rules = await booking_ctx.catalog.office(db_session, office, now=now)
        await agenda.revoke_feed(db_session, staff=staff, office_id=rules.id, feed_id=feed_id, now=now)


@get("/feeds/agenda/{token:str}/calendar.ics", tags=["calendars"])
async def agenda_feed(
    token: Annotated[str, PathParameter(max_length=100)],
    db_session: DbSession,
    booking_ctx: BookingCtx,
    now: Now,
    state: State,
) -> Response[bytes]:
    """A staff member's agenda feed: booking codes and services (names only where the office allows)."""
    body = await agenda.agenda_calendar(
        db_session, ctx=booking_ctx, token=token, public_base_url=runtime_of(state).settings.public_base_url, now=now
    )
    return Response(body, media_type=CALENDAR, headers={"Cache-Control": "private, max-age=300"})
