"""Citizens' pages benchmark (issues 10, 14, 15): the home page, a day's time choice, the office list of the API and
an office's page vs the app's /health and a bare Litestar hello-world; and the time choice again on an instance
whose rate limits count every request (issue 14: what the shared limiter costs a cached page).

    .venv/bin/python -m bench.page_bench [--quick] [--loadgen wrk|python] [--output FILE]

A fresh SQLite database with the demo Bürgeramt; the real app under uvicorn in a subprocess, and beside it a bare
Litestar app with only /health (bench/hello.py) under the same uvicorn options; wrk in interleaved rounds (medians,
ratios). Goals: each page and the office list >= 0.5x the app's /health req/s in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench import loadgen
from bench.booking_bench import (
    Job,
    Server,
    ServerCpu,
    machine,
    median_of,
    paired,
    run_rounds,
    servers_running,
    single_office_run,
    start_server,
    stop_server,
    wait_ready,
)
from bench.feed_bench import DEMO, prepare

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "anmeldung"
# What a browser sends on every request: pages are served compressed to it (the same header goes to /health).
BROWSER = (("Accept-Encoding", "gzip, deflate, br, zstd"),)


def time_page(base: str) -> tuple[str, int]:
    """The time-choice page of the first day ahead with free slots, and how many slots it offers."""
    for ahead in range(1, 15):
        day = date.today() + timedelta(days=ahead)
        slots = httpx.get(
            f"{base}/api/v1/offices/mitte/availability", params={"services": SERVICE, "date": str(day)}, timeout=10
        ).json()["slots"]
        if slots:
            return f"/book/time?office=mitte&services={SERVICE}&date={day}", len(slots)
    raise RuntimeError("no free slot in the next two weeks")


# What is measured against the app's /health (and the bare hello-world).
PAGES = ("home", "time", "offices", "office")
# Limits so high that nothing is refused: every request is counted, and the counts are shared every second.
COUNTING = {
    "RATHAUS_AVAILABILITY_RATE_LIMIT_PER_MINUTE": str(10**9),
    "RATHAUS_LOOKUP_RATE_LIMIT_PER_MINUTE": str(10**9),
    "RATHAUS_RATE_LIMIT_SYNC_SECONDS": "1",
}


@contextmanager
def counting_server(url: str, tmp: Path) -> Iterator[Server]:
    """The app with its rate limits counting, on the same database."""
    server = start_server("limited", url, tmp, slot_cache=True, extra=COUNTING)
    try:
        wait_ready(server)
        yield server
    finally:
        stop_server(server)


@contextmanager
def bare_hello(tmp: Path) -> Iterator[Server]:
    """The bare Litestar hello-world under uvicorn, as the app runs."""
    server = start_server("hello", "", tmp, slot_cache=True, app="bench.hello:app")
    try:
        wait_ready(server)
        yield server
    finally:
        stop_server(server)


def main(argv: list[str] | None = None) -> int:
    args, plan = single_office_run(argv, __doc__.splitlines()[0])
    started = machine()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        url = f"sqlite+aiosqlite:///{tmp / 'pages.db'}"
        asyncio.run(prepare(url, DEMO))
        with (
            servers_running([("pages", url, True)], tmp) as servers,
            bare_hello(tmp) as hello,
            counting_server(url, tmp) as limited,
        ):
            base = servers["pages"].url
            time_path, slots = time_page(base)
            paths = {
                "health": "/health",
                "home": "/",
                "time": time_path,
                "offices": "/api/v1/offices",
                "office": "/offices/mitte",
            }
            for path in paths.values():
                assert httpx.get(base + path, timeout=10).status_code == 200, path
            assert httpx.get(limited.url + time_path, timeout=10).status_code == 200
            cpu = {
                "pages": ServerCpu(servers["pages"].process.pid),
                "hello": ServerCpu(hello.process.pid),
                "limited": ServerCpu(limited.process.pid),
            }
            targets = [("hello", hello.url, "/health", cpu["hello"])]
            targets += [(label, base, path, cpu["pages"]) for label, path in paths.items()]
            targets.append(("time-limited", limited.url, time_path, cpu["limited"]))
            jobs = [
                Job(
                    label,
                    lambda label=label, url=url, path=path, meter=meter: meter.start(
                        label, loadgen.Target(url, "get", path, headers=BROWSER)
                    ),
                    plan.connections,
                    plan.threads,
                    after=meter.stop,
                )
                for label, url, path, meter in targets
            ]
            runs: dict[str, list[loadgen.Run]] = {}
            run_rounds(jobs, plan, runs, engine=args.loadgen)
    medians = {label: median_of(r) for label, r in runs.items()}
    ratios = {
        f"{page}/{base} req/s": round(medians[page]["rps"] / medians[base]["rps"], 3)
        for base in ("health", "hello")
        for page in (*PAGES, *(("health",) if base == "hello" else ()))
    }
    print(f"\ntime page of a day with {slots} slots; medians over {plan.rounds} round(s):")
    for label, numbers in medians.items():
        rps, p50, p99 = numbers["rps"], numbers["p50_ms"], numbers["p99_ms"]
        print(f"  {label:<8} {rps:>9.1f} req/s  p50 {p50:>7.2f} ms  p99 {p99:>7.2f} ms")
    for name, value in ratios.items():
        print(f"  {name:<34} {value}")
    per_round = {f"{page}/health": paired(runs, page, "health", "rps") for page in PAGES}
    per_round["health/hello"] = paired(runs, "health", "hello", "rps")
    per_round["time-limited/time"] = paired(runs, "time-limited", "time", "rps")
    for name, values in per_round.items():
        print(f"  per-round {name}: {values}")
    # The measured rounds only (the warm-up runs come first).
    cpu_us = {
        label: statistics.median(values[-plan.rounds :])
        for meter in cpu.values()
        for label, values in meter.per_request_us.items()
    }
    cpu_ratios = {f"health/{page} server CPU per request": round(cpu_us["health"] / cpu_us[page], 3) for page in PAGES}
    cpu_ratios["hello/health server CPU per request"] = round(cpu_us["hello"] / cpu_us["health"], 3)
    cpu_ratios["time/time-limited server CPU per request"] = round(cpu_us["time"] / cpu_us["time-limited"], 3)
    print("  server CPU per request (µs, median): " + ", ".join(f"{k} {v:.0f}" for k, v in cpu_us.items()))
    for name, value in cpu_ratios.items():
        print(f"  {name:<34} {value}")
    result = {
        **started,
        "slots": slots,
        "medians": medians,
        "ratios": ratios,
        "per_round": per_round,
        "load_average_at_end": os.getloadavg(),
        "cpu_us_per_request": cpu_us,
        "cpu_ratios": cpu_ratios,
    }
    output = args.output or (ROOT / "bench" / "results" / "pages.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
