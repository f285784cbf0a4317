"""The citizen's booking path and manage page: plain forms and links, complete without JavaScript.

/book (services, offices) → /book/day (a month) → /book/time (a day's slots) → /book/contact (the form, POST books)
→ /bookings/{code}?token=… (confirmation and manage page, whose forms confirm, cancel, move and erase).
A move walks the same path with the booking's code and token, and its time page posts to the booking.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.booking import links, page_views, service
from rathaus.booking._availability import check_mode, check_online
from rathaus.booking._bookings import ACTIVE
from rathaus.booking.deps import BookingCtx, booking_context
from rathaus.booking.service import BookingContext, BookingRequest, BookingView
from rathaus.errors import RathausError
from rathaus.fairness import PayloadField, Proof, ProofOfWork
from rathaus.offices.catalog import CatalogSnapshot, office_of, resolve_services
from rathaus.offices.rules import MODE_NAMES, OfficeRules, ServiceRule
from rathaus.page_cache import SKIP_COMPRESSION, PageCache, from_page_cache, page_key, render, respond
from rathaus.web import DbSession, Now, PageController, language_of, runtime_of

Code = Annotated[str, PathParameter(max_length=32)]
Form = Body(media_type=RequestEncodingType.URL_ENCODED)
_Short = Annotated[str, msgspec.Meta(max_length=200)]

_TIME = "booking/time.html.j2"
# Which contact field a refused booking's message belongs next to.
_FIELD_OF = {
    "invalid_email": ["email"],
    "invalid_phone": ["phone"],
    "no_contact": ["email", "phone"],
    "call_number_required": ["call_number"],
    "invalid_call_number": ["call_number"],
}


class ContactForm(msgspec.Struct):
    office: Annotated[str, msgspec.Meta(max_length=64)] = ""
    services: Annotated[str, msgspec.Meta(max_length=700)] = ""
    start: Annotated[str, msgspec.Meta(max_length=40)] = ""
    name: _Short = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    language: Annotated[str, msgspec.Meta(max_length=16)] = ""
    idempotency_key: Annotated[str, msgspec.Meta(max_length=64)] = ""
    mode: Annotated[str, msgspec.Meta(max_length=16)] = "on_site"
    call_number: Annotated[str, msgspec.Meta(max_length=40)] = ""
    altcha: PayloadField = ""


class ManageForm(msgspec.Struct):
    token: _Short = ""
    verification_code: Annotated[str, msgspec.Meta(max_length=12)] = ""
    start: Annotated[str, msgspec.Meta(max_length=40)] = ""


def _slugs(request: Request[Any, Any, Any]) -> list[str]:
    """The chosen services: ?services=a,b as the other pages link, or ?services=a&services=b as checkboxes send."""
    return [s.strip() for value in request.query_params.getall("services", []) for s in value.split(",") if s.strip()]


def _path_query(office: str, services: list[ServiceRule] | list[str], **more: str) -> str:
    """The path's query; the mode only when it is not on site (the default)."""
    slugs = [s if isinstance(s, str) else s.slug for s in services]
    if more.get("mode") == "on_site":
        more = {**more, "mode": ""}
    return urlencode({"office": office, "services": ",".join(slugs), **{k: v for k, v in more.items() if v}})


def _mode(request: Request[Any, Any, Any]) -> str:
    """The chosen appointment mode (?mode=), on site when none is chosen."""
    return request.query_params.get("mode") or "on_site"


def _parse_start(value: str) -> datetime:
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise RathausError("invalid_input", reason="start") from None
    if start.tzinfo is None:
        raise RathausError("invalid_input", reason="start")
    return start


async def _day_slots(
    state: State,
    ctx: BookingContext,
    office: OfficeRules,
    services: list[ServiceRule],
    day: date,
    now: datetime,
    mode: str = "on_site",
) -> service.DayAvailability:
    return await service.availability(
        runtime_of(state).read_session_maker,
        catalog=ctx.catalog,
        cache=ctx.cache,
        office_slug=office.slug,
        service_slugs=[s.slug for s in services],
        day=day,
        now=now,
        mode=mode,
        video=ctx.video,
    )


def _window(office: OfficeRules, now: datetime) -> tuple[date, date]:
    return office.local_day(now + office.lead), office.local_day(office.booking_window(now)[1])


async def _first_free(
    state: State,
    ctx: BookingContext,
    office: OfficeRules,
    services: list[ServiceRule],
    now: datetime,
    since: date,
    mode: str = "on_site",
) -> service.DayAvailability | None:
    """The first day from `since` with a free slot, up to the office's horizon."""
    return await service.first_free_day(
        runtime_of(state).read_session_maker,
        catalog=ctx.catalog,
        cache=ctx.cache,
        office=office,
        service_slugs=[s.slug for s in services],
        now=now,
        since=since,
        mode=mode,
        video=ctx.video,
    )


def _able(office: OfficeRules, services: list[ServiceRule]) -> bool:
    return all(s.bookable_online for s in services) and bool(office.modes_for(services))


def _mode_choices(
    ctx: BookingContext, office: OfficeRules, services: list[ServiceRule], language: str
) -> list[dict[str, str]]:
    """The modes the citizen may choose between, with their names in the reader's language."""
    return [
        {"value": mode, "name": _mode_name(mode, language)}
        for mode in service.offered_modes(office, services, video=ctx.video)
    ]


def _slot_options(found: service.DayAvailability, language: str) -> list[dict[str, str]]:
    tz = found.office.tz
    return [
        {
            "value": slot.start.isoformat(),
            "short": f"{slot.start.astimezone(tz):%H:%M}",
            "name": page_views.appointment(slot.start, slot.end, tz, language),
        }
        for slot in found.bookable
    ]


def _mode_name(mode: str, language: str) -> str:
    return i18n.translate(language, MODE_NAMES.get(mode, MODE_NAMES["on_site"]))


def _not_found() -> Template:
    return Template("booking/not_found.html.j2", status_code=404)


class BookingPages(PageController):
    @get("/book", media_type=MediaType.HTML, exclude_from_csrf=True)
    async def start(
        self,
        request: Request[Any, Any, Any],
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
        office: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Template | Redirect:
        """The start of the path: which services, then which office (with its next free slot)."""
        snapshot = await booking_ctx.catalog.current(now=now)
        slugs = _slugs(request)
        chosen_office = snapshot.offices.get(office) if office else None
        if not slugs:
            return self._services_page(snapshot, chosen_office, {})
        try:
            services = resolve_services(snapshot, slugs)
            if chosen_office is not None:
                if not _able(chosen_office, services):
                    raise RathausError("no_counter_for_services")
                return Redirect(f"/book/day?{_path_query(chosen_office.slug, services)}", status_code=303)
        except RathausError as error:
            return self._services_page(snapshot, chosen_office, {"services": error.message(language_of(request))})
        choices = []
        for candidate in snapshot.offices.values():
            offered = service.offered_modes(candidate, services, video=booking_ctx.video)
            if _able(candidate, services) and offered:
                found = await _first_free(state, booking_ctx, candidate, services, now, date.min, offered[0])
                first = found.bookable[0] if found else None
                choices.append(
                    {
                        "office": candidate,
                        "url": f"/book/day?{_path_query(candidate.slug, services)}",
                        "next": None
                        if first is None
                        else page_views.appointment(first.start, first.end, candidate.tz, language_of(request)),
                    }
                )
        return Template("booking/offices.html.j2", context={"services": services, "choices": choices})

    def _services_page(self, snapshot: CatalogSnapshot, office: OfficeRules | None, errors: dict[str, str]) -> Template:
        offered = [
            s
            for s in sorted(snapshot.services.values(), key=lambda s: s.slug)
            if s.bookable_online and (office is None or _able(office, [s]))
        ]
        return Template(
            "booking/services.html.j2",
            context={
                "services": offered,
                "office": office,
                "errors": errors,
                "life_events": [] if office else list(snapshot.life_events.values()),
            },
            status_code=422 if errors else 200,
        )

    @get("/book/day", media_type=MediaType.HTML, exclude_from_csrf=True)
    async def day(
        self,
        request: Request[Any, Any, Any],
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
        office: Annotated[str, QueryParameter(max_length=64)],
        month: Annotated[str, QueryParameter(max_length=7)] = "",
        code: Annotated[str, QueryParameter(max_length=32)] = "",
        token: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Template:
        """A month with the days that have free slots; without ?month= the first month that has one."""
        chosen = self._chosen(request, await booking_ctx.catalog.current(now=now), office, booking_ctx)
        if isinstance(chosen, Template):
            return chosen
        rules, services, mode = chosen
        language = language_of(request)
        earliest, latest = _window(rules, now)
        try:
            first = date.fromisoformat(f"{month}-01") if month else None
        except ValueError:
            first = None
        if first is None:
            found = await _first_free(state, booking_ctx, rules, services, now, earliest, mode)
            first = (found.day if found else earliest).replace(day=1)
        first = min(max(first, earliest.replace(day=1)), latest.replace(day=1))
        free = set()
        day = max(first, earliest)
        while day.month == first.month and day <= latest:
            if (await _day_slots(state, booking_ctx, rules, services, day, now, mode)).bookable:
                free.add(day)
            day += timedelta(days=1)
        query = _path_query(rules.slug, services, code=code, token=token, mode=mode)
        view = page_views.month_view(
            first,
            free=free,
            language=language,
            time_url=f"/book/time?{query}",
            month_url=f"/book/day?{query}",
            earliest=earliest,
            latest=latest,
        )
        return Template(
            "booking/day.html.j2",
            context={
                "office": rules,
                "services": services,
                "month": view,
                "change": code,
                "token": token,
                "start_url": _start(services),
                "mode": mode,
                # A booking being moved keeps its mode; a new one may choose.
                "modes": [] if code else _mode_choices(booking_ctx, rules, services, language),
            },
        )

    def _chosen(
        self, request: Request[Any, Any, Any], snapshot: CatalogSnapshot, office: str, ctx: BookingContext
    ) -> tuple[OfficeRules, list[ServiceRule], str] | Template:
        """The office, services and mode of the path, or the start page with the reason."""
        mode = _mode(request)
        try:
            rules = office_of(snapshot, office)
            services = resolve_services(snapshot, _slugs(request))
            check_online(services)
            check_mode(rules, services, mode, video=ctx.video)
        except RathausError as error:
            return self._services_page(
                snapshot, snapshot.offices.get(office), {"services": error.message(language_of(request))}
            )
        return rules, services, mode

    @get(
        "/book/time",
        media_type=MediaType.HTML,
        exclude_from_csrf=True,
        opt={SKIP_COMPRESSION: True},
        middleware=[from_page_cache],
    )
    async def time(
        self,
        request: Request[Any, Any, Any],
        state: State,
        office: Annotated[str, QueryParameter(max_length=64)],
        day: Annotated[date, QueryParameter(name="date")],
        code: Annotated[str, QueryParameter(max_length=32)] = "",
        token: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Template | Response[bytes]:
        """The free times of one day, as radio buttons; the choice goes on by GET, so the page is the same for
        every reader of a language and is rendered once per change of the day's cached slots.

        Its dependencies are taken from the runtime: resolving two of them costs a request a task group."""
        runtime = runtime_of(state)
        booking_ctx, now = booking_context(runtime), runtime.clock.now()
        snapshot = await booking_ctx.catalog.current(now=now)
        chosen = self._chosen(request, snapshot, office, booking_ctx)
        if isinstance(chosen, Template):
            return chosen
        rules, services, mode = chosen
        found = await _day_slots(state, booking_ctx, rules, services, day, now, mode)
        if code:
            # Moving a booking: the page carries its token, so it is its holder's alone and kept nowhere.
            own = render(request, _TIME, self._time_context(request, found, code=code, token=token))
            return respond(request, own, private=True)
        pages, key = runtime.get(PageCache), page_key(request.scope)
        page = pages.get(key, now)
        if page is None:
            page = render(request, _TIME, self._time_context(request, found))
            catalog, cache = booking_ctx.catalog, booking_ctx.cache
            # Valid while the catalogue and the day's slots are the very ones cached, and the booking window, which
            # moves with the clock, lets the same slots through.
            pages.put(
                key,
                page,
                lambda at: (
                    catalog.peek(now=at) is snapshot and service.unchanged(found, catalog=catalog, cache=cache, now=at)
                ),
            )
        return respond(request, page)

    def _time_context(
        self,
        request: Request[Any, Any, Any],
        found: service.DayAvailability,
        *,
        code: str = "",
        token: str = "",
        errors: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        language = language_of(request)
        query = _path_query(found.office.slug, found.services, code=code, token=token, mode=found.mode)
        return {
            "office": found.office,
            "services": found.services,
            "services_value": ",".join(s.slug for s in found.services),
            "day_name": page_views.full_date(found.day, language),
            "slots": _slot_options(found, language),
            "month_url": f"/book/day?{query}&{urlencode({'month': found.day.strftime('%Y-%m')})}",
            "code": code,
            "token": token,
            "mode": found.mode,
            "errors": errors or {},
        }

    async def _taken(
        self,
        request: Request[Any, Any, Any],
        state: State,
        ctx: BookingContext,
        office: OfficeRules,
        services: list[ServiceRule],
        start: datetime,
        now: datetime,
        message: str,
        *,
        code: str = "",
        token: str = "",
        mode: str = "on_site",
    ) -> Template:
        """The chosen time went to someone else: the time page with the next free times (that day's, or the
        next day's that has any) and why."""
        day = office.local_day(start)
        found = await _day_slots(state, ctx, office, services, day, now, mode)
        if not found.bookable:
            found = await _first_free(state, ctx, office, services, now, day, mode) or found
        context = self._time_context(request, found, code=code, token=token, errors={"slots": message})
        return Template(_TIME, context=context, status_code=409)

    @get("/book/contact", media_type=MediaType.HTML)
    async def contact(
        self,
        request: Request[Any, Any, Any],
        booking_ctx: BookingCtx,
        now: Now,
        office: Annotated[str, QueryParameter(max_length=64)],
        start: Annotated[str, QueryParameter(max_length=40)] = "",
    ) -> Template | Redirect:
        """Who is coming and how to reach them; the chosen slot travels in hidden fields."""
        chosen = self._chosen(request, await booking_ctx.catalog.current(now=now), office, booking_ctx)
        if isinstance(chosen, Template):
            return chosen
        rules, services, mode = chosen
        try:
            when = service.validate_start(rules, services, _parse_start(start), now=now)
        except RathausError:
            # No time chosen (or a stale one): back to the month.
            return Redirect(f"/book/day?{_path_query(rules.slug, services, mode=mode)}", status_code=303)
        form = ContactForm(
            office=rules.slug,
            services=",".join(s.slug for s in services),
            start=when.astimezone(rules.tz).isoformat(),
            language=language_of(request),
            idempotency_key=secrets.token_urlsafe(16),
            mode=mode,
        )
        return self._contact_page(request, rules, services, form, {})

    def _contact_page(
        self,
        request: Request[Any, Any, Any],
        office: OfficeRules,
        services: list[ServiceRule],
        form: ContactForm,
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        start = _parse_start(form.start)
        end = start + sum((s.duration for s in services), timedelta())
        return Template(
            "booking/contact.html.j2",
            context={
                "office": office,
                "services": services,
                "form": form,
                "when": page_views.appointment(start, end, office.tz, language_of(request)),
                "languages": [(x, i18n.language_name(x)) for x in i18n.languages()],
                "errors": errors,
                "month_url": f"/book/day?{_path_query(office.slug, services, mode=form.mode)}",
                "mode_name": _mode_name(form.mode, language_of(request)),
                "altcha": runtime_of(request.app.state).get(ProofOfWork).enabled,
            },
            status_code=status_code,
        )

    @post("/book/contact", media_type=MediaType.HTML)
    async def book(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ContactForm, Form],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        state: State,
        proof: Proof,
        now: Now,
    ) -> Template | Redirect:
        """Book; a known refusal shows the form again with the reason next to its field, and writes nothing."""
        chosen = await self._chosen_from_form(request, db_session, booking_ctx, data, now)
        if isinstance(chosen, Template):
            return chosen
        rules, services, start = chosen
        try:
            proven = await proof.spend_from_form(db_session, payload=data.altcha, now=now)
        except RathausError as error:
            message = error.message(language_of(request))
            return self._contact_page(request, rules, services, data, {"altcha": message}, status_code=error.status)
        booking_request = BookingRequest(
            office=rules.slug,
            services=[s.slug for s in services],
            start=start,
            name=data.name,
            email=data.email.strip() or None,
            phone=data.phone.strip() or None,
            language=data.language,
            mode=data.mode,
            call_number=data.call_number.strip() or None,
            verify_contact=not proven,
        )
        try:
            result = await service.book(
                db_session,
                ctx=booking_ctx,
                request=booking_request,
                idempotency_key=data.idempotency_key or None,
                now=now,
            )
        except RathausError as error:
            message = error.message(language_of(request))
            if error.code == "slot_taken":
                return await self._taken(
                    request, state, booking_ctx, rules, services, start, now, message, mode=data.mode
                )
            if error.code == "contact_required":
                fields = ["email" if rules.verification == "email" else "phone"]
            elif error.code == "name_required":
                fields = ["name"]
            else:
                fields = _FIELD_OF.get(error.code, ["error-summary"])
            return self._contact_page(
                request, rules, services, data, dict.fromkeys(fields, message), status_code=error.status
            )
        assert result.manage_token is not None  # book() always hands the new booking's token back
        target = links.manage_url("", code=result.booking.code, token=result.manage_token)
        return Redirect(f"{target}&new=1", status_code=303)

    async def _chosen_from_form(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        booking_ctx: BookingContext,
        data: ContactForm,
        now: datetime,
    ) -> tuple[OfficeRules, list[ServiceRule], datetime] | Template:
        snapshot = await booking_ctx.catalog.get(db_session, now=now)
        try:
            rules = office_of(snapshot, data.office)
            services = resolve_services(snapshot, [s for s in data.services.split(",") if s])
            return rules, services, _parse_start(data.start)
        except RathausError as error:
            return self._services_page(
                snapshot, snapshot.offices.get(data.office), {"services": error.message(language_of(request))}
            )

    @get("/my-appointments", media_type=MediaType.HTML, exclude_from_csrf=True)
    async def my_appointments(self) -> Template:
        """An empty shell that device.js fills with the links of bookings made in this browser (the server
        keeps no such list: it would have to know who the reader is)."""
        return Template("booking/my_appointments.html.j2")

    # --- the booking's own page ------------------------------------------------------------------------

    @get("/bookings/{code:str}", media_type=MediaType.HTML)
    async def manage(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
        token: Annotated[str, QueryParameter(max_length=200)] = "",
        new: Annotated[str, QueryParameter(max_length=1)] = "",
        done: Annotated[str, QueryParameter(max_length=16)] = "",
    ) -> Template:
        """The confirmation and manage page for the holder of the link."""
        try:
            result = await service.view(db_session, ctx=booking_ctx, code=code, token=token, now=now)
        except RathausError:
            return _not_found()
        return self._manage_page(request, state, result, token=token, now=now, notice=done or ("new" if new else ""))

    def _manage_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        result: BookingView,
        *,
        token: str,
        now: datetime,
        notice: str = "",
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        booking, office = result.booking, result.office
        language = language_of(request)
        base = runtime_of(state).settings.public_base_url
        changeable = booking.status in ACTIVE and booking.start_at > now
        hold_until = None
        if booking.status == "pending" and booking.hold_expires_at is not None:
            hold_until = f"{booking.hold_expires_at.astimezone(office.tz):%H:%M}"
        return Template(
            "booking/manage.html.j2",
            context={
                "booking": booking,
                "office": office,
                "services": result.services,
                "when": page_views.appointment(booking.start_at, booking.end_at, office.tz, language),
                "qr": page_views.qr_svg(booking.code, labelled_by="qr-label"),
                "token": token,
                "calendar_url": f"/api/v1/bookings/{booking.code}/calendar.ics?{urlencode({'token': token})}",
                "manage_url": links.manage_url(base, code=booking.code, token=token),
                "rebook_url": links.rebook_url("", office_slug=office.slug),
                "own_url": links.manage_url("", code=booking.code, token=token),
                "reschedule_url": "/book/day?"
                + _path_query(office.slug, result.services, code=booking.code, token=token, mode=booking.mode),
                "mode_name": _mode_name(booking.mode, language),
                "changeable": changeable,
                "hold_until": hold_until,
                "address": str(office.extra.get("address") or ""),
                "notice": notice,
                "errors": errors or {},
            },
            status_code=status_code,
        )

    async def _act(
        self,
        request: Request[Any, Any, Any],
        state: State,
        code: str,
        data: ManageForm,
        db_session: DbSession,
        booking_ctx: BookingContext,
        now: datetime,
        done: str,
        field: str,
        work: Any,
        raising: frozenset[str] | set[str] = frozenset(),
    ) -> Template | Redirect:
        """Run one operation on the booking; on success back to its page (PRG), on a refusal its page with why
        (refusals whose code is in `raising` go up to the caller)."""
        try:
            await work()
        except RathausError as error:
            if error.code in raising:
                raise
            if error.code == "unknown_booking":
                return _not_found()
            message = error.message(language_of(request))
            try:
                result = await service.view(db_session, ctx=booking_ctx, code=code, token=data.token, now=now)
            except RathausError:
                return _not_found()
            return self._manage_page(
                request, state, result, token=data.token, now=now, errors={field: message}, status_code=error.status
            )
        target = links.manage_url("", code=code, token=data.token)
        return Redirect(f"{target}&{urlencode({'done': done})}", status_code=303)

    @post("/bookings/{code:str}/confirm", media_type=MediaType.HTML)
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        data: Annotated[ManageForm, Form],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
    ) -> Template | Redirect:
        """Confirm a held booking with the code sent by e-mail or SMS."""

        async def work() -> None:
            await service.confirm(
                db_session,
                ctx=booking_ctx,
                code=code,
                token=data.token,
                verification_code=data.verification_code,
                now=now,
            )

        return await self._act(
            request, state, code, data, db_session, booking_ctx, now, "confirmed", "verification_code", work
        )

    @post("/bookings/{code:str}/cancel", media_type=MediaType.HTML)
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        data: Annotated[ManageForm, Form],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
    ) -> Template | Redirect:
        """Cancel the appointment; its slot is free at once."""

        async def work() -> None:
            await service.cancel(db_session, ctx=booking_ctx, code=code, token=data.token, now=now)

        return await self._act(
            request, state, code, data, db_session, booking_ctx, now, "cancelled", "error-summary", work
        )

    @get("/bookings/{code:str}/move", media_type=MediaType.HTML)
    async def move(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
        token: Annotated[str, QueryParameter(max_length=200)] = "",
        start: Annotated[str, QueryParameter(max_length=40)] = "",
    ) -> Template | Redirect:
        """The check before a move: the appointment as it is, the chosen new time, and one button to move it."""
        try:
            result = await service.view(db_session, ctx=booking_ctx, code=code, token=token, now=now)
        except RathausError:
            return _not_found()
        booking, office, services = result.booking, result.office, result.services
        query = _path_query(office.slug, services, code=code, token=token, mode=booking.mode)
        try:
            when = service.validate_start(office, services, _parse_start(start), now=now)
        except RathausError:
            # No time chosen (or a stale one): back to the month.
            return Redirect(f"/book/day?{query}", status_code=303)
        language = language_of(request)
        end = when + sum((s.duration for s in services), timedelta())
        return Template(
            "booking/move.html.j2",
            context={
                "booking": booking,
                "office": office,
                "services": services,
                "token": token,
                "start": when.astimezone(office.tz).isoformat(),
                "old": page_views.appointment(booking.start_at, booking.end_at, office.tz, language),
                "new": page_views.appointment(when, end, office.tz, language),
                "time_url": f"/book/time?{query}&{urlencode({'date': office.local_day(when).isoformat()})}",
                "manage_url": links.manage_url("", code=code, token=token),
            },
        )

    @post("/bookings/{code:str}/reschedule", media_type=MediaType.HTML)
    async def reschedule(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        data: Annotated[ManageForm, Form],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
    ) -> Template | Redirect:
        """Move the appointment to the chosen time; the old one is kept unless the new one is secured. A time
        taken meanwhile shows the next free ones."""
        start = _parse_start(data.start)

        async def work() -> None:
            await service.reschedule(db_session, ctx=booking_ctx, code=code, token=data.token, start=start, now=now)

        try:
            return await self._act(
                request,
                state,
                code,
                data,
                db_session,
                booking_ctx,
                now,
                "moved",
                "error-summary",
                work,
                raising={"slot_taken"},
            )
        except RathausError as error:
            result = await service.view(db_session, ctx=booking_ctx, code=code, token=data.token, now=now)
            message = error.message(language_of(request))
            return await self._taken(
                request,
                state,
                booking_ctx,
                result.office,
                result.services,
                start,
                now,
                message,
                code=code,
                token=data.token,
                mode=result.booking.mode,
            )

    @post("/bookings/{code:str}/erase", media_type=MediaType.HTML)
    async def erase(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        data: Annotated[ManageForm, Form],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        state: State,
        now: Now,
    ) -> Template | Redirect:
        """Delete the citizen's name and contacts (an appointment still ahead is cancelled first)."""

        async def work() -> None:
            await service.erase(db_session, ctx=booking_ctx, code=code, token=data.token, now=now)

        return await self._act(
            request, state, code, data, db_session, booking_ctx, now, "erased", "error-summary", work
        )


def _start(services: list[ServiceRule]) -> str:
    return f"/book?{urlencode({'services': ','.join(s.slug for s in services)})}"
