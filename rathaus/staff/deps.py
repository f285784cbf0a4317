"""What controllers inject to know the staff member of a request."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from rathaus.errors import RathausError
from rathaus.staff.service import Staff, authenticate
from rathaus.web import Now, bearer_token, runtime_of

CurrentStaff = NamedDependency[Staff]


async def provide_staff(request: Request[Any, Any, Any], state: State, now: Now) -> Staff:
    """The authenticated staff member, or 401.

    Checked in a read-only session of its own, so that a writing request does not take the write lock
    (SQLite has one for the whole database) before its own work begins.
    """
    token = bearer_token(request)
    if token is None:
        raise RathausError("unauthorized")
    async with runtime_of(state).read_session_maker() as session:
        return await authenticate(session, token=token, now=now)


# Controllers that serve staff only declare `dependencies = STAFF_ONLY`.
STAFF_ONLY = {"staff": Provide(provide_staff)}
