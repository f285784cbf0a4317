"""What every admin page shares: the guard and the form encoding."""

from __future__ import annotations

from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body

from rathaus import i18n
from rathaus.admin.guard import ADMIN_ONLY, Admin
from rathaus.staff.pages_auth import StaffPage

AdminDep = NamedDependency[Admin]
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def translate(message: str) -> str:
    """A msgid in the reader's language."""
    return i18n.translations(i18n.current_language()).gettext(message)


class AdminController(StaffPage):
    """Pages under /staff/{office}/admin: only for that office's admins."""

    path = "/staff/{office:str}/admin"
    dependencies = ADMIN_ONLY
