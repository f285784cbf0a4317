"""A simulated month of the waiting list (issue 14), in process, by an injected clock (no sleeps, no HTTP).

    .venv/bin/python -m bench.waitlist_month [--quick] [--wishes N] [--db sqlite|postgres] [--seed N] [--no-http]
        [--output FILE]

Two offices of one counter each ("nord" first come first served, "sued" by lottery) with a 14-day booking window
that starts fully booked. Every evening at 20:00 the window moves by a day and the real sweep job offers the new
day's slots (`--slots` of them over the month, spread over the opening days) to the waiting wishes; what nobody
waits for goes to open booking, whose citizens book the earliest free slot every hour. Meanwhile citizens
register and confirm `--wishes` wishes (some extend them before they run out, some people try more wishes than
the per-person limit allows), cancel `--cancellations` bookings, miss 10 % of their appointments, and answer
offers after a random delay: most accept, some decline, some never answer (the offer runs out and passes on),
some answer too late. All of it goes through the public service functions and jobs of rathaus/waitlist and
rathaus/booking on a fresh migrated database, in time order, from a seeded RNG (the lottery office draws its own
seeds from `secrets`, so two runs with one seed part ways after its first lottery).

At the end the invariants are checked (bench/waitlist_month_report.py), the outcome is reported (share of slots
that went to wishes, waits, offers per booking) with the CPU each step took, and, unless --no-http, the
offer-acceptance path is measured against the hello-world baseline (bench/waitlist_month_http.py).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import os
import random
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.booking_bench import SECRET, _pg_admin, _pg_url
from rathaus import migrate
from rathaus.booking import service as bookings
from rathaus.booking.deps import booking_context
from rathaus.booking.models import Booking
from rathaus.clock import ManualClock
from rathaus.errors import RathausError
from rathaus.jobs import run_unit
from rathaus.notify.models import OutboxMessage
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog
from rathaus.offices.config import Config, SpecialHoursConfig
from rathaus.packages import WIRINGS
from rathaus.queue import jobs as queue_jobs
from rathaus.runtime import Runtime, build_runtime
from rathaus.settings import Settings
from rathaus.tokens import unseal
from rathaus.waitlist import jobs as waitlist_jobs
from rathaus.waitlist import service as waitlist
from rathaus.waitlist.deps import waitlist_context
from rathaus.waitlist.models import Offer
from tests.factories import make_config

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2027, 1, 11, 5, 0, tzinfo=UTC)  # Monday 06:00 in Berlin (CET all month: no clock change)
DAYS = 30
HORIZON = 14  # days: the booking window
OFFICES = ("nord", "sued")  # first come first served, lottery
ORDERING = {"nord": "fifo", "sued": "lottery"}
RELEASE_HOUR = 19  # UTC: 20:00 in Berlin, after closing; the window then reaches past the new day's last slot
REGULAR_HOURS = ["08:00-12:00"]  # the days inside the first window, booked out before the month starts
SERVICES = (["a"], ["b"], ["a", "b"])  # b is another 15-minute service; a and b together take 30 minutes
SERVICE_WEIGHTS = (6, 3, 1)
# The steps that can make offers: freed capacity (cancellations, declines, offers run out) and the sweep.
OFFERING = ("cancel", "decline", "expire_offers", "sweep", "cool_down_end")


@dataclass(frozen=True, slots=True)
class Scale:
    wishes: int = 20_000
    slots: int = 2_000  # released over the month, as new days enter the booking window
    cancellations: int = 500
    no_show_share: float = 0.10
    seed: int = 14

    def part(self, fraction: float) -> Scale:
        """A fraction of the numbers (the same month and offices): --quick is a twentieth."""
        return replace(
            self,
            wishes=round(self.wishes * fraction),
            slots=round(self.slots * fraction),
            cancellations=round(self.cancellations * fraction),
        )


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How citizens act, as probabilities and mean delays."""

    accept: float = 0.60
    decline: float = 0.15  # the rest of the offers is never answered
    answer_hours: dict[str, float] = field(default_factory=lambda: {"email": 5.0, "sms": 0.75})  # mean delay
    sms: float = 0.2
    english: float = 0.2
    never_confirm: float = 0.05
    extend: float = 0.5  # keeps a wish that is about to run out, moving its last day to the window's end
    repeat_person: float = 0.05  # a wish by someone who wished before (the per-person limit is 2 per service)
    launch_backlog: float = 0.2  # the share of wishes registered in the first hours (the list opens)


# --- the offices ---------------------------------------------------------------------------------------------


def release_days() -> list[date]:
    """The opening days that enter the booking window during the month: one per evening's release."""
    first = (START + timedelta(days=HORIZON)).date()
    return [d for d in (first + timedelta(days=i) for i in range(DAYS)) if d.weekday() < 5]


def month_config(scale: Scale) -> Config:
    """Two offices of one counter each; the released days open exactly long enough for `scale.slots` slots."""
    office_days = [(slug, day) for day in release_days() for slug in OFFICES]
    first = [START.date() + timedelta(days=i) for i in range(HORIZON)]
    # Opening hours by date only (weekly hours would add to them): the first window's days, then the released.
    special: dict[str, list[dict[str, Any]]] = {
        slug: [{"date": day, "hours": REGULAR_HOURS} for day in first if day.weekday() < 5] for slug in OFFICES
    }
    for i, (slug, day) in enumerate(office_days):
        count = (i + 1) * scale.slots // len(office_days) - i * scale.slots // len(office_days)
        end = datetime.combine(day, clock_time(8)) + timedelta(minutes=15 * count)
        special[slug].append({"date": day, "hours": [f"08:00-{end:%H:%M}"] if count else []})
    services = [
        {"slug": "a", "name": {"de": "Dienst A", "en": "Service A"}, "duration_minutes": 15},
        {"slug": "b", "name": {"de": "Dienst B", "en": "Service B"}, "duration_minutes": 15},
    ]
    base = make_config(
        services=services,
        hours={"sun": []},  # no weekly hours
        horizon_days=HORIZON,
        lead_time_minutes=60,
    )
    template = base.offices[0]
    offices = [
        msgspec.structs.replace(
            template,
            slug=slug,
            name={"de": f"Amt {slug}", "en": f"Office {slug}"},
            special_hours=msgspec.convert(special[slug], list[SpecialHoursConfig]),
        )
        for slug in OFFICES
    ]
    return msgspec.structs.replace(base, offices=offices)


# --- the simulation ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the citizens did and what came of it, as the simulation saw it."""

    counts: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # seconds per step kind
    accepted: dict[int, int] = field(default_factory=dict)  # offer id -> booking id, from accept's answer
    cancelled: set[int] = field(default_factory=set)  # booking ids the simulation cancelled


@dataclass
class Held:
    """A booking the simulation may cancel: its code, manage token and start."""

    code: str
    token: str
    start: datetime


class Month:
    """The month's events in time order on one runtime with a manual clock."""

    def __init__(self, runtime: Runtime, clock: ManualClock, scale: Scale, behaviour: Behaviour) -> None:
        self.runtime = runtime
        self.clock = clock
        self.scale = scale
        self.how = behaviour
        self.rng = random.Random(scale.seed)  # reproducible by design: no secrets here
        self.ctx = waitlist_context(runtime)
        self.tally = Tally()
        self.held: dict[int, Held] = {}  # cancellable bookings by id
        self.persons: list[tuple[str, str | None]] = []  # (e-mail, mobile) of everyone who wished
        self._events: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        self._order = itertools.count()
        self._last_offer = 0

    def at(self, when: datetime, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self._events, (when, next(self._order), action))

    async def unit(self, kind: str, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        """One transaction, its CPU time booked under `kind`; then the offers it made get their citizens."""
        return await self.job(kind, lambda runtime: run_unit(runtime, work))

    async def job(self, kind: str, job: Callable[[Runtime], Awaitable[Any]]) -> Any:
        started = time.process_time()
        try:
            return await job(self.runtime)
        finally:
            self.tally.cpu[kind].append(time.process_time() - started)
            if kind in OFFERING:
                await self._new_offers()

    async def run(self) -> Tally:
        end = START + timedelta(days=DAYS)
        await self._book_out_first_window()
        self._plan(end)
        while self._events and self._events[0][0] <= end:
            when, _, action = heapq.heappop(self._events)
            self.clock.set(when)
            await action()
        self.clock.set(end)
        await self.job("expire_offers", waitlist_jobs.expire_offers)
        return self.tally

    # --- planning ---

    def _plan(self, end: datetime) -> None:
        span = (end - START).total_seconds()
        for i in range(self.scale.wishes):
            backlog = self.rng.random() < self.how.launch_backlog
            offset = self.rng.uniform(0, 6 * 3600) if backlog else self.rng.uniform(0, span)
            self.at(START + timedelta(seconds=offset), lambda i=i: self._wish(i))
        for _ in range(self.scale.cancellations):
            self.at(START + timedelta(seconds=self.rng.uniform(0, span)), self._cancel)
        for day in range(DAYS):
            evening = datetime.combine(START.date() + timedelta(days=day), clock_time(RELEASE_HOUR), UTC)
            self.at(evening, self._day_end)
            for hour in range(24):
                # Freed slots no wish took leave the cool-down (the job runs every 30 s in the app).
                self.at(evening + timedelta(hours=hour, minutes=15), self._end_cool_downs)
                for slug in OFFICES:
                    self.at(evening + timedelta(hours=hour, minutes=30), lambda slug=slug: self._open_booking(slug))

    # --- the office's side ---

    async def _book_out_first_window(self) -> None:
        """Every slot of the first booking window goes to open booking before the month starts."""
        ctx = booking_context(self.runtime)
        for slug in OFFICES:
            while True:
                slot = await bookings.next_free_slot(
                    self.runtime.session_maker,
                    catalog=ctx.catalog,
                    cache=ctx.cache,
                    office=(await self._snapshot()).offices[slug],
                    service_slugs=["a"],
                    now=START,
                    days=HORIZON + 1,
                )
                if slot is None:
                    break
                await self._book(slug, ["a"], slot.start, "prefill")

    async def _snapshot(self) -> Any:
        return await run_unit(self.runtime, lambda s: self.ctx.booking.catalog.get(s, now=self.clock.now()))

    async def _book(self, slug: str, services: list[str], start: datetime, kind: str) -> None:
        n = len(self.held)
        request = bookings.BookingRequest(
            office=slug, services=services, start=start, name="Open Booker", email=f"open{n}@example.org"
        )
        ctx = booking_context(self.runtime)
        now = self.clock.now()
        try:
            booked = await self.unit(
                kind, lambda s: bookings.book(s, ctx=ctx, request=request, idempotency_key=None, now=now)
            )
        except RathausError as error:
            self.tally.counts[f"{kind}_refused_{error.code}"] += 1
            return
        self.tally.counts[kind] += 1
        self.held[booked.booking.id] = Held(booked.booking.code, str(booked.manage_token), booked.booking.start_at)

    async def _open_booking(self, slug: str) -> None:
        """A citizen (or a bot) books the earliest free slot of the office, if there is one."""
        services = self.rng.choices(SERVICES, SERVICE_WEIGHTS)[0]
        ctx = booking_context(self.runtime)
        started = time.process_time()
        slot = await bookings.next_free_slot(
            self.runtime.session_maker,
            catalog=ctx.catalog,
            cache=ctx.cache,
            office=(await self._snapshot()).offices[slug],
            service_slugs=services,
            now=self.clock.now(),
            days=HORIZON + 1,
        )
        self.tally.cpu["open_availability"].append(time.process_time() - started)
        if slot is not None:
            await self._book(slug, services, slot.start, "open_booking")

    async def _end_cool_downs(self) -> None:
        await self.job("cool_down_end", waitlist_jobs.reopen_cooled_slots)

    async def _day_end(self) -> None:
        """Today's appointments: most citizens came, the rest are no-shows (the day-end job marks them); the
        wishes that ran out end; then the window moves by a day and the sweep offers the new day's slots."""
        now = self.clock.now()
        since = now - timedelta(days=1)

        async def came(session: AsyncSession) -> None:
            due = await session.scalars(
                select(Booking.id).where(
                    Booking.status == "confirmed", Booking.start_at > since, Booking.start_at < now
                )
            )
            for booking_id in due.all():
                if self.rng.random() >= self.scale.no_show_share:
                    for status in ("checked_in", "completed"):
                        await bookings.move(session, booking_id=booking_id, status=status, actor="bench", now=now)

        await self.unit("arrivals", came)
        self.tally.counts["no_shows"] += await self.job("day_end", queue_jobs.close_days)
        await self.job("expire_wishes", waitlist_jobs.expire_wishes)
        made = await self.job("sweep", waitlist_jobs.offer_free_slots)
        self.tally.counts["sweep_offers"] += made

    # --- the citizens' side ---

    def _person(self, i: int) -> tuple[str, str | None]:
        if self.persons and self.rng.random() < self.how.repeat_person:
            return self.rng.choice(self.persons)
        person = (f"citizen{i}@example.org", f"+49151{i:08d}")
        self.persons.append(person)
        return person

    async def _wish(self, i: int) -> None:
        now = self.clock.now()
        snapshot = await self._snapshot()
        offices = self.rng.choices([["nord"], ["sued"], ["nord", "sued"]], (45, 35, 20))[0]
        today = min(snapshot.offices[o].local_day(now) for o in offices)
        last = min(snapshot.offices[o].local_day(now + snapshot.offices[o].horizon) for o in offices)
        first = min(today + timedelta(days=self.rng.randint(0, 4)), last)
        email, phone = self._person(i)
        sms = self.rng.random() < self.how.sms
        request = waitlist.WishRequest(
            services=self.rng.choices(SERVICES, SERVICE_WEIGHTS)[0],
            offices=offices,
            first_day=first,
            last_day=last if self.rng.random() < 0.7 else max(first, last - timedelta(days=self.rng.randint(1, 7))),
            name=f"Citizen {i}",
            channel="sms" if sms else "email",
            email=email,
            phone=phone,
            language="en" if self.rng.random() < self.how.english else "de",
            windows=self._windows(),
        )
        try:
            made = await self.unit("register", lambda s: waitlist.register(s, ctx=self.ctx, request=request, now=now))
        except RathausError as error:
            self.tally.counts[f"wish_refused_{error.code}"] += 1
            return
        self.tally.counts["wishes"] += 1
        code, token = made.wish.code, str(made.manage_token)
        if self.rng.random() < self.how.never_confirm:
            return
        self.at(now + timedelta(minutes=self.rng.uniform(1, 30)), lambda: self._confirm(made.wish.id, code, token))

    def _windows(self) -> list[waitlist.Window]:
        kind = self.rng.random()
        if kind < 0.4:
            return []  # whenever the office is open
        days = tuple(sorted(self.rng.sample(range(5), self.rng.randint(2, 5))))
        hours = (clock_time(8), clock_time(12)) if kind < 0.7 else (clock_time(12), clock_time(20))
        return [waitlist.Window(days, *hours)]

    async def _confirm(self, wish_id: int, code: str, token: str) -> None:
        now = self.clock.now()

        async def confirm(session: AsyncSession) -> object:
            sent = await session.scalar(
                select(OutboxMessage.payload).where(OutboxMessage.dedupe_key == f"wish_verification:{wish_id}")
            )
            assert sent is not None, "the verification code was not sent"
            return await waitlist.confirm(
                session, ctx=self.ctx, code=code, token=token, verification_code=str(sent["code"]), now=now
            )

        await self.unit("confirm", confirm)
        self.tally.counts["confirmed"] += 1
        self._plan_extension(wish_id, code, token)

    def _plan_extension(self, wish_id: int, code: str, token: str) -> None:
        if self.rng.random() < self.how.extend:
            self.at(
                self.clock.now() + timedelta(days=self.rng.uniform(4, 10)), lambda: self._extend(wish_id, code, token)
            )

    async def _extend(self, wish_id: int, code: str, token: str) -> None:
        """The citizen moves the wish's last day to the end of the booking window (if it still waits)."""
        now = self.clock.now()

        async def extend(session: AsyncSession) -> object:
            wish = await waitlist.view(session, ctx=self.ctx, code=code, token=token, now=now)
            if wish.wish.status != "active":
                return None
            last = min(o.local_day(now + o.horizon) for o in wish.offices)
            change = waitlist.WishChange(last_day=last)
            return await waitlist.change(session, ctx=self.ctx, code=code, token=token, change=change, now=now)

        if await self.unit("extend", extend) is not None:
            self.tally.counts["extended"] += 1
            self._plan_extension(wish_id, code, token)

    async def _new_offers(self) -> None:
        """Offers made since the last look: each one's citizen decides now when and how to answer."""

        async def read(session: AsyncSession) -> list[tuple[int, str, datetime, datetime, Any]]:
            rows = await session.execute(
                select(Offer.id, Offer.channel, Offer.created_at, Offer.expires_at, OutboxMessage.payload)
                .join(
                    OutboxMessage, OutboxMessage.dedupe_key == "offer:" + Offer.id.cast(OutboxMessage.dedupe_key.type)
                )
                .where(Offer.id > self._last_offer)
                .order_by(Offer.id)
            )
            return list(rows.tuples().all())

        for offer_id, channel, made, expires, payload in await run_unit(self.runtime, read):
            self._last_offer = offer_id
            token = unseal(str(payload["sealed_offer_token"]), SECRET)
            assert token is not None
            self.at(expires + timedelta(seconds=30), self._expire_offers)
            choice = self.rng.random()
            if choice >= self.how.accept + self.how.decline:
                self.tally.counts["offers_ignored"] += 1
                continue
            delay = timedelta(hours=self.rng.expovariate(1 / self.how.answer_hours[channel]))
            answer = self._accept if choice < self.how.accept else self._decline
            self.at(made + delay, lambda o=offer_id, t=token, a=answer: a(o, t))

    async def _expire_offers(self) -> None:
        """The job that passes offers nobody answered on (every 30 s in production: here when one is due)."""
        self.tally.counts["offers_expired_by_job"] += await self.job("expire_offers", waitlist_jobs.expire_offers)

    async def _accept(self, offer_id: int, token: str) -> None:
        now = self.clock.now()
        try:
            found = await self.unit("accept", lambda s: waitlist.accept(s, ctx=self.ctx, token=token, now=now))
        except RathausError as error:
            self.tally.counts[f"accept_refused_{error.code}"] += 1
            return
        booking = found.booking
        assert booking is not None and booking.manage_token is not None
        self.tally.counts["accepted"] += 1
        self.tally.accepted[offer_id] = booking.booking.id
        self.held[booking.booking.id] = Held(booking.booking.code, booking.manage_token, booking.booking.start_at)

    async def _decline(self, offer_id: int, token: str) -> None:
        now = self.clock.now()
        try:
            await self.unit("decline", lambda s: waitlist.decline(s, ctx=self.ctx, token=token, now=now))
        except RathausError as error:
            self.tally.counts[f"decline_refused_{error.code}"] += 1
            return
        self.tally.counts["declined"] += 1

    async def _cancel(self) -> None:
        """A citizen cancels an appointment still ahead (one of the bookings the simulation knows)."""
        now = self.clock.now()
        ahead = [
            i for i, h in self.held.items() if h.start > now + timedelta(hours=2) and i not in self.tally.cancelled
        ]
        if not ahead:
            self.tally.counts["cancel_nothing_ahead"] += 1
            return
        booking_id = self.rng.choice(sorted(ahead))
        held = self.held[booking_id]
        ctx = booking_context(self.runtime)
        try:
            await self.unit("cancel", lambda s: bookings.cancel(s, ctx=ctx, code=held.code, token=held.token, now=now))
        except RathausError as error:
            self.tally.counts[f"cancel_refused_{error.code}"] += 1
            return
        self.tally.counts["cancelled"] += 1
        self.tally.cancelled.add(booking_id)


# --- the database and the run --------------------------------------------------------------------------------


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'month.db'}"
        return
    name = f"rathaus_month_{os.getpid()}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def prepared(url: str, scale: Scale) -> tuple[Runtime, ManualClock]:
    """A migrated database with the month's offices, and a runtime whose clock stands at the month's start."""
    settings = Settings(
        database_url=url,
        environment="test",
        secret_key=SECRET,
        scheduler=False,
        # The simulation jumps hours at a time: days' slots are recomputed when bookings change them anyway.
        availability_cache_seconds=30 * 86400.0,
    ).validated()
    clock = ManualClock(START)
    runtime = build_runtime(settings, WIRINGS, clock=clock)
    await migrate.upgrade(runtime.engine)
    catalog = runtime.get(Catalog)
    config = month_config(scale)
    await run_unit(runtime, lambda s: load_config(s, catalog=catalog, config=config, now=START))

    async def orderings(session: AsyncSession) -> None:
        snapshot = await catalog.get(session, now=START)
        for slug, ordering in ORDERING.items():
            await waitlist.set_ordering(session, office_id=snapshot.offices[slug].id, ordering=ordering)

    await run_unit(runtime, orderings)
    return runtime, clock


async def simulate(url: str, scale: Scale, behaviour: Behaviour | None = None) -> dict[str, Any]:
    """Run the month on a fresh database at `url`; returns the report (problems found are in it)."""
    from bench.waitlist_month_report import report  # the report reads what the simulation left

    runtime, clock = await prepared(url, scale)
    try:
        wall, cpu = time.monotonic(), time.process_time()
        tally = await Month(runtime, clock, scale, behaviour or Behaviour()).run()
        timing = {"wall_s": round(time.monotonic() - wall, 1), "cpu_s": round(time.process_time() - cpu, 1)}
        return await report(runtime, scale, tally, timing, released=release_days())
    finally:
        await runtime.dispose()


def _commit() -> str:
    answer = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return answer.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a twentieth of the numbers (--fraction 0.05)")
    parser.add_argument("--fraction", type=float, default=1.0, help="of the full month's numbers")
    parser.add_argument("--wishes", type=int, help="wishes over the month, instead of the fraction of the full number")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=Scale().seed)
    parser.add_argument("--no-http", action="store_true", help="skip the acceptance path's latency")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    scale = Scale(seed=args.seed).part(0.05 if args.quick else args.fraction)
    if args.wishes is not None:
        scale = replace(scale, wishes=args.wishes)
    result: dict[str, Any] = {"commit": _commit(), "load_average_at_start": os.getloadavg(), "db": args.db}
    with tempfile.TemporaryDirectory() as folder, database(args.db, Path(folder)) as url:
        result["month"] = asyncio.run(simulate(url, scale))
    print(json.dumps(result["month"], indent=1))
    if not args.no_http:
        from bench.waitlist_month_http import measure

        result["acceptance"] = measure(quick=args.quick)
    result["load_average_at_end"] = os.getloadavg()
    output = args.output or (ROOT / "bench" / "results" / f"waitlist_month{'_quick' if args.quick else ''}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1, default=str))
    return 1 if result["month"]["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
