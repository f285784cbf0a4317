"""Every staff route of the queue refuses anonymous callers and staff of other offices."""

import pytest
from litestar.handlers import HTTPRouteHandler

from tests.conftest import Harness
from tests.queue.helpers import Desk, two_offices
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
# A valid body for each action, so that only the caller's identity decides.
BODIES = {"check-in": {"code": "ABCDEFGH"}, "walk-ins": {"services": ["a"]}, "call-next": {"counter": "Schalter 1"}}
BODIES["transfer"] = {"counter": "Schalter 1"}


def _staff_routes(harness: Harness) -> list[tuple[str, str]]:
    """(method, path) of every queue API route that depends on a logged-in staff member (the staff pages answer
    with a sign-in redirect and a 403 page: tests/staff/test_sign_in.py)."""
    routes = set()
    for route in harness.app.routes:
        for handler in route.route_handlers:
            if not isinstance(handler, HTTPRouteHandler) or "staff" not in handler.resolve_dependencies():
                continue
            if not route.path.startswith("/api/"):
                continue
            if "/queue" in route.path or route.path.startswith("/api/v1/tickets/"):
                routes.update((method, route.path) for method in handler.http_methods if method != "OPTIONS")
    return sorted(routes)


async def test_every_staff_route_needs_a_desk_member_of_that_office(harness: Harness) -> None:
    desk = await Desk.open(harness, two_offices())
    ticket = (await desk.walk_in("a")).json()
    outsider = {"Authorization": f"Bearer {await staff_token(harness, 'outsider', role='desk', offices=('zwei',))}"}
    routes = _staff_routes(harness)
    assert len(routes) == 8, routes

    for method, template in routes:
        path = template.replace("{office:str}", "amt").replace("{ticket:str}", str(ticket["id"]))
        anonymous = await harness.client.request(method, path, json={})
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        forged = await harness.client.request(method, path, json={}, headers={"Authorization": "Bearer forged"})
        assert forged.status_code == 401, (method, path)
        body = BODIES.get(path.rsplit("/", 1)[-1], {})
        other = await harness.client.request(method, path, json=body, headers=outsider)
        assert other.status_code == 403, (method, path, other.text)
    assert (await desk.queue())["waiting"][0]["status"] == "waiting"  # nothing was changed by them
