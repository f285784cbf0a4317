"""What controllers inject to know the staff member of a request."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from rathaus.errors import RathausError
from rathaus.staff.service import Staff, authenticate
from rathaus.staff.token_cache import TokenCache
from rathaus.tokens import hash_secret
from rathaus.web import Now, bearer_token, runtime_of

CurrentStaff = NamedDependency[Staff]


async def provide_staff(request: Request[Any, Any, Any], state: State, now: Now) -> Staff:
    """The authenticated staff member, or 401: from this instance's token cache, else from the database.

    Checked in a read-only session of its own, so that a writing request does not take the write lock
    (SQLite has one for the whole database) before its own work begins.
    """
    token = bearer_token(request)
    if token is None:
        raise RathausError("unauthorized")
    runtime = runtime_of(state)
    cache = runtime.get(TokenCache)
    token_hash = hash_secret(token)
    staff = cache.get(token_hash, now)
    if staff is not None:
        return staff
    generation = cache.generation
    async with runtime.read_session_maker() as session:
        staff, expires_at = await authenticate(session, token_hash=token_hash, now=now)
    cache.keep(token_hash, staff, expires_at=expires_at, now=now, generation=generation)
    return staff


# Controllers that serve staff only declare `dependencies = STAFF_ONLY`.
STAFF_ONLY = {"staff": Provide(provide_staff)}
