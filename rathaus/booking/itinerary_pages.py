"""The citizens' pages of a life event across offices: choose an itinerary, give contact details, manage it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, get, post
from litestar.datastructures import State
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.booking import page_views, service
from rathaus.booking.deps import BookingCtx
from rathaus.booking.itinerary import Proposal
from rathaus.booking.pages import _FIELD_OF, Form
from rathaus.errors import RathausError
from rathaus.fairness import PayloadField, Proof, ProofOfWork
from rathaus.i18n import N_
from rathaus.offices.catalog import CatalogSnapshot, LifeEventRule
from rathaus.web import DbSession, Now, PageController, language_of, runtime_of

_Short = Annotated[str, msgspec.Meta(max_length=200)]
_Choice = Annotated[str, msgspec.Meta(max_length=1000)]
# Translators: an appointment's times of day on a day named before it, e.g. "11:00 to 11:15".
_TIMES = N_("{start} to {end}")


class ItineraryForm(msgspec.Struct):
    event: Annotated[str, msgspec.Meta(max_length=64)] = ""
    choice: _Choice = ""
    name: _Short = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    language: Annotated[str, msgspec.Meta(max_length=16)] = "de"
    altcha: PayloadField = ""


def _encode(proposal: Proposal) -> str:
    """A proposal as a form value: step~office~start, joined by |."""
    return "|".join(f"{p.step}~{p.office}~{p.start.isoformat()}" for p in proposal.parts)


def _decode(choice: str) -> list[service.PartRequest]:
    try:
        parts = [item.split("~") for item in choice.split("|") if item]
        return [service.PartRequest(step, office, datetime.fromisoformat(start)) for step, office, start in parts]
    except ValueError:
        raise RathausError("itinerary_steps", steps="") from None


def _parts_view(
    snapshot: CatalogSnapshot,
    event: LifeEventRule,
    parts: list[service.PartRequest],
    language: str,
    day: date | None = None,
) -> list[dict[str, str]]:
    """Each part as people read it; on `day` (the day a proposal is listed under) by its times alone."""
    steps = {s.key: s for s in event.steps}
    shown = []
    for part in parts:
        office = snapshot.offices.get(part.office)
        step = steps.get(part.step)
        if office is None or step is None:
            raise RathausError("itinerary_steps", steps=", ".join(steps))
        end = part.start + sum((s.duration for s in step.services), timedelta())
        shown.append(
            {
                "when": i18n.translate(
                    language,
                    _TIMES,
                    start=f"{part.start.astimezone(office.tz):%H:%M}",
                    end=f"{end.astimezone(office.tz):%H:%M}",
                )
                if office.local_day(part.start) == day
                else page_views.appointment(part.start, end, office.tz, language),
                "office": office.name.get(language),
                "address": str(office.extra.get("address", "")),
                "services": ", ".join(s.name.get(language) for s in step.services),
            }
        )
    return shown


class ItineraryPages(PageController):
    @get("/life-events/{slug:str}/plan", media_type=MediaType.HTML, exclude_from_csrf=True)
    async def choose(
        self,
        request: Request[Any, Any, Any],
        slug: Annotated[str, PathParameter(max_length=64)],
        state: State,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> Template:
        """The life event: its steps, the best itinerary for each of the next 14 days, and the checklist."""
        runtime = runtime_of(state)
        language = language_of(request)
        try:
            found = await service.itineraries(
                runtime.read_session_maker,
                catalog=booking_ctx.catalog,
                cache=booking_ctx.cache,
                life_event=slug,
                since=None,
                days=14,
                now=now,
            )
        except RathausError:
            return Template("booking/not_found.html.j2", status_code=404)
        snapshot = await booking_ctx.catalog.current(now=now)
        options = [
            {
                "value": _encode(p),
                "day": page_views.full_date(p.day, language),
                "parts": _parts_view(
                    snapshot,
                    found.life_event,
                    [service.PartRequest(x.step, x.office, x.start) for x in p.parts],
                    language,
                    p.day,
                ),
            }
            for p in found.proposals
        ]
        return Template(
            "booking/life_event.html.j2",
            context={"event": found.life_event, "options": options, "offices": snapshot.offices},
        )

    @get("/book/itinerary", media_type=MediaType.HTML)
    async def contact(
        self,
        request: Request[Any, Any, Any],
        booking_ctx: BookingCtx,
        now: Now,
        event: Annotated[str, QueryParameter(max_length=64)] = "",
        choice: Annotated[str, QueryParameter(max_length=1000)] = "",
    ) -> Template | Redirect:
        """Who is coming and how to reach them; the chosen itinerary travels in hidden fields."""
        if not choice:
            return Redirect(f"/life-events/{event}/plan", status_code=303)
        form = ItineraryForm(event=event, choice=choice, language=language_of(request))
        return await self._contact_page(request, booking_ctx, now, form, {})

    async def _contact_page(
        self,
        request: Request[Any, Any, Any],
        ctx: Any,
        now: datetime,
        form: ItineraryForm,
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        snapshot = await ctx.catalog.current(now=now)
        language = language_of(request)
        try:
            event = service.life_event_of(snapshot, form.event)
            parts = _parts_view(snapshot, event, _decode(form.choice), language)
        except RathausError:
            return Template("booking/not_found.html.j2", status_code=404)
        return Template(
            "booking/itinerary_contact.html.j2",
            context={
                "event": event,
                "parts": parts,
                "form": form,
                "errors": errors,
                "languages": [(x, i18n.language_name(x)) for x in i18n.languages()],
                "altcha": runtime_of(request.app.state).get(ProofOfWork).enabled,
            },
            status_code=status_code,
        )

    @post("/book/itinerary", media_type=MediaType.HTML)
    async def book(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[ItineraryForm, Form],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        proof: Proof,
        now: Now,
    ) -> Template | Redirect:
        """Book every part or none; a refusal shows the form again with the reason, and writes nothing."""
        try:
            proven = await proof.spend_from_form(db_session, payload=data.altcha, now=now)
        except RathausError as error:
            message = error.message(language_of(request))
            return await self._contact_page(
                request, booking_ctx, now, data, {"altcha": message}, status_code=error.status
            )
        try:
            result = await service.book_itinerary(
                db_session,
                ctx=booking_ctx,
                request=service.ItineraryRequest(
                    life_event=data.event,
                    parts=_decode(data.choice),
                    name=data.name,
                    email=data.email.strip() or None,
                    phone=data.phone.strip() or None,
                    language=data.language,
                    verify_contact=not proven,
                ),
                now=now,
            )
        except RathausError as error:
            fields = ["name"] if error.code == "name_required" else _FIELD_OF.get(error.code, ["error-summary"])
            message = error.message(language_of(request))
            return await self._contact_page(
                request, booking_ctx, now, data, dict.fromkeys(fields, message), status_code=error.status
            )
        return Redirect(f"/itineraries/{result.itinerary.code}?token={result.manage_token}&new=1", status_code=303)

    @get("/itineraries/{code:str}", media_type=MediaType.HTML)
    async def manage(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str, PathParameter(max_length=32)],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
        token: Annotated[str, QueryParameter(max_length=200)] = "",
        new: Annotated[int, QueryParameter(ge=0, le=1)] = 0,
        done: Annotated[str, QueryParameter(max_length=16)] = "",
    ) -> Template:
        """The whole itinerary for the holder of its manage token: every part, its own page, the calendar file."""
        try:
            result = await service.view_itinerary(db_session, ctx=booking_ctx, code=code, token=token, now=now)
        except RathausError:
            return Template("booking/not_found.html.j2", status_code=404)
        return self._itinerary_page(request, result, token, new=bool(new), confirmed=done == "confirmed")

    def _itinerary_page(
        self,
        request: Request[Any, Any, Any],
        result: service.ItineraryView,
        token: str,
        *,
        new: bool = False,
        confirmed: bool = False,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        language = language_of(request)
        parts = [
            {
                "when": page_views.appointment(p.booking.start_at, p.booking.end_at, p.office.tz, language),
                "office": p.office.name.get(language),
                "address": str(p.office.extra.get("address", "")),
                "services": ", ".join(s.name.get(language) for s in p.services),
                "code": p.booking.code,
                "status": p.booking.status,
                "url": f"/bookings/{p.booking.code}?token={token}",
            }
            for p in result.parts
        ]
        return Template(
            "booking/itinerary.html.j2",
            context={
                "event": result.life_event,
                "itinerary": result.itinerary,
                "parts": parts,
                "token": token,
                "new": new,
                "confirmed": confirmed,
                "active": any(p["status"] in ("pending", "confirmed") for p in parts),
                "pending": any(p["status"] == "pending" for p in parts),
                "hold_until": next(
                    (
                        f"{p.booking.hold_expires_at.astimezone(p.office.tz):%H:%M}"
                        for p in result.parts
                        if p.booking.status == "pending" and p.booking.hold_expires_at is not None
                    ),
                    "",
                ),
                "errors": errors or {},
            },
            status_code=status_code,
        )

    @post("/itineraries/{code:str}/confirm", media_type=MediaType.HTML)
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        code: Annotated[str, PathParameter(max_length=32)],
        data: Annotated[dict[str, str], Form],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> Redirect | Template:
        """Confirm every held part with the code sent for all of them (a form without the proof of work)."""
        token = data.get("token", "")
        try:
            await service.confirm_itinerary(
                db_session,
                ctx=booking_ctx,
                code=code,
                token=token,
                verification_code=data.get("verification_code", "")[:12],
                now=now,
            )
        except RathausError as error:
            try:
                result = await service.view_itinerary(db_session, ctx=booking_ctx, code=code, token=token, now=now)
            except RathausError:
                return Template("booking/not_found.html.j2", status_code=404)
            message = error.message(language_of(request))
            return self._itinerary_page(
                request, result, token, errors={"verification_code": message}, status_code=error.status
            )
        return Redirect(f"/itineraries/{code}?token={token}&done=confirmed", status_code=303)

    @post("/itineraries/{code:str}/cancel", media_type=MediaType.HTML)
    async def cancel(
        self,
        code: Annotated[str, PathParameter(max_length=32)],
        data: Annotated[dict[str, str], Form],
        db_session: DbSession,
        booking_ctx: BookingCtx,
        now: Now,
    ) -> Redirect | Template:
        """Cancel every part still ahead."""
        token = data.get("token", "")
        try:
            await service.cancel_itinerary(db_session, ctx=booking_ctx, code=code, token=token, now=now)
        except RathausError:
            return Template("booking/not_found.html.j2", status_code=404)
        return Redirect(f"/itineraries/{code}?token={token}", status_code=303)
