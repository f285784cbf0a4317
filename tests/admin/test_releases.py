"""An office admin publishes a release schedule on the hours page: applied through the loader, exported, refused
with the reason and nothing changed when it is wrong."""

import pytest

from rathaus.offices.config import parse_config
from tests.admin.helpers import csrf, rich_config, sign_in_admin
from tests.admin.test_configuration import ADMIN, export
from tests.conftest import Harness

pytestmark = pytest.mark.anyio


async def test_the_release_schedule_is_edited_on_the_hours_page(harness: Harness) -> None:
    await harness.load(rich_config())
    await sign_in_admin(harness)
    page = await harness.client.get(f"{ADMIN}/hours")
    assert page.status_code == 200 and 'name="release_at"' in page.text
    before = await export(harness)

    bad = await harness.client.post(
        f"{ADMIN}/releases",
        data={
            "release_at": "08:00",
            "release_days": "vierzehn",
            "release_weekdays": ["mon"],
            "_csrf_token": csrf(page),
        },
    )
    assert bad.status_code == 422 and "als ganze Zahl" in bad.text
    wrong_day = await harness.client.post(
        f"{ADMIN}/releases",
        data={"release_at": "08:00", "release_days": "14", "release_weekdays": ["mo"], "_csrf_token": csrf(page)},
    )
    assert wrong_day.status_code == 422 and "offices[0].releases.weekdays" in wrong_day.text
    assert await export(harness) == before

    good = await harness.client.post(
        f"{ADMIN}/releases",
        data={
            "release_at": "07:30",
            "release_days": "21",
            "release_weekdays": ["mon", "thu"],
            "_csrf_token": csrf(page),
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    text = await export(harness)
    releases = parse_config(text, source="export").offices[0].releases
    assert releases is not None and (releases.at, releases.days_ahead, releases.weekdays) == (
        "07:30",
        21,
        ["mon", "thu"],
    )
    office = (await harness.client.get("/api/v1/offices/amt")).json()
    assert office["releases"]["next_release"] == "2027-01-11T07:30:00+01:00"
    assert office["releases"]["released_through"] == "2027-01-28"  # Thursday 7 January's release, made at once

    off = await harness.client.post(f"{ADMIN}/releases", data={"release_at": "", "_csrf_token": csrf(page)})
    assert off.status_code == 200
    assert parse_config(await export(harness), source="export").offices[0].releases is None
