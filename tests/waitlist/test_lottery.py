"""A lottery release: one draw for each wish registered before it, reproducible from the recorded seed."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from rathaus.waitlist import service
from rathaus.waitlist.models import Draw, Release, Wish
from tests.conftest import Harness
from tests.factories import make_config
from tests.staff_helpers import staff_token
from tests.waitlist.helpers import book, cancel, offers, register

pytestmark = pytest.mark.anyio


async def test_a_lottery_draws_once_per_wish_registered_before_the_release_and_can_be_replayed(
    harness: Harness,
) -> None:
    await harness.load(make_config())
    token = await staff_token(harness, "leitung")
    chosen = await harness.client.put(
        "/api/v1/offices/amt/waitlist-policy",
        json={"ordering": "lottery"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert chosen.status_code == 200 and chosen.json() == {"ordering": "lottery"}
    taken = await book(harness, email="holder@example.org")
    wishes = []
    for i in range(6):
        wishes.append(await register(harness, email=f"w{i}@example.org"))
        harness.clock.advance(timedelta(seconds=1))

    await cancel(harness, taken)
    late = await register(harness, email="late@example.org")  # registered after the release: no draw

    async with harness.session() as s:
        [release] = (await s.scalars(select(Release))).all()
        draws = (await s.scalars(select(Draw).where(Draw.release_id == release.id).order_by(Draw.rank))).all()
        codes = {w.id: w.code for w in (await s.scalars(select(Wish))).all()}
    assert release.ordering == "lottery" and release.seed is not None
    drawn = [codes[d.wish_id] for d in draws]
    assert Counter(drawn) == Counter(w["code"] for w in wishes)  # each eligible wish exactly once
    assert late["code"] not in drawn
    assert [d.wish_id for d in draws] == service.lottery_order(release.seed, [d.wish_id for d in draws])
    [offer] = await offers(harness)
    assert offer.wish_id == draws[0].wish_id  # the first drawn, not the first registered


async def test_the_same_seed_gives_the_same_order_and_another_seed_may_not() -> None:
    ids = list(range(1, 101))
    assert service.lottery_order(42, ids) == service.lottery_order(42, reversed(ids))
    assert sorted(service.lottery_order(42, ids)) == ids
    assert service.lottery_order(42, ids) != service.lottery_order(43, ids)


async def test_the_policy_needs_an_admin_and_a_known_ordering(harness: Harness) -> None:
    await harness.load(make_config())
    desk = await staff_token(harness, "tresen", role="desk")
    refused = await harness.client.put(
        "/api/v1/offices/amt/waitlist-policy", json={"ordering": "lottery"}, headers={"Authorization": f"Bearer {desk}"}
    )
    assert refused.status_code == 403
    seen = await harness.client.get("/api/v1/offices/amt/waitlist-policy", headers={"Authorization": f"Bearer {desk}"})
    assert seen.json() == {"ordering": "fifo"}
    bad = await harness.client.put(
        "/api/v1/offices/amt/waitlist-policy", json={"ordering": "auction"}, headers={"Authorization": f"Bearer {desk}"}
    )
    assert bad.status_code == 400
