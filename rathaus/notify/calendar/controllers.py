"""HTTP for calendars: public feeds with ETag/Last-Modified/304, and a booking's own calendar object."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, HttpMethod, Request, Response, delete, get, post, route
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_304_NOT_MODIFIED
from litestar.types import ASGIApp, Receive, Scope, Send

from rathaus.booking import links
from rathaus.booking import service as booking
from rathaus.booking.controllers import ManageToken, provide_manage_token
from rathaus.booking.deps import BookingCtx
from rathaus.notify.calendar import agenda, service
from rathaus.notify.calendar.invite import CalendarPart, booking_invitation, itinerary_invitation
from rathaus.offices.catalog import Catalog
from rathaus.page_cache import SKIP_COMPRESSION, accepts_gzip, content_type_of, page_key, send_raw
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.web import DbSession, Now, language_of, runtime_of

CALENDAR = "text/calendar"
Code = Annotated[str, PathParameter(max_length=32)]


def _not_modified(if_none_match: str | None, if_modified_since: str | None, feed: service.RenderedFeed) -> bool:
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or feed.etag in tags
    if if_modified_since:
        try:
            return parsedate_to_datetime(if_modified_since) >= feed.last_modified
        except (TypeError, ValueError):
            return False
    return False


def _conditional(feed: service.RenderedFeed, scope: Scope) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET of `feed`: 304 if the reader has it, else gzip if the reader takes it."""
    if_none_match = if_modified_since = None
    accept_encoding = ""
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif name == b"if-modified-since":
            if_modified_since = value.decode("latin-1")
        elif name == b"accept-encoding":
            accept_encoding = value.decode("latin-1")
    if _not_modified(if_none_match, if_modified_since, feed):
        return HTTP_304_NOT_MODIFIED, feed.headers, b""
    if feed.gzipped is not None and accepts_gzip(accept_encoding):
        return HTTP_200_OK, {**feed.headers, "Content-Encoding": "gzip"}, feed.gzipped
    return HTTP_200_OK, feed.headers, feed.body


def _from_memory(app: ASGIApp) -> ASGIApp:
    """Middleware of the feeds' routes: a feed rendered for this path, query and language that may still be served
    is answered from memory as the handler would answer it (calendar clients poll; most polls are 304s)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        kept = None
        if scope["type"] == ScopeType.HTTP and scope["method"] == HttpMethod.GET:
            runtime = runtime_of(scope["app"].state)
            kept = runtime.get(service.FeedCache).answers.get(page_key(scope), runtime.clock.now())
        if kept is None:
            await app(scope, receive, send)
            return
        feed, media_type = kept
        status, headers, body = _conditional(feed, scope)
        await send_raw(send, status, headers, body, content_type_of(media_type))

    return middleware


class FeedController(Controller):
    path = "/feeds/{office:str}"
    tags = ["calendars"]
    middleware = [_from_memory]
    opt = {SKIP_COMPRESSION: True}  # compressed once per rendered feed

    async def _answer(self, office: str, kind: str, request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        app = runtime_of(state)
        now = app.clock.now()  # read here rather than injected: one dependency less on the polling hot path
        cache = app.get(service.FeedCache)
        feed, still = await service.checked_feed(
            app.read_session_maker,
            catalog=app.get(Catalog),
            cache=cache,
            office_slug=office,
            kind=kind,
            language=language_of(request),
            public_base_url=app.settings.public_base_url,
            now=now,
        )
        media_type = service.RENDERINGS[kind][0]
        if request.method == HttpMethod.GET:
            cache.answers.put(page_key(request.scope), (feed, media_type), still)
        status, headers, body = _conditional(feed, request.scope)
        if status == HTTP_304_NOT_MODIFIED:
            return Response(b"", status_code=status, headers=headers)
        if request.method == HttpMethod.HEAD:
            # What a GET would send, without it: clients and caches check the length before they download.
            head = {**feed.headers, "Content-Length": str(len(feed.body))}
            return Response(b"", media_type=media_type, headers=head)
        return Response(body, media_type=media_type, headers=headers)

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
