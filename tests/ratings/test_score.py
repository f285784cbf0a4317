"""The office page's public figure: the last 90 days' average and count, read at most every five minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.jobs import run_unit
from rathaus.ratings import service as ratings
from tests.conftest import Harness
from tests.factories import make_config

pytestmark = pytest.mark.anyio


async def rated(h: Harness, visit: str, stars: int, *, days_ago: int = 0) -> None:
    now = h.clock.now()
    day = now.date() - timedelta(days=days_ago)

    async def work(session: AsyncSession) -> None:
        token = await ratings.invite(
            session,
            visit=visit,
            office_id=1,
            service_ids=[1],
            mode="on_site",
            day=day,
            now=now,
        )
        assert token is not None
        await ratings.rate(session, token=token, stars=stars, comment="", now=now)

    await run_unit(h.runtime, work)


async def score_text(h: Harness) -> str:
    page = await h.client.get("/offices/amt")
    assert page.status_code == 200
    start = page.text.index('id="rating-score">') + len('id="rating-score">')
    return page.text[start : page.text.index("</p>", start)]


async def test_the_office_page_shows_the_last_90_days_and_is_at_most_five_minutes_old(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    await h.load(make_config())
    assert await score_text(h) == "In den letzten 90 Tagen noch keine Bewertungen."
    await rated(h, "ticket:1", 5)
    await rated(h, "ticket:2", 2, days_ago=90)  # outside the 90 days
    h.clock.advance(timedelta(minutes=5))
    assert await score_text(h) == "Im Durchschnitt 5,0 von 5 Sternen, aus 1 Bewertung in den letzten 90 Tagen"
    await rated(h, "ticket:3", 4)
    assert "aus 1 Bewertung" in await score_text(h)  # the kept figure
    h.clock.advance(timedelta(minutes=5))
    assert await score_text(h) == "Im Durchschnitt 4,5 von 5 Sternen, aus 2 Bewertungen in den letzten 90 Tagen"
