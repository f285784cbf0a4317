"""The front desk of an office: today's agenda, check-in by code or camera, walk-in tickets, the printed ticket.

Every change goes through the queue's service functions, as the staff API's do; a refusal is shown on the page
with its reason and has changed nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.booking import service as bookings
from rathaus.booking.page_views import qr_svg
from rathaus.desk import views
from rathaus.desk.home import CurrentDesk, OfficeDesk, OfficePage
from rathaus.errors import RathausError
from rathaus.i18n import N_
from rathaus.offices.rules import day_bounds
from rathaus.queue import service as queue

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
# Which walk-in field a mistake belongs next to (other errors are the office's refusals).
_FIELD_OF = {
    "invalid_phone": "phone",
    "no_services": "services",
    "unknown_service": "services",
    "duplicate_service": "services",
    "invalid_language": "language",
}
# On the printed ticket, in the citizen's language.
QR_CAPTION = N_("Scan to follow your turn on your phone")


class CheckInForm(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=300)] = ""


class WalkInForm(msgspec.Struct):
    services: list[Annotated[str, msgspec.Meta(max_length=64)]] | Annotated[str, msgspec.Meta(max_length=64)] = []
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    language: Annotated[str, msgspec.Meta(max_length=16)] = "de"
    override_note: Annotated[str, msgspec.Meta(max_length=300)] = ""

    def slugs(self) -> list[str]:
        return [self.services] if isinstance(self.services, str) else list(self.services)


class DeskPages(OfficePage):
    """The front desk of one office."""

    async def _desk(self, desk: OfficeDesk, *, status: int = 200, **extra: Any) -> Template:
        office, now = desk.office, desk.now
        snapshot = await desk.ctx.booking.catalog.get(desk.session, now=now)
        since, until = day_bounds(office.local_day(now), office.tz)
        booked = await bookings.agenda(desk.session, office_id=office.id, since=since, until=until)
        language = i18n.current_language()
        walk_in_services = [
            s
            for s in sorted(snapshot.services.values(), key=lambda s: s.name.get(language).casefold())
            if s.walk_ins_allowed and office.able_counters([s.id], online=False)
        ]
        context: dict[str, Any] = {
            "staff": desk.staff,
            "office": office.slug,
            "office_rules": office,
            "agenda": views.agenda(
                [b for b in booked if b.status != "cancelled"], office, snapshot.services_by_id, now
            ),
            "services": walk_in_services,
            "languages": [(code, i18n.language_name(code)) for code in i18n.languages()],
            "now": views.clock_time(now, office),
            "errors": {},
            "refusal": None,
            "issued": None,
            "walk_in": WalkInForm(),
            "code": "",
        }
        context.update(extra)
        return Template("desk/desk.html.j2", status_code=status, context=context)

    @get("/staff/{office:str}/desk", media_type=MediaType.HTML, name="staff-desk")
    async def desk_page(self, desk: CurrentDesk, issued: FromQuery[int | None] = None) -> Template:
        """Today's agenda, the check-in and the walk-in forms."""
        shown = None
        if issued is not None:
            ticket = await queue.staff_ticket(desk.session, issued)
            if ticket.office_id == desk.office.id:
                shown = {"id": ticket.id, "number": ticket.label}
        return await self._desk(desk, issued=shown)

    @post("/staff/{office:str}/desk/check-in", media_type=MediaType.HTML)
    async def check_in(self, data: Annotated[CheckInForm, Form], desk: CurrentDesk) -> Template | Redirect:
        """Check in a booked citizen by the code typed, scanned by a handheld scanner or read by the camera."""
        try:
            ticket = await queue.check_in(
                desk.session,
                ctx=desk.ctx,
                office=desk.office,
                code=data.code,
                actor=desk.staff.username,
                now=desk.now,
            )
        except RathausError as error:
            message = error.message(i18n.current_language())
            return await self._desk(desk, status=error.status, errors={"code": message}, code=data.code)
        await desk.publish()
        return Redirect(f"/staff/{desk.office.slug}/desk?issued={ticket.id}", status_code=303)

    @post("/staff/{office:str}/desk/walk-in", media_type=MediaType.HTML)
    async def walk_in(self, data: Annotated[WalkInForm, Form], desk: CurrentDesk) -> Template | Redirect:
        """Issue a walk-in ticket; a refusal shows why, when tickets are accepted again and the next free slot."""
        request = queue.WalkInRequest(data.slugs(), data.phone.strip() or None, data.language, data.override_note)
        try:
            ticket = await queue.walk_in(
                desk.session, ctx=desk.ctx, office=desk.office, request=request, actor=desk.staff.username, now=desk.now
            )
        except RathausError as error:
            refusal = {
                "message": error.message(i18n.current_language()),
                "code": error.code,
                "accepted_again": views.day_and_time(error.extra.get("next_accepted_at"), desk.office),
                "next_slot": views.day_and_time((error.extra.get("next_slot") or {}).get("start"), desk.office),
                "book_url": error.extra.get("book_url"),
                # Only a full day can be overridden: past the cut-off or while closed nobody is there to serve.
                "can_override": error.code == "queue_full",
            }
            # A mistake in the form goes next to its field; a refusal of the office gets the box with what to do.
            field = _FIELD_OF.get(error.code)
            return await self._desk(
                desk,
                status=error.status,
                errors={field: refusal["message"]} if field else {},
                refusal=None if field else refusal,
                walk_in=data,
            )
        await desk.publish()
        return Redirect(f"/staff/{desk.office.slug}/desk?issued={ticket.id}", status_code=303)

    @get("/staff/{office:str}/tickets/{ticket:int}/print", media_type=MediaType.HTML)
    async def print_ticket(self, ticket: FromPath[int], desk: CurrentDesk) -> Template:
        """The ticket for the receipt printer (80 mm): number, services, a QR code to the live ticket page."""
        office = desk.office
        row = await queue.staff_ticket(desk.session, ticket)
        if row.office_id != office.id:
            raise RathausError("unknown_ticket")
        snapshot = await desk.ctx.booking.catalog.get(desk.session, now=desk.now)
        language = row.language if i18n.offers(row.language) else i18n.current_language()
        url = f"{desk.ctx.public_base_url}/tickets/{row.public_id}"
        services = [snapshot.services_by_id[item.service_id] for item in row.items]
        return Template(
            "desk/print.html.j2",
            context={
                "staff": desk.staff,
                "office": office.slug,
                "office_name": office.name.get(language),
                "number": row.label,
                "services": [s.name.get(language) for s in services],
                "issued_at": views.clock_time(row.arrived_at, office),
                "day": f"{office.local_day(row.arrived_at):%d.%m.%Y}",
                "qr": qr_svg(url, labelled_by="ticket-qr-label"),
                "url": url,
                "ticket_language": language,
                "caption": i18n.translations(language).gettext(QR_CAPTION),
            },
        )
