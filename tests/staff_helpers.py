"""Creating staff accounts and logging them in, as `rathaus users create` and the login API do."""

import re

from httpx import Response
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.jobs import run_unit
from rathaus.offices import service as offices_service
from rathaus.staff import service as staff
from tests.conftest import Harness

PASSWORD = "correct horse battery staple"


async def staff_token(
    harness: Harness, username: str, *, role: str = "admin", offices: tuple[str, ...] = ("amt",)
) -> str:
    """A bearer token for a new staff member of `offices`."""
    await add_staff(harness, username, role=role, offices=offices)
    answer = await harness.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


async def add_staff(
    harness: Harness, username: str, *, role: str = "desk", offices: tuple[str, ...] = ("amt",)
) -> None:
    """A staff account of `offices` with PASSWORD."""
    now = harness.clock.now()

    async def create(session: AsyncSession) -> object:
        office_ids = await offices_service.office_ids(session, slugs=list(offices))
        return await staff.create_user(
            session, username=username, password=PASSWORD, role=role, office_ids=office_ids, now=now
        )

    await run_unit(harness.runtime, create)


async def sign_in_page(harness: Harness, username: str, password: str = PASSWORD, *, next_: str = "") -> Response:
    """Post the staff sign-in form as a browser does (with the form's CSRF token); the client keeps the cookie."""
    form = await harness.client.get(f"/staff/sign-in?next={next_}")
    assert form.status_code == 200, form.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return await harness.client.post(
        "/staff/sign-in",
        data={"_csrf_token": token.group(1), "username": username, "password": password, "next": next_},
        follow_redirects=False,
    )
