"""Offers under concurrency: cancellations, answers, expiries and sweeps at once never let two offers (or an
offer and a booking) hold one slot, and every offer is answered once. Over real sockets, on SQLite and PostgreSQL."""

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.waitlist import service
from rathaus.waitlist.deps import waitlist_context
from rathaus.waitlist.models import Offer
from tests.altcha_client import SolvingHttpClient
from tests.conftest import Harness, LiveServer
from tests.factories import booking_body, make_config
from tests.waitlist.helpers import DAY, offer_token, register

pytestmark = pytest.mark.anyio
MORNING = [{"weekdays": ["mon"], "start": "08:00:00", "end": "12:00:00"}]


async def _jobs(harness: Harness, *, sweeps: int, expiries: int) -> None:
    """Sweeps and expiry runs at once, each its own transaction (as on several instances)."""
    ctx = waitlist_context(harness.runtime)
    now = harness.clock.now()
    runs = [lambda s: service.sweep(s, ctx=ctx, now=now)] * sweeps
    runs += [lambda s: service.expire_offers(s, ctx=ctx, now=now)] * expiries
    await asyncio.gather(*(run_unit(harness.runtime, run) for run in runs))


async def _check(harness: Harness, client: httpx.AsyncClient) -> list[Offer]:
    """The invariants: one holder per slot, answers reflected in the bookings, held slots never open."""
    async with harness.session() as s:
        all_offers = list((await s.scalars(select(Offer).order_by(Offer.id))).all())
        bookings = {b.id: b for b in (await s.scalars(select(Booking))).all()}
    open_offers = [o for o in all_offers if o.status == "open"]
    assert len({o.wish_id for o in open_offers}) == len(open_offers)  # one open offer per wish
    spans = sorted((o.start_at, o.end_at) for o in open_offers)
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans)), "two offers hold one slot"
    for offer in all_offers:
        status = bookings[offer.booking_id].status
        expected = {"open": {"pending"}, "accepted": {"confirmed"}}.get(offer.status, {"expired", "cancelled"})
        assert status in expected, (offer.status, status)
    active = sorted(
        (b.start_at, b.end_at) for b in bookings.values() if b.status in ("pending", "confirmed")
    )  # one counter: no two active bookings (held ones included) overlap
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(active)), "double booking"
    free = (await client.get(f"/api/v1/offices/amt/availability?services=a&date={DAY}")).json()["slots"]
    free_starts = {slot["start"] for slot in free}
    for offer in open_offers:
        shown = {datetime.fromisoformat(start) for start in free_starts}
        assert offer.start_at not in shown, "a held slot shows in open availability"
    return all_offers


async def test_concurrent_cancellations_answers_expiries_and_sweeps_never_double_offer(
    harness: Harness, db_url: str, clock: ManualClock, live_server_factory: Callable[..., LiveServer]
) -> None:
    await harness.load(make_config())
    server = live_server_factory(db_url, clock, db_pool_size=10, availability_cache_seconds=0.0)
    limits = httpx.Limits(max_connections=40, max_keepalive_connections=0)
    async with SolvingHttpClient(base_url=server.url, limits=limits, timeout=120) as client:
        starts = [f"{DAY}T{9 + i // 4:02d}:{15 * (i % 4):02d}:00+01:00" for i in range(8)]
        taken: list[dict[str, Any]] = []
        for i, start in enumerate(starts):
            answer = await client.post("/api/v1/bookings", json=booking_body(start, email=f"b{i}@example.org"))
            assert answer.status_code == 201, answer.text
            taken.append(answer.json())
        for i in range(12):
            await register(harness, email=f"w{i}@example.org", windows=MORNING)

        async def cancel(booking: dict[str, Any]) -> int:
            headers = {"Authorization": f"Bearer {booking['manage_token']}"}
            return (await client.post(f"/api/v1/bookings/{booking['code']}/cancel", headers=headers)).status_code

        # 1: half the bookings cancelled while sweeps and expiry runs go on.
        statuses = await asyncio.gather(*(cancel(b) for b in taken[:4]), _jobs(harness, sweeps=3, expiries=2))
        assert statuses[:4] == [200] * 4
        made = await _check(harness, client)
        assert any(o.status == "open" for o in made)

        # 2: every open offer accepted twice and declined once at the same moment, while the other bookings
        # are cancelled and the jobs run again.
        answers: list[tuple[int, str, int]] = []

        async def answer(offer_id: int, token: str, verb: str) -> None:
            reply = await client.post(f"/api/v1/offers/{token}/{verb}")
            answers.append((offer_id, verb, reply.status_code))

        tokens = {o.id: await offer_token(harness, o.id) for o in made if o.status == "open"}
        orders = itertools.cycle([("accept", "decline", "accept"), ("decline", "accept", "accept")])
        storms = [answer(i, t, verb) for (i, t), verbs in zip(tokens.items(), orders, strict=False) for verb in verbs]
        results = await asyncio.gather(*storms, *(cancel(b) for b in taken[4:]), _jobs(harness, sweeps=2, expiries=2))
        assert results[len(storms) : len(storms) + 4] == [200] * 4
        per_offer = Counter(offer_id for offer_id, _, status in answers if status == 200)
        assert per_offer == Counter(dict.fromkeys(tokens, 1))  # exactly one answer wins per offer
        assert {status for _, _, status in answers} <= {200, 409}
        await _check(harness, client)

        # 3: the clock passes every offer's expiry; expiry runs on several "instances" race each other and
        # late answers, and pass the slots on.
        await _jobs(harness, sweeps=1, expiries=0)  # wishes that declined get other slots
        due = await _open(harness)
        assert due
        harness.clock.advance(max(o.expires_at for o in due) - harness.clock.now())
        late = {o.id: await offer_token(harness, o.id) for o in due}
        late_answers = [client.post(f"/api/v1/offers/{t}/accept") for t in late.values()]
        replies = await asyncio.gather(*late_answers, _jobs(harness, sweeps=1, expiries=3))
        assert {r.status_code for r in replies[: len(late_answers)]} <= {409}
        after = await _check(harness, client)
        assert all(o.status != "open" or o.expires_at > harness.clock.now() for o in after)
        assert {o.status for o in after if o.id in late} == {"expired"}


async def _open(harness: Harness) -> list[Offer]:
    async with harness.session() as s:
        return list((await s.scalars(select(Offer).where(Offer.status == "open"))).all())
