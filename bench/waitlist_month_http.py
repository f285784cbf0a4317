"""The offer-acceptance path against the hello-world baseline, over HTTP, in interleaved rounds.

What a citizen does with an offer: opens the link (`GET /offers/{token}`, the offer's page) and presses accept
(`POST /offers/{token}/accept` with the page's CSRF token: the held booking is confirmed, the wish fulfilled,
a 303 to the booking's page). Measured beside the bare Litestar hello-world (bench/hello.py) and the app's
`/health`, under wrk (-c64 for throughput, -c1 for the latency of one citizen alone), every endpoint once per
round in alternating order, with the server CPU per request (bench/BENCHMARKS.md, Method).

The database: a fresh SQLite file with one office of eight counters, `offers` confirmed wishes written straight
into the tables (as bench/waitlist_bench.py does), and the real sweep offering each of them a slot; the tokens
come from the offer messages in the outbox. Every accept POST uses a fresh token (an accepted offer answers 409
afterwards, counted apart). The app's clock is frozen at the sweep's time (no offer runs out meanwhile).
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench import loadgen
from bench.booking_bench import (
    SECRET,
    Job,
    Plan,
    ServerCpu,
    median_of,
    paired,
    run_rounds,
    start_server,
    stop_server,
    wait_ready,
)
from bench.page_bench import BROWSER, bare_hello
from bench.waitlist_bench import NOW, _wishes
from rathaus import migrate
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.notify.models import OutboxMessage
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog
from rathaus.packages import WIRINGS
from rathaus.runtime import build_runtime
from rathaus.settings import Settings
from rathaus.tokens import unseal
from rathaus.waitlist.jobs import offer_free_slots
from tests.factories import make_config

COUNTERS = 8


async def prepare(url: str, offers: int) -> list[str]:
    """A database where `offers` open offers wait for an answer; returns their link tokens."""
    settings = Settings(database_url=url, environment="test", secret_key=SECRET, scheduler=False).validated()
    runtime = build_runtime(settings, WIRINGS, clock=ManualClock(NOW))
    try:
        await migrate.upgrade(runtime.engine)
        config = make_config(
            counters=[{"name": f"Counter {i}", "services": ["a", "b"]} for i in range(COUNTERS)],
            hours={d: ["08:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            horizon_days=14,
        )
        catalog = runtime.get(Catalog)
        await run_unit(runtime, lambda s: load_config(s, catalog=catalog, config=config, now=NOW))
        await _wishes(runtime, offers)
        made = await offer_free_slots(runtime)
        assert made == offers, f"the sweep made {made} offers for {offers} wishes"
        payloads = await run_unit(
            runtime,
            lambda s: s.scalars(
                select(OutboxMessage.payload).where(OutboxMessage.kind == "offer").order_by(OutboxMessage.id)
            ),
        )
        tokens = [unseal(str(p["sealed_offer_token"]), SECRET) for p in payloads.all()]
    finally:
        await runtime.dispose()
    assert all(tokens)
    return [str(t) for t in tokens]


def _csrf(base: str, token: str) -> tuple[str, str]:
    """The CSRF cookie a browser gets with the offer's page, and the token its accept form carries."""
    page = httpx.get(f"{base}/offers/{token}", timeout=10)
    page.raise_for_status()
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found is not None, "the offer page has no accept form"
    return page.cookies["rathaus_csrf"], found.group(1)


def measure(*, quick: bool, engine: str | None = None) -> dict[str, Any]:
    """The acceptance path's numbers: medians, ratios to /health and the hello-world, per round, server CPU."""
    plan = (
        Plan(rounds=1, duration=1, connections=8, threads=1, offices=1, bookings=0, warmup=0)
        if quick
        else Plan(rounds=3, duration=5, connections=64, threads=2, offices=1, bookings=0, warmup=1)
    )
    engine = engine or ("wrk" if loadgen.have_wrk() else "python")
    started = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = f"sqlite+aiosqlite:///{tmp / 'offers.db'}"
        tokens = asyncio.run(prepare(url, 200 if quick else 3000))
        page_token, first, *accept_tokens = tokens
        app = start_server("offers", url, tmp, slot_cache=True, extra={"BENCH_NOW": NOW.isoformat()})
        try:
            wait_ready(app)
            with bare_hello(tmp) as hello:
                cookie, form_token = _csrf(app.url, page_token)
                headers = (("Cookie", f"rathaus_csrf={cookie}"),)
                form = f"_csrf_token={form_token}"
                # One acceptance by hand: the path works and answers with the redirect to the booking.
                answer = httpx.post(
                    f"{app.url}/offers/{first}/accept",
                    content=form,
                    timeout=10,
                    headers={"Content-Type": "application/x-www-form-urlencoded", **dict(headers)},
                )
                assert answer.status_code == 303, (answer.status_code, answer.text[:300])
                runs = _rounds(plan, engine, app.url, hello.url, page_token, accept_tokens, headers, form, app, hello)
        finally:
            stop_server(app)
    return _summary(runs, plan, started, len(accept_tokens))


def _rounds(
    plan: Plan,
    engine: str,
    base: str,
    hello_base: str,
    page_token: str,
    accept_tokens: list[str],
    headers: tuple[tuple[str, str], ...],
    form: str,
    app: Any,
    hello: Any,
) -> dict[str, Any]:
    cpu = {"app": ServerCpu(app.process.pid), "hello": ServerCpu(hello.process.pid)}
    used = 0  # accept tokens taken by earlier runs: every run starts on fresh ones

    def after_accept(meter: ServerCpu, connections: int) -> Callable[[loadgen.Run], None]:
        def done(run: loadgen.Run) -> None:
            nonlocal used
            # Requests still in flight when the run stopped are not counted but may have used their tokens.
            used += run.requests + connections
            meter.stop(run)

        return done

    accept_paths = tuple(f"/offers/{t}/accept" for t in accept_tokens)
    targets: dict[str, tuple[str, Callable[[], loadgen.Target]]] = {
        "hello": ("hello", lambda: loadgen.Target(hello_base, "get", "/health", headers=BROWSER)),
        "health": ("app", lambda: loadgen.Target(base, "get", "/health", headers=BROWSER)),
        "offer_page": ("app", lambda: loadgen.Target(base, "get", f"/offers/{page_token}", headers=BROWSER)),
        "accept": (
            "app",
            lambda: loadgen.Target(base, "posts", paths=accept_paths, form=form, headers=headers, offset=used),
        ),
    }
    jobs = []
    for connections, threads, suffix in ((plan.connections, plan.threads, ""), (1, 1, "_c1")):
        for label, (server, target) in targets.items():
            meter = cpu[server]
            jobs.append(
                Job(
                    label + suffix,
                    lambda label=label + suffix, target=target, meter=meter: meter.start(label, target()),
                    connections,
                    threads,
                    after=after_accept(meter, connections) if label == "accept" else meter.stop,
                )
            )
    runs: dict[str, list[loadgen.Run]] = {}
    run_rounds(jobs, plan, runs, engine=engine)
    cpu_us = {
        label: round(statistics.median(values[-plan.rounds :]), 1)
        for meter in cpu.values()
        for label, values in meter.per_request_us.items()
    }
    return {"runs": runs, "cpu_us": cpu_us, "accept_tokens_used": used}


def _summary(measured: dict[str, Any], plan: Plan, started: tuple[float, ...], tokens: int) -> dict[str, Any]:
    runs: dict[str, list[loadgen.Run]] = measured["runs"]
    medians = {label: median_of(r) for label, r in runs.items()}
    ratios: dict[str, float] = {}
    per_round: dict[str, list[float]] = {}
    for suffix in ("", "_c1"):
        for base in ("health", "hello"):
            for page in ("offer_page", "accept", *(("health",) if base == "hello" else ())):
                a, b = page + suffix, base + suffix
                ratios[f"{a}/{b} req/s"] = round(medians[a]["rps"] / medians[b]["rps"], 3)
                ratios[f"{a}/{b} p50"] = round(medians[a]["p50_ms"] / medians[b]["p50_ms"], 2)
                per_round[f"{a}/{b} req/s"] = paired(runs, a, b, "rps")
    cpu_us = measured["cpu_us"]
    accept_runs = [r for label in ("accept", "accept_c1") for r in runs[label]]
    return {
        "plan": {"rounds": plan.rounds, "seconds": plan.duration, "connections": plan.connections},
        "load_average_at_start": started,
        "load_average_at_end": os.getloadavg(),
        "medians": medians,
        "ratios": ratios,
        "per_round": per_round,
        "server_cpu_us_per_request": cpu_us,
        "cpu_ratios": {
            f"{page}/{base}": round(cpu_us[page] / cpu_us[base], 2)
            for page in ("offer_page", "accept", "health")
            for base in ("health", "hello")
            if page != base
        },
        # Accepting answers 303 (counted as "other"); a reused token would answer 409 (none should).
        "accepted": sum(r.other - (r.non_2xx - r.conflicts) for r in accept_runs),
        "accept_conflicts": sum(r.conflicts for r in accept_runs),
        "accept_tokens": tokens,
        "accept_tokens_used": measured["accept_tokens_used"],
    }
