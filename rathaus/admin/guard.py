"""Who may open an office's admin pages: an admin of that office; other staff get 403, strangers the sign-in.

The one seam to the staff sign-in: `provide_admin` is all the pages depend on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath

from rathaus.errors import RathausError
from rathaus.offices.catalog import Catalog
from rathaus.offices.rules import OfficeRules
from rathaus.staff.service import Staff, authenticate
from rathaus.web import Now, runtime_of

# Until the staff sign-in sets its session cookie, the pages accept a staff API token in this cookie.
TOKEN_COOKIE = "rathaus_staff_token"  # noqa: S105 (a cookie name, not a secret)
SIGN_IN = "/staff/sign-in"


class Admin:
    """The signed-in admin and the office whose pages they are on."""

    __slots__ = ("office", "staff")

    def __init__(self, staff: Staff, office: OfficeRules) -> None:
        self.staff = staff
        self.office = office


async def provide_admin(request: Request[Any, Any, Any], state: State, now: Now, office: FromPath[str]) -> Admin:
    """The admin of `office` making this request: 403 for other staff, to the sign-in for anyone else."""
    runtime = runtime_of(state)
    token = request.cookies.get(TOKEN_COOKIE)
    async with runtime.read_session_maker() as session:
        rules = await runtime.get(Catalog).office(session, office, now=now)
        try:
            staff = await authenticate(session, token=token or "", now=now)
        except RathausError:
            raise NotAuthorizedException(
                headers={"Location": f"{SIGN_IN}?{urlencode({'next': request.url.path})}"}
            ) from None
    staff.require(rules.id, role="admin")
    return Admin(staff, rules)


ADMIN_ONLY = {"admin": Provide(provide_admin)}
