"""An admin signed in for the admin pages, and a richer office than the default test one."""

from __future__ import annotations

import re
from typing import Any

from httpx import Response

from rathaus.offices.config import BundleConfig, Config
from tests.conftest import Harness
from tests.factories import make_config
from tests.staff_helpers import PASSWORD, staff_token


async def sign_in_admin(harness: Harness, username: str = "leitung", **kwargs: Any) -> None:
    """Create a staff account (an admin of office "amt" unless told otherwise) and sign the test client in."""
    await staff_token(harness, username, **kwargs)
    form = await harness.client.get("/staff/sign-in")
    answer = await harness.client.post(
        "/staff/sign-in",
        data={"_csrf_token": csrf(form), "username": username, "password": PASSWORD, "next": ""},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def csrf(page: Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def rich_config() -> Config:
    """Office "amt" with everything a file can declare: special hours, closures, holidays, a bundle, facilities."""
    config = make_config(
        counters=[
            {"name": "Counter 1", "services": ["a", "b"]},
            {"name": "Counter 2", "services": ["a"], "walk_in_only": True},
        ],
        special_hours=[{"date": "2027-01-16", "hours": ["10:00-14:00"], "note": {"de": "Samstag", "en": "Saturday"}}],
        closures=[
            {"date": "2027-02-01", "until": "2027-02-02", "reason": {"de": "Umzug", "en": "Moving"}},
            {
                "start": "2027-01-20T08:00:00",
                "end": "2027-01-20T10:00:00",
                "reason": {"de": "Schulung"},
                "public": False,
            },
        ],
        holidays={"country": "DE", "subdivision": "BE"},
        facilities={"step_free": True, "note": {"de": "Aufzug am Eingang B"}},
        address="Platz 1, 10115 Berlin",
        walk_in_cutoff_minutes=30,
    )
    config.services[0].bring.update(de="Ausweis", en="ID card")
    config.services[1].fee_eur = 46.1
    config.services[1].keywords.update(de=["Pass"])
    config.bundles.append(BundleConfig(slug="umzug", name={"de": "Umzug", "en": "Moving house"}, services=["a", "b"]))
    return config
