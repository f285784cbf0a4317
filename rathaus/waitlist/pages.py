"""The citizen's waiting-list pages: register a wish, see and withdraw it, accept or decline an offer.

/wishes/new (the form, POST registers) → /wishes/{code}?token=… (its place, the code form, an open offer, withdraw)
/offers/{token} (the link from the offer message: accept → the booking's own page; decline → the wish waits on)
Plain forms, complete without JavaScript.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.booking import links as booking_links
from rathaus.booking import page_views
from rathaus.errors import RathausError
from rathaus.fairness import PayloadField, Proof, ProofOfWork
from rathaus.offices.catalog import CatalogSnapshot
from rathaus.waitlist import links, schemas, service
from rathaus.waitlist.deps import WaitlistCtx
from rathaus.waitlist.service import OfferView, WishView
from rathaus.web import DbSession, Now, PageController, language_of, runtime_of

Code = Annotated[str, PathParameter(max_length=32)]
OfferToken = Annotated[str, PathParameter(max_length=100)]
Form = Body(media_type=RequestEncodingType.URL_ENCODED)
_Short = Annotated[str, msgspec.Meta(max_length=200)]
# Which field a refused wish's message belongs next to.
_FIELD_OF = {
    "invalid_email": "email",
    "invalid_phone": "phone",
    "wish_channel": "channel",
    "name_required": "name",
    "wish_days_order": "last_day",
    "wish_days_range": "last_day",
    "wish_window": "weekdays",
    "no_offices": "offices",
    "wish_not_offered": "offices",
    "no_services": "services",
    "wish_limit": "services",
    "altcha_missing": "altcha",
    "altcha_invalid": "altcha",
    "altcha_expired": "altcha",
    "altcha_used": "altcha",
}


class WishForm(msgspec.Struct):
    services: list[Annotated[str, msgspec.Meta(max_length=64)]] = []
    offices: list[Annotated[str, msgspec.Meta(max_length=64)]] = []
    first_day: Annotated[str, msgspec.Meta(max_length=10)] = ""
    last_day: Annotated[str, msgspec.Meta(max_length=10)] = ""
    weekdays: list[Annotated[str, msgspec.Meta(max_length=3)]] = []
    start: Annotated[str, msgspec.Meta(max_length=5)] = ""
    end: Annotated[str, msgspec.Meta(max_length=5)] = ""
    name: _Short = ""
    channel: Annotated[str, msgspec.Meta(max_length=5)] = "email"
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    language: Annotated[str, msgspec.Meta(max_length=16)] = ""
    altcha: PayloadField = ""


class WishActionForm(msgspec.Struct):
    token: _Short = ""
    verification_code: Annotated[str, msgspec.Meta(max_length=12)] = ""


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RathausError("invalid_input", reason=field) from None


def _time(value: str, default: time) -> time:
    if not value:
        return default
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise RathausError("wish_window") from None


def _request(data: WishForm) -> service.WishRequest:
    """The form as the service's request; days and times that do not parse are refused with their field."""
    windows = []
    if data.weekdays or data.start or data.end:
        days = tuple(schemas.WEEKDAYS.index(d) for d in data.weekdays if d in schemas.WEEKDAYS)
        windows.append(service.Window(days, _time(data.start, time(0)), _time(data.end, time(23, 59))))
    return service.WishRequest(
        services=data.services,
        offices=data.offices,
        first_day=_day(data.first_day, "first_day"),
        last_day=_day(data.last_day or data.first_day, "last_day"),
        name=data.name,
        channel=data.channel,
        email=data.email.strip() or None,
        phone=data.phone.strip() or None,
        language=data.language or "de",
        windows=windows,
    )


async def _wish_form(request: Request[Any, Any, Any]) -> WishForm:
    """The posted form; checkboxes send a field once per ticked box, which a typed body cannot express."""
    form = await request.form()
    lists = {"services", "offices", "weekdays"}
    raw: dict[str, Any] = {name: [str(v) for v in form.getall(name, [])] for name in lists}
    raw |= {name: str(form.get(name) or "") for name in WishForm.__struct_fields__ if name not in lists}
    try:
        return msgspec.convert(raw, WishForm)
    except msgspec.ValidationError as error:
        raise RathausError("invalid_input", reason=str(error)) from None


def _not_found() -> Template:
    return Template("booking/not_found.html.j2", status_code=404)


class WaitlistPages(PageController):
    @get("/wishes/new", media_type=MediaType.HTML)
    async def new(
        self,
        request: Request[Any, Any, Any],
        waitlist_ctx: WaitlistCtx,
        now: Now,
        office: Annotated[str, QueryParameter(max_length=64)] = "",
    ) -> Template:
        """The form of a wish, with the services and offices of the link already ticked."""
        snapshot = await waitlist_ctx.booking.catalog.current(now=now)
        services = [s for value in request.query_params.getall("services", []) for s in value.split(",") if s]
        first = min(o.local_day(now + o.lead) for o in snapshot.offices.values())
        form = WishForm(
            services=services,
            offices=[office] if office else [],
            first_day=first.isoformat(),
            last_day=first.isoformat(),
            language=language_of(request),
        )
        return self._form_page(request, snapshot, form, {})

    def _form_page(
        self,
        request: Request[Any, Any, Any],
        snapshot: CatalogSnapshot,
        form: WishForm,
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return Template(
            "waitlist/new.html.j2",
            context={
                "services": [s for s in sorted(snapshot.services.values(), key=lambda s: s.slug) if s.bookable_online],
                "offices": sorted(snapshot.offices.values(), key=lambda o: o.slug),
                "weekdays": list(enumerate(schemas.WEEKDAYS)),
                "languages": [(code, i18n.language_name(code)) for code in i18n.languages()],
                "form": form,
                "errors": errors,
                "altcha": runtime_of(request.app.state).get(ProofOfWork).enabled,
            },
            status_code=status_code,
        )

    @post("/wishes", media_type=MediaType.HTML)
    async def register(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        proof: Proof,
        now: Now,
    ) -> Template | Redirect:
        """Register the wish; a refusal shows the form again with the reason next to its field."""
        data = await _wish_form(request)
        try:
            # Without JavaScript no solution is sent; a wish waits only once its contact is confirmed anyway.
            await proof.spend_from_form(db_session, payload=data.altcha, now=now)
            result = await service.register(db_session, ctx=waitlist_ctx, request=_request(data), now=now)
        except RathausError as error:
            snapshot = await waitlist_ctx.booking.catalog.get(db_session, now=now)
            field = _FIELD_OF.get(error.code, "error-summary")
            return self._form_page(
                request, snapshot, data, {field: error.message(language_of(request))}, status_code=error.status
            )
        assert result.manage_token is not None  # register() always hands the new wish's token back
        return Redirect(links.wish_url("", code=result.wish.code, token=result.manage_token), status_code=303)

    @get("/wishes/{code:str}", media_type=MediaType.HTML)
    async def manage(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: Now,
        token: Annotated[str, QueryParameter(max_length=200)] = "",
    ) -> Template:
        """The wish for the holder of its link: status, place, the confirmation form, an open offer, withdraw."""
        try:
            result = await service.view(db_session, ctx=waitlist_ctx, code=code, token=token, now=now)
        except RathausError:
            return _not_found()
        return self._wish_page(request, result, token, {})

    def _wish_page(
        self, request: Request[Any, Any, Any], result: WishView, token: str, errors: dict[str, str], status: int = 200
    ) -> Template:
        language = language_of(request)
        offer = result.offer
        offer_office = next((o for o in result.offices if offer and o.id == offer.office_id), None)
        return Template(
            "waitlist/wish.html.j2",
            context={
                "wish": result.wish,
                "view": result,
                "token": token,
                "first_day": page_views.full_date(result.wish.first_day, language),
                "last_day": page_views.full_date(result.wish.last_day, language),
                "offer_when": None
                if offer is None or offer_office is None
                else page_views.appointment(offer.start_at, offer.end_at, offer_office.tz, language),
                "errors": errors,
            },
            status_code=status,
        )

    async def _act(
        self,
        request: Request[Any, Any, Any],
        code: str,
        data: WishActionForm,
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: datetime,
        work: Any,
    ) -> Template | Redirect:
        try:
            await work()
        except RathausError as error:
            try:
                result = await service.view(db_session, ctx=waitlist_ctx, code=code, token=data.token, now=now)
            except RathausError:
                return _not_found()
            errors = {"verification_code": error.message(language_of(request))}
            return self._wish_page(request, result, data.token, errors, error.status)
        return Redirect(links.wish_url("", code=code, token=data.token), status_code=303)

    @post("/wishes/{code:str}/confirm", media_type=MediaType.HTML)
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        data: Annotated[WishActionForm, Form],
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: Now,
    ) -> Template | Redirect:
        """Confirm the wish with the code we sent."""

        async def work() -> None:
            await service.confirm(
                db_session,
                ctx=waitlist_ctx,
                code=code,
                token=data.token,
                verification_code=data.verification_code,
                now=now,
            )

        return await self._act(request, code, data, db_session, waitlist_ctx, now, work)

    @post("/wishes/{code:str}/withdraw", media_type=MediaType.HTML)
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        data: Annotated[WishActionForm, Form],
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: Now,
    ) -> Template | Redirect:
        """Withdraw the wish."""

        async def work() -> None:
            await service.withdraw(db_session, ctx=waitlist_ctx, code=code, token=data.token, now=now)

        return await self._act(request, code, data, db_session, waitlist_ctx, now, work)

    # --- the offer's own page ----------------------------------------------------------------------------

    @get("/offers/{token:str}", media_type=MediaType.HTML)
    async def offer(
        self,
        request: Request[Any, Any, Any],
        token: OfferToken,
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: Now,
    ) -> Template:
        """The offered appointment with one button to accept it and one to decline it."""
        try:
            found = await service.offer_by_token(db_session, ctx=waitlist_ctx, token=token, now=now)
        except RathausError:
            return _not_found()
        return self._offer_page(request, found, token, now, {})

    def _offer_page(
        self,
        request: Request[Any, Any, Any],
        found: OfferView,
        token: str,
        now: datetime,
        errors: dict[str, str],
        status: int = 200,
    ) -> Template:
        language = language_of(request)
        offer, office = found.offer, found.office
        return Template(
            "waitlist/offer.html.j2",
            context={
                "offer": offer,
                "office": office,
                "services": found.services,
                "token": token,
                "open": offer.status == "open" and offer.expires_at > now,
                "when": page_views.appointment(offer.start_at, offer.end_at, office.tz, language),
                "until_day": page_views.full_date(office.local_day(offer.expires_at), language),
                "until_time": f"{offer.expires_at.astimezone(office.tz):%H:%M}",
                "address": str(office.extra.get("address") or ""),
                "errors": errors,
            },
            status_code=status,
        )

    @post("/offers/{token:str}/accept", media_type=MediaType.HTML)
    async def accept(
        self,
        request: Request[Any, Any, Any],
        token: OfferToken,
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: Now,
    ) -> Template | Redirect:
        """Take the appointment: on to the booking's own page."""
        try:
            result = await service.accept(db_session, ctx=waitlist_ctx, token=token, now=now)
        except RathausError as error:
            return await self._refused(request, token, db_session, waitlist_ctx, now, error)
        assert result.booking is not None and result.booking.manage_token is not None
        target = booking_links.manage_url("", code=result.booking.booking.code, token=result.booking.manage_token)
        return Redirect(f"{target}&new=1", status_code=303)

    @post("/offers/{token:str}/decline", media_type=MediaType.HTML)
    async def decline(
        self,
        request: Request[Any, Any, Any],
        token: OfferToken,
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: Now,
    ) -> Template | Redirect:
        """Let the appointment go to the next person; the wish keeps waiting."""
        try:
            await service.decline(db_session, ctx=waitlist_ctx, token=token, now=now)
        except RathausError as error:
            return await self._refused(request, token, db_session, waitlist_ctx, now, error)
        return Redirect(links.offer_url("", token=token), status_code=303)

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        token: str,
        db_session: DbSession,
        waitlist_ctx: WaitlistCtx,
        now: datetime,
        error: RathausError,
    ) -> Template:
        try:
            found = await service.offer_by_token(db_session, ctx=waitlist_ctx, token=token, now=now)
        except RathausError:
            return _not_found()
        errors = {"error-summary": error.message(language_of(request))}
        return self._offer_page(request, found, token, now, errors, error.status)
