"""Offers hold appointments on site: a service given here only by phone or video is never offered to a wish, even
where its counter also serves on site."""

import pytest

from rathaus.offices.config import Config
from tests.conftest import Harness
from tests.factories import make_config
from tests.waitlist.helpers import book, cancel, offers, register, wish_body

pytestmark = pytest.mark.anyio

SERVICES = [
    {"slug": "a", "name": {"de": "Dienst A", "en": "Service A"}, "duration_minutes": 15},
    {"slug": "b", "name": {"de": "Beratung", "en": "Advice"}, "duration_minutes": 15, "modes": ["on_site", "phone"]},
]
# One counter for both, on site and by phone.
COUNTERS = [{"name": "Counter 1", "services": ["a", "b"], "modes": ["on_site", "phone"]}]


def config(advice_modes: list[str]) -> Config:
    services = [SERVICES[0], {**SERVICES[1], "modes": advice_modes}]
    return make_config(services=services, counters=COUNTERS)


async def test_a_wish_for_a_service_given_only_by_phone_is_refused(harness: Harness) -> None:
    await harness.load(config(["phone"]))
    refused = await harness.client.post("/api/v1/wishes", json=wish_body(services=["b"]))
    assert refused.status_code == 422 and refused.json()["code"] == "wish_not_offered"


async def test_a_wish_gets_no_offer_once_its_service_is_given_only_by_phone(harness: Harness) -> None:
    await harness.load(config(["on_site", "phone"]))
    taken = await book(harness, services=["b"], email="holder@example.org")
    await register(harness, services=["b"], email="wartend@example.org")
    await harness.load(config(["phone"]))
    await cancel(harness, taken)
    assert await offers(harness) == []
