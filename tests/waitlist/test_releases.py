"""Published releases: a day opens at its instant, after its offers to waiting wishes, exactly once."""

import asyncio
import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from rathaus.jobs import run_unit
from rathaus.offices.models import OfficeRelease
from rathaus.offices.rules import ReleaseSchedule
from rathaus.waitlist import service
from rathaus.waitlist._releases import release
from rathaus.waitlist.deps import waitlist_context
from rathaus.waitlist.jobs import publish_releases
from rathaus.waitlist.models import Draw, Release, Wish
from tests.conftest import Harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token
from tests.waitlist.helpers import free_starts, offers, register

pytestmark = pytest.mark.anyio

BERLIN = ZoneInfo("Europe/Berlin")
RELEASES = {"at": "08:00", "days_ahead": 14}  # every weekday at 08:00, the day two weeks on
RELEASED = "2027-01-25"  # Monday 11 January's release (DEFAULT_NOW is that Monday, 07:00 in Berlin)
AT_EIGHT = datetime(2027, 1, 11, 7, 0, tzinfo=UTC)


def wish_on(day: str, **extra: object) -> dict[str, object]:
    return {"first_day": day, "last_day": day, **extra}


async def releases_made(harness: Harness) -> list[tuple[datetime, date]]:
    async with harness.session() as s:
        rows = await s.execute(select(OfficeRelease.at, OfficeRelease.day).order_by(OfficeRelease.at))
        return [(at, day) for at, day in rows.tuples()]


async def test_a_released_day_stays_hidden_until_its_wishes_got_their_offers(harness: Harness) -> None:
    await harness.load(make_config(releases=RELEASES))
    # The schedule starts with its latest release made (Friday's): through Friday 22 January.
    assert [day for _, day in await releases_made(harness)] == [date(2027, 1, 22)]
    assert await publish_releases(harness.runtime) == 0
    assert await free_starts(harness, "2027-01-22") != []
    wish = await register(harness, **wish_on(RELEASED, email="wartend@example.org"))

    harness.clock.set(AT_EIGHT + timedelta(seconds=30))  # the clock is past 08:00, the release not made yet
    assert await free_starts(harness, RELEASED) == []
    refused = await harness.client.post("/api/v1/bookings", json=booking_body(f"{RELEASED}T10:00:00+01:00"))
    assert refused.status_code == 422 and "noch nicht freigegeben" in refused.json()["detail"]

    assert await publish_releases(harness.runtime) == 1
    [offer] = await offers(harness)
    assert offer.status == "open" and offer.start_at == datetime(2027, 1, 25, 8, 0, tzinfo=UTC)
    visible = await free_starts(harness, RELEASED)
    assert visible and f"{RELEASED}T09:00:00+01:00" not in visible  # open booking sees the rest, not the offer
    booked = await harness.client.post("/api/v1/bookings", json=booking_body(f"{RELEASED}T10:00:00+01:00"))
    assert booked.status_code == 201, booked.text
    seen = (await harness.client.get(f"/api/v1/wishes/{wish['code']}", headers=_auth(wish))).json()
    assert seen["status"] == "active"

    assert await publish_releases(harness.runtime) == 0  # a second run (a restart) makes nothing twice
    assert [at for at, _ in await releases_made(harness)] == [datetime(2027, 1, 8, 7, 0, tzinfo=UTC), AT_EIGHT]
    assert len(await offers(harness)) == 1


async def test_two_instances_releasing_at_once_make_the_release_once(harness: Harness) -> None:
    await harness.load(make_config(releases=RELEASES))
    await publish_releases(harness.runtime)
    for i in range(3):
        await register(harness, **wish_on(RELEASED, email=f"w{i}@example.org"))
    harness.clock.set(AT_EIGHT)
    ctx = waitlist_context(harness.runtime)
    now = harness.clock.now()
    work = functools.partial(release, ctx=ctx, office_id=1, at=AT_EIGHT, now=now)

    answers = await asyncio.gather(run_unit(harness.runtime, work), run_unit(harness.runtime, work))

    assert sorted(answers, key=str) == [3, None]  # one made three offers, the other found it made
    async with harness.session() as s:
        assert await s.scalar(select(func.count()).select_from(Release).where(Release.cause == "scheduled")) == 1
    assert len(await offers(harness)) == 3
    assert len(await releases_made(harness)) == 2


async def test_a_pause_misses_no_release_and_makes_each_once(harness: Harness) -> None:
    await harness.load(make_config(releases=RELEASES))
    await publish_releases(harness.runtime)
    harness.clock.set(datetime(2027, 1, 14, 12, 0, tzinfo=UTC))  # Monday to Thursday without a run
    await publish_releases(harness.runtime)
    made = await releases_made(harness)
    assert [day for _, day in made] == [date(2027, 1, d) for d in (22, 25, 26, 27, 28)]
    assert await free_starts(harness, "2027-01-28") != []
    assert await free_starts(harness, "2027-01-29") == []


async def test_a_lottery_release_at_its_instant_draws_the_wishes_registered_before_it(harness: Harness) -> None:
    await harness.load(make_config(releases=RELEASES))
    token = await staff_token(harness, "leitung")
    chosen = await harness.client.put(
        "/api/v1/offices/amt/waitlist-policy", json={"ordering": "lottery"}, headers=_bearer(token)
    )
    assert chosen.status_code == 200
    await publish_releases(harness.runtime)
    for i in range(5):
        await register(harness, **wish_on(RELEASED, email=f"w{i}@example.org"))
        harness.clock.advance(timedelta(seconds=1))
    harness.clock.set(AT_EIGHT + timedelta(seconds=10))
    late = await register(harness, **wish_on(RELEASED, email="late@example.org"))  # after 08:00: no draw
    harness.clock.set(AT_EIGHT + timedelta(seconds=20))

    await publish_releases(harness.runtime)

    async with harness.session() as s:
        [made] = (await s.scalars(select(Release).where(Release.cause == "scheduled"))).all()
        draws = (await s.scalars(select(Draw).where(Draw.release_id == made.id).order_by(Draw.rank))).all()
        late_id = await s.scalar(select(Wish.id).where(Wish.code == late["code"]))
    assert made.at == AT_EIGHT and made.ordering == "lottery" and made.seed is not None
    drawn = [d.wish_id for d in draws]
    assert len(set(drawn)) == 5 and late_id not in drawn
    assert drawn == service.lottery_order(made.seed, drawn)  # replayed from the recorded seed
    # The wish's window holds four slots: the first four drawn get them in the order drawn, earliest first.
    given = sorted(await offers(harness), key=lambda o: o.start_at)
    assert [o.wish_id for o in given] == drawn[:4]


async def test_a_release_at_eight_stays_at_eight_local_time_across_the_clock_change() -> None:
    schedule = ReleaseSchedule(frozenset(range(5)), time(8), 14)
    spring = schedule.instants(
        BERLIN, after=datetime(2027, 3, 25, 12, tzinfo=UTC), until=datetime(2027, 3, 30, 12, tzinfo=UTC)
    )
    assert spring == [
        datetime(2027, 3, 26, 7, 0, tzinfo=UTC),  # Friday, CET
        datetime(2027, 3, 29, 6, 0, tzinfo=UTC),  # Monday after the change, CEST
        datetime(2027, 3, 30, 6, 0, tzinfo=UTC),
    ]
    assert schedule.day_of(spring[1], BERLIN) == date(2027, 4, 12)
    autumn = schedule.instants(
        BERLIN, after=datetime(2027, 10, 29, 12, tzinfo=UTC), until=datetime(2027, 11, 1, 12, tzinfo=UTC)
    )
    assert autumn == [datetime(2027, 11, 1, 7, 0, tzinfo=UTC)]
    saturday = datetime(2027, 3, 27, 9, tzinfo=UTC)
    assert schedule.instants(BERLIN, after=saturday, until=saturday + timedelta(days=8))[0] == spring[1]


async def test_the_release_after_the_spring_clock_change_happens_at_eight_in_berlin(harness: Harness) -> None:
    harness.clock.set(datetime(2027, 3, 26, 12, 0, tzinfo=UTC))
    await harness.load(make_config(releases=RELEASES))
    await publish_releases(harness.runtime)  # Friday's: through Friday 9 April
    harness.clock.set(datetime(2027, 3, 29, 5, 59, tzinfo=UTC))  # 07:59 CEST
    await publish_releases(harness.runtime)
    assert await free_starts(harness, "2027-04-12") == []
    harness.clock.set(datetime(2027, 3, 29, 6, 0, tzinfo=UTC))  # 08:00 CEST
    await publish_releases(harness.runtime)
    assert (await releases_made(harness))[-1] == (datetime(2027, 3, 29, 6, 0, tzinfo=UTC), date(2027, 4, 12))
    assert await free_starts(harness, "2027-04-12") != []


def _auth(answer: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer['manage_token']}"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
