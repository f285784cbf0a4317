"""Staff login: bearer tokens for the staff API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from rathaus.staff import service
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.web import DbSession, Now, bearer_token, client_address, runtime_of
from rathaus.web_openapi import ERRORS_OPT


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TokenAnswer(msgspec.Struct):
    token: str
    expires_at: datetime


class Me(msgspec.Struct):
    username: str
    role: str


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["staff"]

    @post("/token", opt={ERRORS_OPT: [401, 429]})
    async def token(
        self,
        data: JSONBody[Credentials],
        request: Request[Any, Any, Any],
        db_session: DbSession,
        now: Now,
        state: State,
    ) -> TokenAnswer:
        """Exchange username and password for a bearer token (delayed, then locked after repeated failures)."""
        settings = runtime_of(state).settings
        token, expires = await service.login(
            db_session,
            attempt=service.Attempt(data.username, client_address(request), "api"),
            password=data.password,
            secret_key=settings.secret_key,
            lifetime=timedelta(hours=settings.staff_token_hours),
            now=now,
        )
        return TokenAnswer(token, expires)

    @get("/me", dependencies=STAFF_ONLY)
    async def me(self, staff: CurrentStaff) -> Me:
        """Who the bearer token belongs to."""
        return Me(staff.username, staff.role)

    @post("/logout", status_code=204, dependencies=STAFF_ONLY)
    async def logout(
        self, staff: CurrentStaff, request: Request[Any, Any, Any], db_session: DbSession, now: Now
    ) -> None:
        """Revoke the bearer token used."""
        await service.logout(db_session, staff=staff, token=bearer_token(request) or "", now=now)
