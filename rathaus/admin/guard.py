"""Who may open an office's admin pages: an admin of that office (the staff sign-in's session); other staff get
the 403 page and anyone not signed in the sign-in page (both from `StaffPage`)."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath

from rathaus.offices.catalog import Catalog
from rathaus.offices.rules import OfficeRules
from rathaus.staff.deps import CurrentStaff
from rathaus.staff.pages_auth import StaffPage
from rathaus.staff.service import Staff
from rathaus.web import Now, runtime_of


class Admin:
    """The signed-in admin and the office whose pages they are on."""

    __slots__ = ("office", "staff")

    def __init__(self, staff: Staff, office: OfficeRules) -> None:
        self.staff = staff
        self.office = office


async def provide_admin(staff: CurrentStaff, state: State, now: Now, office: FromPath[str]) -> Admin:
    """The admin of `office` making this request, or the 403 page."""
    runtime = runtime_of(state)
    async with runtime.read_session_maker() as session:
        rules = await runtime.get(Catalog).office(session, office, now=now)
    staff.require(rules.id, role="admin")
    return Admin(staff, rules)


ADMIN_ONLY = {**StaffPage.dependencies, "admin": Provide(provide_admin)}
