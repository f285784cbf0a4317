"""Creating staff accounts and logging them in, as `rathaus users create` and the login API do."""

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
    now = harness.clock.now()

    async def create(session: AsyncSession) -> object:
        office_ids = await offices_service.office_ids(session, slugs=list(offices))
        return await staff.create_user(
            session, username=username, password=PASSWORD, role=role, office_ids=office_ids, now=now
        )

    await run_unit(harness.runtime, create)
    answer = await harness.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token
