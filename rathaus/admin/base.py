"""What every admin page shares: the guard, the refusal pages and the form encoding."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body
from litestar.response import Redirect, Template

from rathaus import i18n
from rathaus.admin.guard import ADMIN_ONLY, Admin
from rathaus.errors import RathausError
from rathaus.web import PAGE_SECURITY_HEADERS, PageController

AdminDep = NamedDependency[Admin]
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def translate(message: str) -> str:
    """A msgid in the reader's language."""
    return i18n.translations(i18n.current_language()).gettext(message)


def _sign_in(request: Request[Any, Any, Any], error: NotAuthorizedException) -> Response[Any]:
    return Redirect(str((error.headers or {}).get("Location", "/staff/sign-in")), status_code=303)


def _refused(request: Request[Any, Any, Any], error: RathausError) -> Response[Any]:
    return Template(
        "admin/refused.html.j2",
        context={"message": error.message(i18n.current_language())},
        status_code=error.status,
        headers=PAGE_SECURITY_HEADERS,
        media_type=MediaType.HTML,
    )


class AdminController(PageController):
    """Pages under /staff/{office}/admin: only for that office's admins."""

    path = "/staff/{office:str}/admin"
    dependencies = ADMIN_ONLY
    exception_handlers = {
        **PageController.exception_handlers,
        NotAuthorizedException: _sign_in,
        RathausError: _refused,
    }
