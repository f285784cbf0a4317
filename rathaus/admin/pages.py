"""An office admin's pages: closures with a preview, hours, the configuration file, staff, messages, reports.

Thin handlers: parse the form, call one service operation, render or redirect (Post/Redirect/Get). Changes to
hours go through the configuration loader (rathaus.offices._export explains why).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from babel.dates import format_date
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.admin import closures
from rathaus.admin.base import AdminController, AdminDep, Form, translate
from rathaus.admin.guard import Admin
from rathaus.errors import RathausError
from rathaus.i18n import N_
from rathaus.localized import Localized
from rathaus.notify import service as notify
from rathaus.notify.render import when
from rathaus.offices import service as offices
from rathaus.offices.config import WEEKDAYS, Config, ConfigError, ReleasesConfig, SpecialHoursConfig, parse_config
from rathaus.offices.deps import CatalogDep
from rathaus.offices.presenters import NO_RELEASE_WHEN_CLOSED
from rathaus.offices.rules import wall_to_utc
from rathaus.staff import accounts
from rathaus.web import PAGE_SECURITY_HEADERS, DbSession, Now, runtime_of

_NO_REASON = N_("Give the reason in German.")
_BAD_DATE = N_("Give a date as YYYY-MM-DD.")
_BAD_TIME = N_("Give a time as HH:MM.")
_END_BEFORE_START = N_("The end must be after the start.")
_NOT_APPLIED = N_("Nothing was changed. The configuration has these problems:")
_SAVED = N_("Saved.")
_BAD_RELEASES = N_("Give the days ahead as a whole number from 0 to 365.")


class ClosureForm(msgspec.Struct):
    start_date: str = ""
    start_time: str = ""
    end_date: str = ""
    end_time: str = ""
    reason_de: Annotated[str, msgspec.Meta(max_length=300)] = ""
    reason_en: Annotated[str, msgspec.Meta(max_length=300)] = ""
    public: str = ""


class HoursForm(msgspec.Struct):
    mon: str = ""
    tue: str = ""
    wed: str = ""
    thu: str = ""
    fri: str = ""
    sat: str = ""
    sun: str = ""


class SpecialForm(msgspec.Struct):
    day: str = ""
    hours: str = ""
    note_de: Annotated[str, msgspec.Meta(max_length=500)] = ""
    note_en: Annotated[str, msgspec.Meta(max_length=500)] = ""


class PolicyForm(msgspec.Struct):
    offsets: str = ""
    quiet_start: str = ""
    quiet_end: str = ""
    turn_near_ahead: str = ""


class AccountForm(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=100)] = ""
    password: Annotated[str, msgspec.Meta(max_length=200)] = ""
    role: str = "desk"


class PasswordForm(msgspec.Struct):
    password: Annotated[str, msgspec.Meta(max_length=200)] = ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _time(text: str) -> time | None:
    try:
        return time.fromisoformat(text.strip()) if text.strip() else time(0)
    except ValueError:
        return None


def _closure_span(form: ClosureForm, admin: Admin) -> tuple[datetime, datetime, bool] | dict[str, str]:
    """[start, end) in UTC and whether whole days, or the fields' problems (msgids)."""
    errors: dict[str, str] = {}
    first, last = _date(form.start_date), _date(form.end_date or form.start_date)
    opens, closes = _time(form.start_time), _time(form.end_time)
    if first is None:
        errors["start_date"] = _BAD_DATE
    if last is None:
        errors["end_date"] = _BAD_DATE
    if opens is None:
        errors["start_time"] = _BAD_TIME
    if closes is None:
        errors["end_time"] = _BAD_TIME
    if not form.reason_de.strip():
        errors["reason_de"] = _NO_REASON
    if errors or first is None or last is None or opens is None or closes is None:
        return errors
    whole_days = not form.start_time.strip() and not form.end_time.strip()
    tz = admin.office.tz
    start = wall_to_utc(first, opens, tz)
    end = wall_to_utc(last + timedelta(days=1), time(0), tz) if whole_days else wall_to_utc(last, closes, tz)
    if end <= start:
        return {"end_date": _END_BEFORE_START}
    return start, end, whole_days


def _reason(form: ClosureForm) -> Localized:
    return Localized(de=form.reason_de.strip(), en=form.reason_en.strip())


_DASH = "\u2013"


def _period(start_at: datetime, end_at: datetime, all_day: bool, tz: ZoneInfo, language: str) -> str:
    """When a closure is, as people read it: whole days as dates, else from and until times."""
    start, end = start_at.astimezone(tz), end_at.astimezone(tz)
    if all_day:
        last = (end - timedelta(days=1)).date()
        days = [format_date(d, format="medium", locale=i18n.babel_locale(language)) for d in (start.date(), last)]
        return days[0] if last == start.date() else f"{days[0]} {_DASH} {days[1]}"
    until = f"{end:%H:%M}" if end.date() == start.date() else when(end_at, tz, language)
    return f"{when(start_at, tz, language)} {_DASH} {until}"


def _spans(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class AdminPages(AdminController):
    @get("/", media_type=MediaType.HTML, name="staff-admin")
    async def overview(self, admin: AdminDep) -> Template:
        """The admin's start page: what can be managed here."""
        return Template("admin/overview.html.j2", context={"admin": admin, "section": "overview"})

    # --- closures --------------------------------------------------------------------------------------

    @get("/closures", media_type=MediaType.HTML)
    async def closures(
        self, admin: AdminDep, db_session: DbSession, now: Now, declared: FromQuery[int | None] = None
    ) -> Template:
        """Upcoming closures and the form to declare one."""
        return await self._closures_page(db_session, admin, now, ClosureForm(public="on"), {}, declared=declared)

    async def _closures_page(
        self,
        session: Any,
        admin: Admin,
        now: datetime,
        form: ClosureForm,
        errors: dict[str, str],
        *,
        declared: int | None = None,
        status_code: int = 200,
    ) -> Template:
        upcoming = await offices.list_closures(session, office_id=admin.office.id, since=now)
        return Template(
            "admin/closures.html.j2",
            context={
                "admin": admin,
                "section": "closures",
                "closures": upcoming,
                "form": form,
                "errors": {k: translate(v) for k, v in errors.items()},
                "declared": declared,
                "period": lambda c: _period(c.start_at, c.end_at, c.all_day, admin.office.tz, i18n.current_language()),
            },
            status_code=status_code,
        )

    @post("/closures/preview", media_type=MediaType.HTML)
    async def preview(
        self,
        admin: AdminDep,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        state: State,
        data: Annotated[ClosureForm, Form],
    ) -> Template:
        """What the closure would cancel and what the citizens would read; nothing is written yet."""
        span = _closure_span(data, admin)
        if isinstance(span, dict):
            return await self._closures_page(db_session, admin, now, data, span, status_code=422)
        start, end, whole_days = span
        affected = await closures.preview_closure(
            db_session,
            catalog=catalog,
            settings=runtime_of(state).settings,
            office_id=admin.office.id,
            start=start,
            end=end,
            reason=_reason(data),
            public=bool(data.public),
            actor=admin.staff.username,
            language=i18n.current_language(),
            now=now,
        )
        return Template(
            "admin/closure_preview.html.j2",
            context={
                "admin": admin,
                "section": "closures",
                "form": data,
                "affected": affected,
                "period": _period(start, end, whole_days, admin.office.tz, i18n.current_language()),
            },
        )

    @post("/closures", media_type=MediaType.HTML)
    async def declare(
        self,
        admin: AdminDep,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        data: Annotated[ClosureForm, Form],
    ) -> Template | Redirect:
        """Declare the closure: covered bookings are cancelled and their citizens told."""
        span = _closure_span(data, admin)
        if isinstance(span, dict):
            return await self._closures_page(db_session, admin, now, data, span, status_code=422)
        start, end, _ = span
        declared = await closures.declare_closure(
            db_session,
            catalog=catalog,
            office_id=admin.office.id,
            start=start,
            end=end,
            reason=_reason(data),
            public=bool(data.public),
            actor=admin.staff.username,
            now=now,
        )
        return Redirect(
            f"/staff/{admin.office.slug}/admin/closures?declared={len(declared.cancelled)}", status_code=303
        )

    @post("/closures/{closure_id:int}/remove", media_type=MediaType.HTML)
    async def remove(
        self, admin: AdminDep, closure_id: FromPath[int], db_session: DbSession, now: Now, catalog: CatalogDep
    ) -> Redirect:
        """Reopen: remove a closure (cancelled bookings stay cancelled)."""
        await offices.remove_closure(
            db_session, catalog=catalog, office_id=admin.office.id, closure_id=closure_id, now=now
        )
        return Redirect(f"/staff/{admin.office.slug}/admin/closures", status_code=303)

    # --- hours -----------------------------------------------------------------------------------------

    @get("/hours", media_type=MediaType.HTML)
    async def hours(self, admin: AdminDep, db_session: DbSession, saved: FromQuery[int] = 0) -> Template:
        """Weekly opening hours and dated special hours (an evening service, a Saturday)."""
        return await self._hours_page(db_session, admin, None, SpecialForm(), [], saved=bool(saved))

    async def _hours_page(
        self,
        session: Any,
        admin: Admin,
        weekly: HoursForm | None,
        special: SpecialForm,
        problems: list[str],
        *,
        saved: bool = False,
        status_code: int = 200,
    ) -> Template:
        config = (await offices.office_config(session, office_id=admin.office.id)).offices[0]
        if weekly is None:
            weekly = HoursForm(**{day: ", ".join(config.hours.get(day, [])) for day in WEEKDAYS})
        return Template(
            "admin/hours.html.j2",
            context={
                "admin": admin,
                "section": "hours",
                "weekly": weekly,
                "weekdays": WEEKDAYS,
                "special_hours": config.special_hours,
                "special": special,
                "releases": config.releases,
                "no_release_when_closed": NO_RELEASE_WHEN_CLOSED,
                "problems": problems,
                "saved": saved,
            },
            status_code=status_code,
        )

    @post("/hours", media_type=MediaType.HTML)
    async def set_hours(
        self, admin: AdminDep, db_session: DbSession, now: Now, catalog: CatalogDep, data: Annotated[HoursForm, Form]
    ) -> Template | Redirect:
        """Replace the weekly hours, checked and applied as a configuration file would be."""
        hours = {day: _spans(getattr(data, day)) for day in WEEKDAYS if _spans(getattr(data, day))}
        try:
            await offices.edit_office(
                db_session,
                catalog=catalog,
                office_id=admin.office.id,
                change=lambda c: offices.replace_office(c, hours=hours),
                now=now,
            )
        except ConfigError as error:
            return await self._hours_page(db_session, admin, data, SpecialForm(), error.problems, status_code=422)
        return Redirect(f"/staff/{admin.office.slug}/admin/hours?saved=1", status_code=303)

    @post("/releases", media_type=MediaType.HTML)
    async def set_releases(
        self, admin: AdminDep, request: Request[Any, Any, Any], db_session: DbSession, now: Now, catalog: CatalogDep
    ) -> Template | Redirect:
        """Release new slots in batches on a published schedule, or (time left empty) continuously."""
        form = await request.form()
        at, ahead = str(form.get("release_at", "")).strip(), str(form.get("release_days", "")).strip()
        try:
            releases = (
                None
                if not at
                else ReleasesConfig(
                    at=at, days_ahead=int(ahead or "-1"), weekdays=[str(d) for d in form.getall("release_weekdays", [])]
                )
            )
            await offices.edit_office(
                db_session,
                catalog=catalog,
                office_id=admin.office.id,
                change=lambda c: offices.replace_office(c, releases=releases),
                now=now,
            )
        except ConfigError as error:
            return await self._hours_page(db_session, admin, None, SpecialForm(), error.problems, status_code=422)
        except ValueError:  # the days ahead are not a number
            return await self._hours_page(
                db_session, admin, None, SpecialForm(), [translate(_BAD_RELEASES)], status_code=422
            )
        return Redirect(f"/staff/{admin.office.slug}/admin/hours?saved=1", status_code=303)

    @post("/special-hours", media_type=MediaType.HTML)
    async def add_special(
        self, admin: AdminDep, db_session: DbSession, now: Now, catalog: CatalogDep, data: Annotated[SpecialForm, Form]
    ) -> Template | Redirect:
        """Open on one date at extra hours (replacing that date's special hours, if any)."""
        day = _date(data.day)
        if day is None:
            return await self._hours_page(db_session, admin, None, data, [translate(_BAD_DATE)], status_code=422)
        entry = SpecialHoursConfig(
            date=day,
            hours=_spans(data.hours),
            note=Localized(de=data.note_de.strip(), en=data.note_en.strip()).as_dict(),
        )

        def change(config: Config) -> Config:
            kept = [s for s in config.offices[0].special_hours if s.date != day]
            return offices.replace_office(config, special_hours=sorted([*kept, entry], key=lambda s: s.date))

        try:
            await offices.edit_office(db_session, catalog=catalog, office_id=admin.office.id, change=change, now=now)
        except ConfigError as error:
            return await self._hours_page(db_session, admin, None, data, error.problems, status_code=422)
        return Redirect(f"/staff/{admin.office.slug}/admin/hours?saved=1", status_code=303)

    @post("/special-hours/{day:str}/remove", media_type=MediaType.HTML)
    async def remove_special(
        self, admin: AdminDep, day: FromPath[str], db_session: DbSession, now: Now, catalog: CatalogDep
    ) -> Redirect:
        """No special hours on that date any more."""
        await offices.edit_office(
            db_session,
            catalog=catalog,
            office_id=admin.office.id,
            change=lambda c: offices.replace_office(
                c, special_hours=[s for s in c.offices[0].special_hours if s.date.isoformat() != day]
            ),
            now=now,
        )
        return Redirect(f"/staff/{admin.office.slug}/admin/hours?saved=1", status_code=303)

    # --- the configuration file ------------------------------------------------------------------------

    @get("/configuration", media_type=MediaType.HTML)
    async def configuration(self, admin: AdminDep, db_session: DbSession, imported: FromQuery[int] = 0) -> Template:
        """Export the office's configuration as a file `rathaus load` reads, or import one."""
        text = offices.dump_toml(await offices.office_config(db_session, office_id=admin.office.id))
        return Template(
            "admin/configuration.html.j2",
            context={"admin": admin, "section": "configuration", "text": text, "problems": [], "imported": imported},
        )

    @get("/configuration.toml", media_type="application/toml")
    async def export(self, admin: AdminDep, db_session: DbSession) -> Response[str]:
        """The office's configuration as a TOML file."""
        config = await offices.office_config(db_session, office_id=admin.office.id)
        text = offices.dump_toml(
            config, header=f"rathaus configuration of {admin.office.slug}; apply with `rathaus load`"
        )
        return Response(
            text,
            media_type="application/toml; charset=utf-8",
            headers={
                **PAGE_SECURITY_HEADERS,
                "Content-Disposition": f'attachment; filename="{admin.office.slug}.toml"',
            },
        )

    @post("/configuration", media_type=MediaType.HTML)
    async def import_configuration(
        self,
        admin: AdminDep,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        request: Request[Any, Any, Any],
    ) -> Template | Redirect:
        """Apply a configuration (an uploaded file or the edited text): all of it, or nothing and why."""
        form = await request.form()
        upload = form.get("file")
        text = str(form.get("text") or "")
        source = "text"
        if isinstance(upload, UploadFile) and upload.filename:
            source = upload.filename
            raw = await upload.read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
        try:
            config = parse_config(text, source=source)
            await offices.import_office(
                db_session, catalog=catalog, office_id=admin.office.id, config=config, now=now, source=source
            )
        except ConfigError as error:
            return Template(
                "admin/configuration.html.j2",
                context={
                    "admin": admin,
                    "section": "configuration",
                    "text": text,
                    "problems": error.problems,
                    "imported": 0,
                },
                status_code=422,
            )
        return Redirect(f"/staff/{admin.office.slug}/admin/configuration?imported=1", status_code=303)

    # --- messages ----------------------------------------------------------------------------------------

    @get("/outbox", media_type=MediaType.HTML)
    async def outbox(self, admin: AdminDep, db_session: DbSession, retried: FromQuery[int] = 0) -> Template:
        """Messages that failed or could not be delivered, to send again once the cause is fixed."""
        rows = []
        for status in notify.RETRYABLE:
            rows += await notify.office_outbox(db_session, office_id=admin.office.id, status=status, limit=200)
        rows.sort(key=lambda r: r.id, reverse=True)
        return Template(
            "admin/outbox.html.j2",
            context={"admin": admin, "section": "outbox", "rows": rows, "retried": retried, "tz": admin.office.tz},
        )

    @post("/outbox/{message_id:int}/retry", media_type=MediaType.HTML)
    async def retry(self, admin: AdminDep, message_id: FromPath[int], db_session: DbSession, now: Now) -> Redirect:
        """Send a failed message again."""
        await notify.retry_message(
            db_session, office_id=admin.office.id, message_id=message_id, actor=admin.staff.username, now=now
        )
        return Redirect(f"/staff/{admin.office.slug}/admin/outbox?retried=1", status_code=303)

    @get("/policy", media_type=MediaType.HTML)
    async def policy(self, admin: AdminDep, db_session: DbSession, saved: FromQuery[int] = 0) -> Template:
        """When reminders go out, SMS quiet hours, and when a waiting citizen is told their turn is near."""
        policy, _ = await notify.office_policy(db_session, office_id=admin.office.id)
        form = PolicyForm(
            offsets=", ".join(str(int(o.total_seconds() // 60)) for o in policy.offsets),
            quiet_start=f"{policy.quiet_start:%H:%M}",
            quiet_end=f"{policy.quiet_end:%H:%M}",
            turn_near_ahead=str(policy.turn_near_ahead),
        )
        return self._policy_page(admin, form, "", saved=bool(saved))

    def _policy_page(
        self, admin: Admin, form: PolicyForm, problem: str, *, saved: bool = False, status_code: int = 200
    ) -> Template:
        return Template(
            "admin/policy.html.j2",
            context={"admin": admin, "section": "policy", "form": form, "problem": problem, "saved": saved},
            status_code=status_code,
        )

    @post("/policy", media_type=MediaType.HTML)
    async def set_policy(
        self,
        admin: AdminDep,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        data: Annotated[PolicyForm, Form],
    ) -> Template | Redirect:
        """Set the reminder policy (reminders planned from now on follow it)."""
        try:
            offsets = [int(part) for part in _spans(data.offsets)]
            ahead = int(data.turn_near_ahead)
        except ValueError:
            problem = RathausError("invalid_input", reason=data.offsets or data.turn_near_ahead)
            return self._policy_page(admin, data, problem.message(i18n.current_language()), status_code=422)
        try:
            await notify.set_policy(
                db_session,
                office_id=admin.office.id,
                reminder_offsets_minutes=offsets,
                quiet_start=data.quiet_start,
                quiet_end=data.quiet_end,
                turn_near_ahead=ahead,
                catalog=catalog,
                now=now,
            )
        except RathausError as error:
            return self._policy_page(admin, data, error.message(i18n.current_language()), status_code=422)
        return Redirect(f"/staff/{admin.office.slug}/admin/policy?saved=1", status_code=303)

    # --- staff accounts ----------------------------------------------------------------------------------

    @get("/staff", media_type=MediaType.HTML)
    async def staff(self, admin: AdminDep, db_session: DbSession, done: FromQuery[int] = 0) -> Template:
        """The office's staff accounts: create, role, password, disable."""
        return await self._staff_page(db_session, admin, AccountForm(), "", done=bool(done))

    async def _staff_page(
        self, session: Any, admin: Admin, form: AccountForm, problem: str, *, done: bool = False, status_code: int = 200
    ) -> Template:
        return Template(
            "admin/staff.html.j2",
            context={
                "admin": admin,
                "section": "staff",
                "accounts": await accounts.accounts_at(session, office_id=admin.office.id),
                "form": form,
                "problem": problem,
                "done": done,
            },
            status_code=status_code,
        )

    @post("/staff", media_type=MediaType.HTML)
    async def create_account(
        self, admin: AdminDep, db_session: DbSession, now: Now, data: Annotated[AccountForm, Form]
    ) -> Template | Redirect:
        """A new account at this office."""
        try:
            await accounts.create_account(
                db_session,
                actor=admin.staff,
                username=data.username,
                password=data.password,
                role=data.role,
                office_ids=[admin.office.id],
                now=now,
            )
        except RathausError as error:
            form = AccountForm(username=data.username, role=data.role)
            message = error.message(i18n.current_language())
            return await self._staff_page(db_session, admin, form, message, status_code=error.status)
        return Redirect(f"/staff/{admin.office.slug}/admin/staff?done=1", status_code=303)

    @post("/staff/{user_id:int}/role", media_type=MediaType.HTML)
    async def set_role(
        self,
        admin: AdminDep,
        user_id: FromPath[int],
        db_session: DbSession,
        request: Request[Any, Any, Any],
        now: Now,
    ) -> Redirect:
        """Change an account's role and which of the admin's offices it works at."""
        form = await request.form()
        office_ids = [int(v) for v in form.getall("offices", []) if str(v).isdigit()]
        await accounts.set_access(
            db_session,
            actor=admin.staff,
            user_id=user_id,
            role=str(form.get("role", "")),
            office_ids=office_ids,
            now=now,
        )
        return Redirect(f"/staff/{admin.office.slug}/admin/staff?done=1", status_code=303)

    @post("/staff/{user_id:int}/password", media_type=MediaType.HTML)
    async def reset_password(
        self,
        admin: AdminDep,
        user_id: FromPath[int],
        db_session: DbSession,
        data: Annotated[PasswordForm, Form],
        now: Now,
    ) -> Template | Redirect:
        """Give an account a new password (its sign-ins end)."""
        try:
            await accounts.reset_password(
                db_session, actor=admin.staff, user_id=user_id, password=data.password, now=now
            )
        except RathausError as error:
            message = error.message(i18n.current_language())
            return await self._staff_page(db_session, admin, AccountForm(), message, status_code=error.status)
        return Redirect(f"/staff/{admin.office.slug}/admin/staff?done=1", status_code=303)

    @post("/staff/{user_id:int}/disable", media_type=MediaType.HTML)
    async def disable(self, admin: AdminDep, user_id: FromPath[int], db_session: DbSession, now: Now) -> Redirect:
        """Disable an account: its sign-ins end at once (on other instances within the token cache's time)."""
        await accounts.set_active(db_session, actor=admin.staff, user_id=user_id, active=False, now=now)
        return Redirect(f"/staff/{admin.office.slug}/admin/staff?done=1", status_code=303)

    @post("/staff/{user_id:int}/enable", media_type=MediaType.HTML)
    async def enable(self, admin: AdminDep, user_id: FromPath[int], db_session: DbSession, now: Now) -> Redirect:
        """Enable a disabled account again."""
        await accounts.set_active(db_session, actor=admin.staff, user_id=user_id, active=True, now=now)
        return Redirect(f"/staff/{admin.office.slug}/admin/staff?done=1", status_code=303)

    # --- barrier reports ---------------------------------------------------------------------------------

    @get("/barriers", media_type=MediaType.HTML)
    async def barriers(self, admin: AdminDep, db_session: DbSession) -> Template:
        """What citizens reported through the accessibility statement's form (the same for every office)."""
        reports = await offices.list_barrier_reports(db_session)
        return Template(
            "admin/barriers.html.j2",
            context={"admin": admin, "section": "barriers", "reports": reports, "tz": admin.office.tz},
        )
