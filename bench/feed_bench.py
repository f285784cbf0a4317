"""Calendar feed benchmark (issue 5): the 200 and the 304 path of a busy office's feed vs hello-world.

    .venv/bin/python -m bench.feed_bench [--quick] [--loadgen wrk|python] [--output FILE]

A fresh SQLite database with the demo Bürgeramt plus a year of closures (100, a third of them part-day) and 50 extra
evening openings; the real app under uvicorn in a subprocess; wrk in interleaved rounds (medians, ratios).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bench import loadgen
from bench.booking_bench import (
    Job,
    ServerCpu,
    machine,
    median_of,
    paired,
    run_rounds,
    servers_running,
    single_office_run,
)
from rathaus import migrate
from rathaus.app import build
from rathaus.jobs import run_unit
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog
from rathaus.offices.config import read_config
from rathaus.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "rathaus" / "demo" / "buergeramt.toml"
FEED = "/feeds/mitte/hours.ics"


def year_of_exceptions(first: date) -> str:
    """TOML for the end of the demo office's table: 100 closures and 50 extra openings over a year."""
    parts = []
    for i in range(100):
        day = first + timedelta(days=3 * i + 1)
        when = f"start = {day}T12:00:00\nend = {day}T14:00:00" if i % 3 == 0 else f"date = {day}"
        parts.append(f'[[offices.closures]]\n{when}\nreason = {{ de = "Zu {i}", en = "Closed {i}" }}\n')
    for i in range(50):
        day = first + timedelta(days=7 * i + 5)
        note = f'note = {{ de = "Abend {i}", en = "Evening {i}" }}'
        parts.append(f'[[offices.special_hours]]\ndate = {day}\nhours = ["15:00-19:00"]\n{note}\n')
    return "\n" + "\n".join(parts)


async def prepare(
    url: str, config_path: Path, *, then: Callable[[AsyncSession], Awaitable[object]] | None = None
) -> None:
    """A migrated database with the configuration loaded (and `then` run in a transaction of its own)."""
    runtime = build(Settings(database_url=url, secret_key="b" * 40, environment="test", scheduler=False).validated())
    try:
        await migrate.upgrade(runtime.engine)
        config = read_config(config_path)
        now = runtime.clock.now()
        await run_unit(runtime, lambda s: load_config(s, catalog=runtime.get(Catalog), config=config, now=now))
        if then is not None:
            await run_unit(runtime, then)
    finally:
        await runtime.dispose()


def main(argv: list[str] | None = None) -> int:
    args, plan = single_office_run(argv, __doc__.splitlines()[0])
    started = machine()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        config = tmp / "year.toml"
        demo = DEMO.read_text(encoding="utf-8")
        # The exceptions belong to the measured office, the file's first: they go where its table ends.
        end_of_first = demo.index("\n[[offices]]", demo.index("[[offices]]") + 1)
        exceptions = year_of_exceptions(date.today() + timedelta(days=7))
        config.write_text(demo[:end_of_first] + exceptions + demo[end_of_first:], encoding="utf-8")
        url = f"sqlite+aiosqlite:///{tmp / 'feeds.db'}"
        asyncio.run(prepare(url, config))
        with servers_running([("feeds", url, True)], tmp) as servers:
            base = servers["feeds"].url
            first = httpx.get(base + FEED, timeout=10)
            etag = first.headers["etag"]
            assert httpx.get(base + FEED, headers={"If-None-Match": etag}, timeout=10).status_code == 304
            cpu = ServerCpu(servers["feeds"].process.pid)
            targets = {
                "health": loadgen.Target(base, "get", "/health"),
                "feed.200": loadgen.Target(base, "get", FEED),
                "feed.304": loadgen.Target(base, "get", FEED, headers=(("If-None-Match", etag),)),
            }
            jobs = [
                Job(
                    label,
                    lambda label=label, target=target: cpu.start(label, target),
                    plan.connections,
                    plan.threads,
                    after=cpu.stop,
                )
                for label, target in targets.items()
            ]
            runs: dict[str, list[loadgen.Run]] = {}
            run_rounds(jobs, plan, runs, engine=args.loadgen)
    medians = {label: median_of(r) for label, r in runs.items()}
    ratios = {
        "304/health req/s (goal >= 0.9)": round(medians["feed.304"]["rps"] / medians["health"]["rps"], 3),
        "200/health req/s (goal >= 0.6)": round(medians["feed.200"]["rps"] / medians["health"]["rps"], 3),
    }
    print(f"\nfeed size {len(first.content)} bytes; medians over {plan.rounds} round(s):")
    for label, numbers in medians.items():
        rps, p50, p99 = numbers["rps"], numbers["p50_ms"], numbers["p99_ms"]
        print(f"  {label:<10} {rps:>9.1f} req/s  p50 {p50:>7.2f} ms  p99 {p99:>7.2f} ms")
    for name, value in ratios.items():
        print(f"  {name:<34} {value}")
    per_round = {f"{kind}/health": paired(runs, f"feed.{kind}", "health", "rps") for kind in ("304", "200")}
    for name, values in per_round.items():
        print(f"  per-round {name}: {values}")
    # The measured rounds only (the warm-up runs come first).
    cpu_us = {label: statistics.median(values[-plan.rounds :]) for label, values in cpu.per_request_us.items()}
    print("  server CPU per request (µs, median): " + ", ".join(f"{k} {v:.0f}" for k, v in cpu_us.items()))
    result = {
        **started,
        "feed_bytes": len(first.content),
        "medians": medians,
        "ratios": ratios,
        "per_round": per_round,
        "cpu_us_per_request": cpu_us,
        "load_average_at_end": os.getloadavg(),
    }
    output = args.output or (ROOT / "bench" / "results" / "feeds.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
