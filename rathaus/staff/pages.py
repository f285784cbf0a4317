"""Signing in and out of the staff pages, and changing one's password."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.errors import RathausError
from rathaus.staff import service
from rathaus.staff.deps import CurrentStaff
from rathaus.staff.pages_auth import SIGN_IN, STAFF_COOKIE, StaffPage, safe_next
from rathaus.staff.service import MIN_PASSWORD
from rathaus.web import DbSession, Now, PageController, client_address, runtime_of

Form = Body(media_type=RequestEncodingType.URL_ENCODED)
# Which field a refused password change's message belongs next to.
_FIELD_OF = {"wrong_password": "current", "password_too_short": "new", "password_mismatch": "repeated"}


class SignInForm(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=100)] = ""
    password: Annotated[str, msgspec.Meta(max_length=200)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class PasswordForm(msgspec.Struct):
    current: Annotated[str, msgspec.Meta(max_length=200)] = ""
    new: Annotated[str, msgspec.Meta(max_length=200)] = ""
    repeated: Annotated[str, msgspec.Meta(max_length=200)] = ""
    username: Annotated[str, msgspec.Meta(max_length=100)] = ""


def _sign_in_page(next_: str, *, username: str = "", error: str | None = None, status: int = 200) -> Template:
    return Template(
        "staff/sign_in.html.j2",
        status_code=status,
        context={
            "next": safe_next(next_),
            "username": username,
            "errors": {"username": error} if error else {},
            "signed_out": False,
            "office": None,
        },
    )


class SignInPages(PageController):
    """The sign-in form (the only staff page open to everyone) and signing out."""

    @get(SIGN_IN, media_type=MediaType.HTML)
    async def sign_in_form(
        self, next: Annotated[str, QueryParameter(max_length=2000)] = "", signed_out: FromQuery[bool] = False
    ) -> Template:
        """The sign-in form."""
        page = _sign_in_page(next)
        page.context["signed_out"] = signed_out
        return page

    @post(SIGN_IN, media_type=MediaType.HTML)
    async def sign_in(
        self,
        data: Annotated[SignInForm, Form],
        request: Request[Any, Any, Any],
        db_session: DbSession,
        state: State,
        now: Now,
    ) -> Template | Redirect:
        """Check the password (with the growing delay and the lock), start a session, go where the user wanted."""
        settings = runtime_of(state).settings
        try:
            session_id = await service.sign_in(
                db_session,
                attempt=service.Attempt(data.username, client_address(request), "page"),
                password=data.password,
                secret_key=settings.secret_key,
                lifetime=timedelta(hours=settings.staff_session_hours),
                now=now,
            )
        except RathausError as error:
            return _sign_in_page(
                data.next, username=data.username, error=error.message(i18n.current_language()), status=error.status
            )
        response = Redirect(safe_next(data.next), status_code=303)
        response.set_cookie(
            STAFF_COOKIE, session_id, path="/", httponly=True, samesite="lax", secure=settings.is_production
        )
        return response

    @post("/staff/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any], db_session: DbSession) -> Redirect:
        """End the session (if any) and forget its cookie."""
        session_id = request.cookies.get(STAFF_COOKIE)
        if session_id:
            await service.end_session(db_session, session_id=session_id)
        response = Redirect(f"{SIGN_IN}?signed_out=true", status_code=303)
        response.delete_cookie(STAFF_COOKIE, path="/")
        return response


class PasswordPages(StaffPage):
    """A signed-in staff member changes their password."""

    def _page(self, staff: service.Staff, *, errors: dict[str, str], changed: bool, status: int = 200) -> Template:
        return Template(
            "staff/password.html.j2",
            status_code=status,
            context={"staff": staff, "errors": errors, "changed": changed, "minimum": MIN_PASSWORD, "office": None},
        )

    @get("/staff/password", media_type=MediaType.HTML)
    async def form(self, staff: CurrentStaff, changed: FromQuery[bool] = False) -> Template:
        """The form."""
        return self._page(staff, errors={}, changed=changed)

    @post("/staff/password", media_type=MediaType.HTML)
    async def change(
        self,
        data: Annotated[PasswordForm, Form],
        staff: CurrentStaff,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        state: State,
        now: Now,
    ) -> Template | Redirect:
        """Change the password; every other session and API token of the account ends."""
        try:
            await service.change_password(
                db_session,
                staff=staff,
                current=data.current,
                new=data.new,
                repeated=data.repeated,
                session_id=request.cookies.get(STAFF_COOKIE, ""),
                secret_key=runtime_of(state).settings.secret_key,
                client=client_address(request),
                now=now,
            )
        except RathausError as error:
            field = _FIELD_OF.get(error.code, "current")
            message = error.message(i18n.current_language())
            return self._page(staff, errors={field: message}, changed=False, status=error.status)
        return Redirect("/staff/password?changed=true", status_code=303)
