"""Itinerary benchmark (issue 13): proposing itineraries for a three-office life event over 14 days vs the
single-office availability request, caches warm, in the same run.

    .venv/bin/python -m bench.itinerary_bench [--db sqlite|postgres] [--rounds 5] [--requests 200] [--quick]

The real app (`create_app`) on a fresh database (a SQLite temp file, or a PostgreSQL database on 127.0.0.1:5432
dropped afterwards) with the demo city loaded, its clock fixed on a Monday morning; requests go through Litestar's
in-process ASGI client, so neither a server nor a load generator competes for the two CPUs, and what is measured
is the app's own work per request. Per round each endpoint gets `--requests` sequential requests (order
alternating between rounds, one warm-up pass discarded): wall time and process CPU time per request; medians over
the rounds, and their ratio. req/s is one client's (1 / mean latency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from rathaus import migrate
from rathaus.app import create_app
from rathaus.clock import ManualClock
from rathaus.jobs import run_unit
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog
from rathaus.offices.config import read_config
from rathaus.settings import Settings
from rathaus.web import runtime_of

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEMO = ROOT / "rathaus" / "demo" / "buergeramt.toml"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2027, 1, 11, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin
ENDPOINTS = {
    "availability": "/api/v1/offices/mitte/availability?services=anmeldung&date=2027-01-12",
    "itineraries": "/api/v1/life-events/neu-mit-familie/itineraries?days=14",
}


async def _pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _measure(client: AsyncTestClient[Any], path: str, count: int) -> dict[str, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        answer = await client.get(path)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"latency_ms": 1000 * wall / count, "cpu_ms": 1000 * cpu / count, "req_per_s": count / wall}


async def run(database_url: str, *, rounds: int, requests: int) -> dict[str, Any]:
    """Load the city, warm the caches, then measure both endpoints in interleaved rounds."""
    settings = Settings(
        database_url=database_url, secret_key=secrets.token_urlsafe(40), environment="test", scheduler=False
    ).validated()
    app = create_app(settings, clock=ManualClock(NOW))
    runtime = runtime_of(app.state)
    await migrate.upgrade(runtime.engine)
    config = read_config(DEMO)
    await run_unit(runtime, lambda s: load_config(s, catalog=runtime.get(Catalog), config=config, now=NOW))
    # The test client runs the app on a loop of its own: connections made on this one must not be reused there.
    await runtime.engine.dispose()
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in ENDPOINTS}
    async with AsyncTestClient(app=app) as client:
        first = await client.get(ENDPOINTS["itineraries"])
        if first.status_code != 200:
            raise RuntimeError(f"itineraries: {first.status_code} {first.text[:300]}")
        proposals = first.json()["itineraries"]
        for path in ENDPOINTS.values():  # warm-up: caches filled, answers encoded
            await _measure(client, path, max(requests // 10, 5))
        for i in range(rounds):
            order = list(ENDPOINTS) if i % 2 == 0 else list(reversed(ENDPOINTS))
            for name in order:
                rows[name].append(await _measure(client, ENDPOINTS[name], requests))
    medians = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for name, runs in rows.items()}
    return {
        "database": database_url.split(":", 1)[0],
        "proposals": len(proposals),
        "offices_in_first": sorted({p["office"] for p in proposals[0]["parts"]}) if proposals else [],
        "medians": medians,
        "rounds": rows,
        "ratio_latency": medians["itineraries"]["latency_ms"] / medians["availability"]["latency_ms"],
        "ratio_cpu": medians["itineraries"]["cpu_ms"] / medians["availability"]["cpu_ms"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="1 round of 20 requests (smoke test)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    rounds, requests = (1, 20) if args.quick else (args.rounds, args.requests)
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            result = asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.db", rounds=rounds, requests=requests))
        else:
            name = f"rathaus_itinerary_{os.getpid()}_{secrets.token_hex(3)}"
            asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
            try:
                base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
                result = asyncio.run(run(f"{base}/{name}", rounds=rounds, requests=requests))
            finally:
                asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, cwd=ROOT, capture_output=True, text=True, check=False).stdout
    result |= {"commit": commit.strip(), "load_average": os.getloadavg(), "python": platform.python_version()}
    print(f"{'endpoint':<14}{'latency ms':>12}{'CPU ms':>10}{'req/s':>10}")
    for name, m in result["medians"].items():
        print(f"{name:<14}{m['latency_ms']:>12.2f}{m['cpu_ms']:>10.2f}{m['req_per_s']:>10.0f}")
    print(f"itineraries / availability: latency {result['ratio_latency']:.2f}x, CPU {result['ratio_cpu']:.2f}x")
    output = args.output or RESULTS / f"itinerary-{args.db}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
