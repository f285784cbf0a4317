"""Citizens' pages benchmark (issue 10): the home page and a day's time choice vs the app's /health.

    .venv/bin/python -m bench.page_bench [--quick] [--loadgen wrk|python] [--output FILE]

A fresh SQLite database with the demo Bürgeramt; the real app under uvicorn in a subprocess; wrk in interleaved
rounds (medians, ratios). Goals: each page >= 0.5x the app's /health req/s in the same run.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

import httpx

from bench import loadgen
from bench.booking_bench import Job, median_of, paired, run_rounds, servers_running, single_office_run
from bench.feed_bench import DEMO, prepare

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "anmeldung"


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


def main(argv: list[str] | None = None) -> int:
    args, plan = single_office_run(argv, __doc__.splitlines()[0])
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        url = f"sqlite+aiosqlite:///{tmp / 'pages.db'}"
        asyncio.run(prepare(url, DEMO))
        with servers_running([("pages", url, True)], tmp) as servers:
            base = servers["pages"].url
            time_path, slots = time_page(base)
            for path in ("/", time_path):
                assert httpx.get(base + path, timeout=10).status_code == 200, path
            jobs = [
                Job(label, lambda path=path: loadgen.Target(base, "get", path), plan.connections, plan.threads)
                for label, path in (("health", "/health"), ("home", "/"), ("time", time_path))
            ]
            runs: dict[str, list[loadgen.Run]] = {}
            run_rounds(jobs, plan, runs, engine=args.loadgen)
    medians = {label: median_of(r) for label, r in runs.items()}
    ratios = {
        f"{page}/health req/s (goal >= 0.5)": round(medians[page]["rps"] / medians["health"]["rps"], 3)
        for page in ("home", "time")
    }
    print(f"\ntime page of a day with {slots} slots; medians over {plan.rounds} round(s):")
    for label, numbers in medians.items():
        rps, p50, p99 = numbers["rps"], numbers["p50_ms"], numbers["p99_ms"]
        print(f"  {label:<8} {rps:>9.1f} req/s  p50 {p50:>7.2f} ms  p99 {p99:>7.2f} ms")
    for name, value in ratios.items():
        print(f"  {name:<34} {value}")
    for page in ("home", "time"):
        print(f"  per-round {page}/health: {paired(runs, page, 'health', 'rps')}")
    result = {"slots": slots, "medians": medians, "ratios": ratios}
    output = args.output or (ROOT / "bench" / "results" / "pages.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
