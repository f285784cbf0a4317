"""The ASGI server itself (issue 15, item 7): uvicorn against Granian, one and several workers, SQLite and PostgreSQL.

    .venv/bin/python -m bench.server_bench [--quick] [--db sqlite|postgres|both] [--workers 1,2] [--output FILE]

For each server (uvicorn with uvloop and httptools; Granian 2, which `rathaus serve` runs) and each worker count:
the real app (bench/server.py) on a demo database of each kind, and the bare Litestar hello-world (bench/hello.py),
each in its own process tree on a free loopback port. wrk loads, in interleaved rounds, every app's `/health`, the
availability of a day and the time-choice page, and every hello-world. Reported: medians, every ratio against both
servers' hello-world of the same worker count, Granian ÷ uvicorn per endpoint with its per-round ratios, and the
server CPU per request (the whole process tree: supervisor and workers), which the machine's load moves far less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.booking_bench import (
    RESULTS,
    Job,
    Plan,
    Server,
    ServerCpu,
    _pg_admin,
    _pg_url,
    availability_path,
    machine,
    median_of,
    paired,
    run_rounds,
    slot_count,
    start_server,
    stop_server,
    wait_ready,
)
from bench.feed_bench import DEMO, prepare
from bench.page_bench import time_page
from bench.server import SERVERS

ENDPOINTS = ("health", "availability", "page")


@contextmanager
def databases(kinds: list[str], tmp: Path) -> Iterator[dict[str, str]]:
    """A migrated database with the demo offices per kind (PostgreSQL's dropped at the end)."""
    urls: dict[str, str] = {}
    dropped: list[str] = []
    try:
        for kind in kinds:
            if kind == "sqlite":
                urls[kind] = f"sqlite+aiosqlite:///{tmp / 'server.db'}"
            else:
                name = f"rathaus_server_bench_{os.getpid()}_{secrets.token_hex(3)}"
                asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
                dropped.append(name)
                urls[kind] = _pg_url(name)
            asyncio.run(prepare(urls[kind], DEMO))
        yield urls
    finally:
        for name in dropped:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def started(stack: ExitStack, name: str, database_url: str, tmp: Path, **how: Any) -> Server:
    server = start_server(name, database_url, tmp, slot_cache=True, **how)
    stack.callback(stop_server, server)
    wait_ready(server)
    return server


def plan_of(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(rounds=1, duration=1, connections=16, threads=1, offices=1, bookings=0, warmup=0)
    return Plan(rounds=3, duration=5, connections=64, threads=2, offices=1, bookings=0, warmup=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (smoke test)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--loadgen", choices=["wrk", "python"], default="wrk" if loadgen.have_wrk() else "python")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    plan = plan_of(args)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    worker_counts = [int(w) for w in args.workers.split(",")]
    began = machine()
    runs: dict[str, list[loadgen.Run]] = {}
    meters: dict[str, ServerCpu] = {}
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        tmp = Path(directory)
        urls = stack.enter_context(databases(kinds, tmp))
        jobs: list[Job] = []

        def job(label: str, server: Server, path: str) -> None:
            meter = meters.setdefault(server.name, ServerCpu(server.process.pid))
            target = loadgen.Target(server.url, "get", path)
            jobs.append(
                Job(label, lambda: meter.start(label, target), plan.connections, plan.threads, after=meter.stop)
            )

        for workers in worker_counts:
            for kind in SERVERS:
                how = {"server": kind, "workers": workers}
                hello = started(stack, f"{kind}-w{workers}-hello", "", tmp, app="bench.hello:app", **how)
                job(f"{kind}-w{workers}-hello", hello, "/health")
                for db, url in urls.items():
                    app = started(stack, f"{kind}-w{workers}-{db}", url, tmp, **how)
                    page, _ = time_page(app.url)
                    day = page.rsplit("date=", 1)[1]
                    availability = availability_path(datetime.fromisoformat(day).date())
                    assert slot_count(app, availability) > 0, availability
                    for endpoint, path in zip(ENDPOINTS, ("/health", availability, page), strict=True):
                        job(f"{kind}-w{workers}-{db}-{endpoint}", app, path)
        run_rounds(jobs, plan, runs, engine=args.loadgen)
    result = report(runs, meters, worker_counts, kinds, plan)
    result = {**began, "started": datetime.now(UTC).isoformat(), "load_average_at_end": os.getloadavg(), **result}
    output = args.output or RESULTS / f"server-{datetime.now(UTC):%Y%m%dT%H%M%S}{'-quick' if args.quick else ''}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    print(f"written {output}")
    return 0


def report(
    runs: dict[str, list[loadgen.Run]],
    meters: dict[str, ServerCpu],
    worker_counts: list[int],
    kinds: list[str],
    plan: Plan,
) -> dict[str, Any]:
    """Medians, ratios against both hello-worlds, Granian ÷ uvicorn (median and per round), CPU per request."""
    medians = {label: median_of(r) for label, r in runs.items()}
    cpu_us = {
        label: round(statistics.median(values[-plan.rounds :]), 1)
        for meter in meters.values()
        for label, values in meter.per_request_us.items()
    }
    vs_hello: dict[str, float] = {}
    granian_vs_uvicorn: dict[str, dict[str, Any]] = {}
    for workers in worker_counts:
        measured = ["hello", *(f"{db}-{endpoint}" for db in kinds for endpoint in ENDPOINTS)]
        for what in measured:
            for kind in SERVERS:
                for hello in SERVERS:
                    if what != "hello":
                        label, base = f"{kind}-w{workers}-{what}", f"{hello}-w{workers}-hello"
                        vs_hello[f"{label} / {base}"] = round(medians[label]["rps"] / medians[base]["rps"], 3)
            g, u = f"granian-w{workers}-{what}", f"uvicorn-w{workers}-{what}"
            granian_vs_uvicorn[f"w{workers}-{what}"] = {
                "rps": round(medians[g]["rps"] / medians[u]["rps"], 3),
                "rps_per_round": paired(runs, g, u, "rps"),
                "p99": round(medians[g]["p99_ms"] / medians[u]["p99_ms"], 3),
                "cpu_per_request": round(cpu_us[g] / cpu_us[u], 3),
            }
    print(f"\nmedians over {plan.rounds} round(s):")
    for label, numbers in medians.items():
        print(
            f"  {label:<34} {numbers['rps']:>9.1f} req/s  p50 {numbers['p50_ms']:>7.2f} ms"
            f"  p99 {numbers['p99_ms']:>7.2f} ms  CPU {cpu_us[label]:>7.0f} µs/request"
        )
    print("granian ÷ uvicorn (req/s, per round; p99; CPU per request):")
    for name, value in granian_vs_uvicorn.items():
        rps, rounds, p99, cpu = value["rps"], value["rps_per_round"], value["p99"], value["cpu_per_request"]
        print(f"  {name:<24} {rps:>6} {rounds}  p99 {p99}  CPU {cpu}")
    print("against the hello-worlds (req/s):")
    for name, ratio in vs_hello.items():
        print(f"  {name:<60} {ratio}")
    return {
        "plan": plan.__dict__,
        "medians": medians,
        "cpu_us_per_request": cpu_us,
        "granian_vs_uvicorn": granian_vs_uvicorn,
        "vs_hello": vs_hello,
        "runs": {label: [r.as_dict() for r in rs] for label, rs in runs.items()},
    }


if __name__ == "__main__":
    raise SystemExit(main())
