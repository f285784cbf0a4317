"""A freshly started server's first seconds (issue 15 item 3): how long it takes to start, and every one of its
first availability requests timed on its own.

    .venv/bin/python -m bench.fresh_server [--db sqlite|postgres] [--rounds R] [--seconds S] [--before DIR]

The database of `availability_bench` (40 offices, bench/population.py, no bookings); each round starts the real
app under uvicorn (`booking_bench.start_server`), waits for `/health` as that benchmark does, and at once loads the
availability of one day over `--connections` keep-alive connections for `--seconds` seconds. The client is a small
asyncio loop over raw sockets (no wrk needed): every request's latency and start are kept, so the report shows
what the first requests pay, second by second, beside the start time (process start until `/health` answers) and
the server's CPU until then and during the load.

`--before DIR` names a checkout of other code (e.g. `git archive main | tar -x -C DIR`): its server alternates with
this one's in every round (order swapped per round), on the same database and the same day.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.availability_bench import measured_days
from bench.booking_bench import (
    RESULTS,
    ROOT,
    Plan,
    ServerCpu,
    availability_path,
    create_databases,
    machine,
    start_server,
    stop_server,
    wait_ready,
)


async def _one_connection(
    host: str, port: int, request: bytes, until: float, began: float, found: list[tuple[float, float]]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            sent = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"answered {head[:40]!r}")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            found.append((sent - began, time.perf_counter() - sent))
    finally:
        writer.close()


async def load(url: str, path: str, *, connections: int, seconds: float) -> list[tuple[float, float]]:
    """(start since the load began, latency) of every request, in seconds."""
    where = urlsplit(url)
    host, port = where.hostname or "127.0.0.1", where.port or 80
    request = f"GET {path} HTTP/1.1\r\nHost: {where.netloc}\r\nAccept: application/json\r\n\r\n".encode()
    found: list[tuple[float, float]] = []
    began = time.perf_counter()
    await asyncio.gather(
        *(_one_connection(host, port, request, began + seconds, began, found) for _ in range(connections))
    )
    return found


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def summary(found: list[tuple[float, float]], *, connections: int) -> dict[str, Any]:
    """Latency figures in ms: all requests, the first `connections` (the ones sent at once), and per second."""
    ms = [latency * 1e3 for _, latency in found]
    first = [latency * 1e3 for _, latency in sorted(found)[:connections]]
    seconds = int(max((start for start, _ in found), default=0)) + 1
    per_second = []
    for s in range(seconds):
        inside = [latency * 1e3 for start, latency in found if s <= start < s + 1]
        per_second.append({"p99": round(_percentile(inside, 0.99), 1), "max": round(max(inside, default=0), 1)})
    return {
        "requests": len(ms),
        "p50": round(_percentile(ms, 0.5), 2),
        "p99": round(_percentile(ms, 0.99), 1),
        "max": round(max(ms, default=0), 1),
        "first_max": round(max(first, default=0), 1),
        "per_second": per_second,
    }


def one_server(name: str, code: Path, url: str, tmp: Path, path: str, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    server = start_server(name, url, tmp, slot_cache=True, code=code)
    try:
        wait_ready(server)
        ready_s = time.perf_counter() - started
        cpu = ServerCpu(server.process.pid)
        cpu_at_ready = cpu.seconds()
        found = asyncio.run(load(server.url, path, connections=args.connections, seconds=args.seconds))
        cpu_during = cpu.seconds() - cpu_at_ready
        # The same load again on the now warm server: what the first seconds are compared with.
        warm = asyncio.run(load(server.url, path, connections=args.connections, seconds=args.seconds))
    finally:
        stop_server(server)
    result = summary(found, connections=args.connections)
    result |= {
        "start_s": round(ready_s, 2),
        "cpu_at_ready_s": round(cpu_at_ready, 2),
        "cpu_us_per_request": round(cpu_during / max(1, len(found)) * 1e6, 1),
        "warm": summary(warm, connections=args.connections),
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--offices", type=int, default=40)
    parser.add_argument("--before", type=Path, help="a checkout of other code to alternate with this one")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    plan = Plan(
        rounds=args.rounds,
        duration=args.seconds,
        connections=args.connections,
        threads=1,
        offices=args.offices,
        bookings=0,
        warmup=0,
    )
    codes = {"this": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    started = machine()
    now = datetime.now(UTC)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in codes}
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        dbs, snapshot, _ = create_databases(args.db, tmp, plan, now)
        try:
            path = availability_path(measured_days(snapshot, now, 1)[0])
            for r in range(args.rounds):
                for name in list(codes)[:: 1 if r % 2 == 0 else -1]:
                    found = one_server(f"{name}{r}", codes[name], dbs.base_url, tmp, path, args)
                    runs[name].append(found)
                    print(
                        f"  round {r + 1} {name:<6}: start {found['start_s']} s, p99 {found['p99']} ms, max "
                        f"{found['max']} ms, first {args.connections} max {found['first_max']} ms, per second "
                        f"{[s['p99'] for s in found['per_second']]}, {found['cpu_us_per_request']} µs CPU/request, "
                        f"{found['requests']} requests; warm after: p99 {found['warm']['p99']} ms, max "
                        f"{found['warm']['max']} ms, {found['warm']['requests']} requests",
                        flush=True,
                    )
        finally:
            for undo in dbs.cleanup:
                undo()
    medians = {
        name: {key: statistics.median(run[key] for run in found) for key in ("start_s", "p99", "max", "first_max")}
        for name, found in runs.items()
    }
    print(json.dumps(medians, indent=1))
    output = args.output or RESULTS / f"fresh-{args.db}-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {**started, "db": args.db, "args": vars(args), "medians": medians, "runs": runs}, indent=1, default=str
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
