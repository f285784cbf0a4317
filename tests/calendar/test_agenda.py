"""Staff agenda feeds: secret per-user URLs with the office's appointments, names only where allowed."""

from pathlib import Path
from typing import Any

import pytest

from tests.calendar.clients import icaljs
from tests.conftest import Harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio


async def setup(harness: Harness, **office: Any) -> tuple[dict[str, Any], dict[str, str]]:
    await harness.load(make_config(**office))
    booked = (await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-11T09:00:00+01:00"))).json()
    token = await staff_token(harness, "desk1", role="desk")
    return booked, {"Authorization": f"Bearer {token}"}


async def feed_path(harness: Harness, auth: dict[str, str]) -> tuple[int, str]:
    made = await harness.client.post("/api/v1/offices/amt/agenda-feeds", headers=auth)
    assert made.status_code == 201, made.text
    url: str = made.json()["url"]
    return made.json()["id"], url.removeprefix("http://testserver")


@pytest.mark.calendar_client
async def test_agenda_shows_codes_and_services_but_no_names(harness: Harness, tmp_path: Path) -> None:
    booked, auth = await setup(harness)
    _, path = await feed_path(harness, auth)
    answer = await harness.client.get(path)
    assert answer.status_code == 200 and answer.headers["cache-control"].startswith("private")
    [event] = icaljs(answer.content, tmp_path)
    assert event["summary"] == f"{booked['code']}: Dienst A"
    assert "Erika" not in answer.text and "erika@" not in answer.text


async def test_names_appear_where_the_office_allows_them(harness: Harness) -> None:
    booked, auth = await setup(harness, agenda_shows_names=True)
    _, path = await feed_path(harness, auth)
    assert f"{booked['code']}: Dienst A (Erika Mustermann)" in (await harness.client.get(path)).text


async def test_revoked_or_wrong_tokens_show_nothing(harness: Harness) -> None:
    _, auth = await setup(harness)
    feed_id, path = await feed_path(harness, auth)
    assert (await harness.client.get(path.replace("/agenda/", "/agenda/x"))).status_code == 404
    revoked = await harness.client.delete(f"/api/v1/offices/amt/agenda-feeds/{feed_id}", headers=auth)
    assert revoked.status_code == 204
    assert (await harness.client.get(path)).status_code == 404


async def test_only_staff_of_the_office_get_a_feed(harness: Harness) -> None:
    config = make_config()
    config.offices.append(
        type(config.offices[0])(
            **{f: getattr(config.offices[0], f) for f in config.offices[0].__struct_fields__} | {"slug": "andere"}
        )
    )
    await harness.load(config)
    token = await staff_token(harness, "elsewhere", role="desk", offices=("andere",))
    refused = await harness.client.post(
        "/api/v1/offices/amt/agenda-feeds", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403
    assert (await harness.client.post("/api/v1/offices/amt/agenda-feeds")).status_code == 401
