"""The guard of every staff page: a signed-in session, else a redirect to the sign-in page; another office's or a
lower role's staff get a 403 page.

A staff page controller derives from `StaffPage` and takes `staff: CurrentStaff`; it checks the office with
`staff.require(office_id)` (or `staff.require(office_id, role="admin")`), which a `StaffPage` answers with the
403 page. Its template extends `staff/layout.html.j2` and passes `office` (the office's slug, or None) for the
navigation, which links the named routes `STAFF_NAV` lists that exist in the app.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.exceptions.http_exceptions import NoRouteMatchFoundException
from litestar.response import Redirect, Template
from sqlalchemy.exc import TimeoutError as SqlalchemyTimeoutError

from rathaus import i18n
from rathaus.errors import RathausError
from rathaus.i18n import N_
from rathaus.staff._sessions import TOUCH_EVERY
from rathaus.staff.service import Staff, session_staff, touch_session
from rathaus.web import PAGE_SECURITY_HEADERS, Now, PageController, page_busy, page_not_found, runtime_of

STAFF_COOKIE = "rathaus_staff"
SIGN_IN = "/staff/sign-in"
HOME = "/staff"
# (route name, label): the staff navigation for one office, in this order; a route not in the app is left out.
# Page handlers take the office's slug as the path parameter `office`.
STAFF_NAV = (
    ("staff-desk", N_("Front desk")),
    ("staff-counter", N_("Counter")),
    ("staff-display", N_("Display")),
    ("staff-admin", N_("Office admin")),
    ("staff-figures", N_("Figures")),
)


class SignInRequired(Exception):
    """The request has no live staff session."""


def safe_next(value: str | None) -> str:
    """A local path to return to after signing in (never another site)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n"):
        return HOME
    return value


async def provide_page_staff(request: Request[Any, Any, Any], state: State, now: Now) -> Staff:
    """The staff member of the session cookie, or SignInRequired (read in a session of its own, like the API's)."""
    session_id = request.cookies.get(STAFF_COOKIE)
    if not session_id:
        raise SignInRequired()
    runtime = runtime_of(state)
    idle = timedelta(minutes=runtime.settings.staff_session_idle_minutes)
    async with runtime.read_session_maker() as session:
        found = await session_staff(session, session_id=session_id, idle=idle, now=now)
    if found is None:
        raise SignInRequired()
    staff, last_seen = found
    if now - last_seen >= TOUCH_EVERY:
        async with runtime.session_maker() as session:
            await touch_session(session, session_id=session_id, now=now)
            await session.commit()
    request.state.staff = staff
    return staff


def sign_in_redirect(request: Request[Any, Any, Any], error: SignInRequired) -> Response[Any]:
    """To the sign-in page, coming back here afterwards (a page that was read; after a form, the staff home)."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = safe_next(back if request.method == "GET" else None)
    response = Redirect(f"{SIGN_IN}?{urlencode({'next': target})}", status_code=303)
    if STAFF_COOKIE in request.cookies:
        response.delete_cookie(STAFF_COOKIE, path="/")
    return response


def staff_error_page(request: Request[Any, Any, Any], error: RathausError) -> Response[Any]:
    """A refusal (403 for another office's staff) or another known failure as a staff page with the reason."""
    return Template(
        "staff/error.html.j2",
        status_code=error.status,
        headers=PAGE_SECURITY_HEADERS,
        media_type=MediaType.HTML,
        context={
            "message": error.message(i18n.current_language()),
            "status": error.status,
            "office": None,
            # Signed in but refused: the page still offers the way out (sign out, other offices).
            "staff": getattr(request.state, "staff", None),
        },
    )


def staff_nav(request: Request[Any, Any, Any], office: str | None) -> list[dict[str, Any]]:
    """The navigation of a staff page: the office's pages that exist in this app, the current one marked."""
    if office is None:
        return []
    translations = i18n.translations(i18n.current_language())
    found: list[dict[str, Any]] = []
    for name, label in STAFF_NAV:
        try:
            url = request.app.route_reverse(name, office=office)
        except NoRouteMatchFoundException:
            continue
        found.append({"url": url, "label": translations.gettext(label), "current": request.url.path == url})
    return found


class StaffPage(PageController):
    """Base of staff page controllers: every handler needs a signed-in staff member (`staff: CurrentStaff`)."""

    dependencies = {"staff": Provide(provide_page_staff)}
    exception_handlers = {
        NotFoundException: page_not_found,
        SqlalchemyTimeoutError: page_busy,
        SignInRequired: sign_in_redirect,
        RathausError: staff_error_page,
    }
