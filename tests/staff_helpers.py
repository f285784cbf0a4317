"""Creating staff accounts and logging them in, as `rathaus users create` and the login API do."""

from rathaus.jobs import run_unit
from rathaus.staff import service as staff
from tests.conftest import Harness

PASSWORD = "correct horse battery staple"


async def staff_token(
    harness: Harness, username: str, *, role: str = "admin", offices: tuple[str, ...] = ("amt",)
) -> str:
    """A bearer token for a new staff member of `offices`."""
    now = harness.clock.now()
    await run_unit(
        harness.services,
        lambda s: staff.create_user(
            s, username=username, password=PASSWORD, role=role, office_slugs=list(offices), now=now
        ),
    )
    answer = await harness.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token
