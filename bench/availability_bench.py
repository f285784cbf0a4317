"""Availability benchmark (issue 15 item 3): steady reads, reads while people book, and a fresh server's first
seconds.

    .venv/bin/python -m bench.availability_bench [--db sqlite|postgres] [--quick] [--loadgen wrk|python] [--output F]

A fresh database with the demo Bürgeramt "mitte" and its clones (bench/population.py), the real app under uvicorn
(bench/server.py) and beside it a bare Litestar hello-world (bench/hello.py); load from bench/loadgen.py. Each
round measures a day of its own ("moving to Berlin" bundle, 35 min):

- steady: hello-world /health, the app's /health and the availability of the day, interleaved;
- burst: availability of the day while a 5 s booking burst books that office (the day's starts first, three
  times over so that every counter fills, then later days: what release time looks like), then availability in
  the 5 s right after it;
- fresh: a new server on the same database, loaded with availability from the moment it answers /health.

Reported: medians and per-round ratios (availability / health / hello req/s and p99; during and after / steady),
the fresh server's p99 and max, and the server's CPU per request.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.booking_bench import (
    BOOKED_SERVICE,
    RESULTS,
    Plan,
    Server,
    ServerCpu,
    availability_path,
    booking_starts,
    create_databases,
    machine,
    median_of,
    paired,
    slot_count,
    start_server,
    stop_server,
    wait_ready,
)
from bench.page_bench import bare_hello
from bench.population import MEASURED_OFFICE
from rathaus.offices.catalog import CatalogSnapshot

STEADY = ("hello", "health", "steady")


def measured_days(snapshot: CatalogSnapshot, now: datetime, count: int) -> list[date]:
    """`count` open days without closures, from the end of the booking window backwards (one per round)."""
    office = snapshot.offices[MEASURED_OFFICE]
    today = office.local_day(now)
    found = []
    for ahead in range(office.horizon.days - 2, 1, -1):
        day = today + timedelta(days=ahead)
        intervals = office.open_intervals(day)
        if intervals and not office.closures_between(intervals[0][0], intervals[-1][1]):
            found.append(day)
    return found[:count]


def burst_starts(snapshot: CatalogSnapshot, now: datetime, day: date) -> tuple[str, ...]:
    """Every start of the booked service: the measured day's three times (one pass per bookable counter)."""
    office = snapshot.offices[MEASURED_OFFICE]
    starts = booking_starts(snapshot, now)
    on_day = [s for s in starts if office.local_day(datetime.fromisoformat(s)) == day]
    return tuple(on_day * 3 + [s for s in starts if s not in on_day])


def with_burst(measure: Callable[[], loadgen.Run], burst: Callable[[], loadgen.Run]) -> tuple[loadgen.Run, loadgen.Run]:
    """Run the booking burst in a thread while `measure` runs here; both answers."""
    found: list[loadgen.Run] = []
    thread = threading.Thread(target=lambda: found.append(burst()))
    thread.start()
    try:
        measured = measure()
    finally:
        thread.join()
    if not found:
        raise RuntimeError("the booking burst produced no result")
    return measured, found[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--quick", action="store_true", help="one short round (smoke test)")
    parser.add_argument("--loadgen", choices=["wrk", "python"], default="wrk" if loadgen.have_wrk() else "python")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    plan = (
        Plan(rounds=1, duration=1, connections=8, threads=1, offices=2, bookings=0, warmup=0)
        if args.quick
        else Plan(rounds=3, duration=5, connections=64, threads=2, offices=40, bookings=0, warmup=1)
    )
    burst_connections = 4 if args.quick else 16
    started = machine()
    now = datetime.now(UTC)
    runs: dict[str, list[loadgen.Run]] = {}
    fresh: list[loadgen.Run] = []
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        dbs, snapshot, _ = create_databases(args.db, tmp, plan, now)
        try:
            days = measured_days(snapshot, now, plan.rounds)
            app = start_server("app", dbs.base_url, tmp, slot_cache=True)
            try:
                wait_ready(app)
                with bare_hello(tmp) as hello:
                    cpu = {"app": ServerCpu(app.process.pid), "hello": ServerCpu(hello.process.pid)}

                    def load(label: str, server: Server, path: str, meter: str | None, **kw: Any) -> loadgen.Run:
                        target = loadgen.Target(server.url, "get", path)
                        if meter:
                            cpu[meter].start(label, target)
                        run = loadgen.run(
                            label,
                            target,
                            duration=kw.get("duration", plan.duration),
                            connections=plan.connections,
                            threads=plan.threads,
                            engine=args.loadgen,
                        )
                        if meter:
                            cpu[meter].stop(run)
                        return run

                    for r, day in enumerate(days):
                        path = availability_path(day)
                        assert slot_count(app, path) > 0, path
                        steady = [("hello", hello, "/health", "hello"), ("health", app, "/health", "app")]
                        steady.append(("steady", app, path, "app"))
                        if plan.warmup:
                            for label, server, route, _meter in steady:
                                load(label, server, route, None, duration=plan.warmup)
                        for label, server, route, meter in steady if r % 2 == 0 else steady[::-1]:
                            runs.setdefault(label, []).append(load(label, server, route, meter))
                        bookings = loadgen.Target(
                            app.url,
                            "booking",
                            offices=(MEASURED_OFFICE,),
                            starts=burst_starts(snapshot, now, day),
                            service=BOOKED_SERVICE,
                        )
                        during, burst = with_burst(
                            lambda path=path: load("during", app, path, "app"),
                            lambda bookings=bookings: loadgen.run(
                                "burst",
                                bookings,
                                duration=plan.duration,
                                connections=burst_connections,
                                threads=1,
                                engine=args.loadgen,
                            ),
                        )
                        after = load("after", app, path, "app")
                        for label, run in (("during", during), ("burst", burst), ("after", after)):
                            runs.setdefault(label, []).append(run)
                        print(
                            f"  round {r + 1} {day}: steady {runs['steady'][-1].rps:.0f} req/s, during "
                            f"{during.rps:.0f} (p99 {during.p99_ms:.1f} ms), after {after.rps:.0f} "
                            f"(p99 {after.p99_ms:.1f} ms); burst {burst.created} booked, {burst.conflicts} taken",
                            flush=True,
                        )
                        first = start_server(f"fresh{r}", dbs.base_url, tmp, slot_cache=True)
                        try:
                            wait_ready(first)
                            fresh.append(load("fresh", first, path, None))
                        finally:
                            stop_server(first)
                        print(f"  round {r + 1} fresh server: p99 {fresh[-1].p99_ms:.1f} ms", flush=True)
            finally:
                stop_server(app)
        finally:
            for undo in dbs.cleanup:
                undo()
    return report(args, plan, started, runs, fresh, cpu)


def report(
    args: Any,
    plan: Plan,
    started: dict[str, Any],
    runs: dict[str, list[loadgen.Run]],
    fresh: list[loadgen.Run],
    cpu: dict[str, ServerCpu],
) -> int:
    medians = {label: median_of(r) for label, r in runs.items()}
    medians["fresh"] = median_of(fresh)
    per_round = {
        "steady/health req/s": paired(runs, "steady", "health", "rps"),
        "steady/hello req/s": paired(runs, "steady", "hello", "rps"),
        "health/hello req/s": paired(runs, "health", "hello", "rps"),
        "steady/hello p99": paired(runs, "steady", "hello", "p99_ms"),
        "during/steady req/s": paired(runs, "during", "steady", "rps"),
        "after/steady req/s": paired(runs, "after", "steady", "rps"),
        "fresh p99 ms": [run.p99_ms for run in fresh],
        "fresh max ms": [run.max_ms for run in fresh],
        "burst bookings/s": [round(run.created / run.duration_s, 1) for run in runs["burst"]],
    }
    ratios = {name: statistics.median(values) for name, values in per_round.items()}
    cpu_us = {
        label: round(statistics.median(values), 1)
        for meter in cpu.values()
        for label, values in meter.per_request_us.items()
    }
    print(f"\n{args.db}: medians over {plan.rounds} round(s) of {plan.duration:g} s")
    for label, numbers in medians.items():
        rps, p50, p99 = numbers["rps"], numbers["p50_ms"], numbers["p99_ms"]
        print(f"  {label:<8} {rps:>9.1f} req/s  p50 {p50:>8.2f} ms  p99 {p99:>8.2f} ms")
    for name, values in per_round.items():
        print(f"  {name:<22} median {ratios[name]:<8} rounds {values}")
    print("  server CPU per request (µs, median): " + ", ".join(f"{k} {v:.0f}" for k, v in cpu_us.items()))
    result = {
        **started,
        "db": args.db,
        "load_generator": args.loadgen,
        "plan": plan.__dict__,
        "medians": medians,
        "per_round": per_round,
        "ratios": ratios,
        "cpu_us_per_request": cpu_us,
        "load_average_at_end": os.getloadavg(),
        "runs": {label: [run.as_dict() for run in rs] for label, rs in {**runs, "fresh": fresh}.items()},
    }
    output = args.output or RESULTS / f"availability-{args.db}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1, default=str))
    print(f"written {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
