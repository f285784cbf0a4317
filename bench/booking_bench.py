"""Booking-core benchmarks (issue 2): availability vs hello-world, booking vs a bare INSERT, 1M bookings vs none.

    .venv/bin/python -m bench.booking_bench --db sqlite|postgres|both [--quick]

For each database kind: two fresh databases (a SQLite temp file / a PostgreSQL database on 127.0.0.1:5432, dropped
afterwards) are migrated and loaded with the demo Bürgeramt "mitte" plus clones of it; the second one also gets
1,000,000 bookings by bulk insert. Four servers run the real app (bench/server.py) under uvicorn, one process each,
in subprocesses on free loopback ports:

    S1 base DB, caches as configured          S2 base DB, per-day slot cache bypassed
    S3 1M DB,   caches as configured          S4 1M DB,   per-day slot cache bypassed

and Debian's wrk measures them in interleaved rounds (every endpoint once per round, order alternating), so the
machine's noise hits all of them alike; medians over the rounds are reported, and ratios of those medians.
The numbers are printed as a table and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import booking_inprocess, loadgen
from bench.population import MEASURED_OFFICE, bench_config, generate, write_postgres, write_sqlite
from bench.server import create_bench_tables, serve_command
from rathaus import migrate
from rathaus.app import build
from rathaus.booking.availability import free_slots
from rathaus.jobs import run_unit
from rathaus.offices._load import load_config
from rathaus.offices.catalog import Catalog, CatalogSnapshot, load_snapshot
from rathaus.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_SERVER = os.environ.get("BENCH_SERVER", "uvicorn")
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AVAILABILITY_SERVICES = "anmeldung,personalausweis"  # the "moving to Berlin" bundle: 35 minutes, 3 cells
BOOKED_SERVICE = "anmeldung"  # 15 minutes: one cell on any of the three bookable counters
SECRET = secrets.token_urlsafe(40)


@dataclass(frozen=True)
class Plan:
    rounds: int
    duration: float  # seconds per wrk run
    connections: int
    threads: int
    offices: int
    bookings: int  # rows put into the "1M" database
    warmup: float

    @classmethod
    def full(cls) -> Plan:
        return cls(rounds=3, duration=5, connections=64, threads=2, offices=40, bookings=1_000_000, warmup=1)

    @classmethod
    def quick(cls) -> Plan:
        return cls(rounds=1, duration=1, connections=16, threads=2, offices=3, bookings=3_000, warmup=0)


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Databases:
    kind: str
    base_url: str
    full_url: str
    cleanup: list[Callable[[], None]] = field(default_factory=list)


# --- databases ---------------------------------------------------------------------------------------------


def _pg_url(name: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key=SECRET, environment="test", scheduler=False).validated()


async def _prepare_base(url: str, offices: int, now: datetime) -> CatalogSnapshot:
    """Migrate, create the baseline table, load the offices; return the catalog snapshot."""
    runtime = build(_settings(url))
    try:
        await migrate.upgrade(runtime.engine)
        await create_bench_tables(runtime.engine)
        config = bench_config(offices)
        await run_unit(runtime, lambda s: load_config(s, catalog=runtime.get(Catalog), config=config, now=now))
        snapshot: CatalogSnapshot = await run_unit(runtime, lambda s: load_snapshot(s, now=now))
        return snapshot
    finally:
        await runtime.dispose()


def create_databases(kind: str, tmp: Path, plan: Plan, now: datetime) -> tuple[Databases, CatalogSnapshot, float]:
    """The base database and its copy with `plan.bookings` bookings; returns them, the snapshot, the fill time."""
    if kind == "sqlite":
        base, full = tmp / "base.db", tmp / "full.db"
        dbs = Databases(kind, f"sqlite+aiosqlite:///{base}", f"sqlite+aiosqlite:///{full}")
        snapshot = asyncio.run(_prepare_base(dbs.base_url, plan.offices, now))
        shutil.copy(base, full)
        started = time.monotonic()
        count = write_sqlite(full, generate(snapshot, total=plan.bookings, now=now, first_id=1))
    else:
        tag = f"{os.getpid()}_{secrets.token_hex(3)}"
        base_name, full_name = f"rathaus_bench_{tag}_base", f"rathaus_bench_{tag}_full"
        dbs = Databases(kind, _pg_url(base_name), _pg_url(full_name))
        for name in (base_name, full_name):
            dbs.cleanup.append(
                lambda name=name: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            )
        asyncio.run(_pg_admin(f'CREATE DATABASE "{base_name}"'))
        snapshot = asyncio.run(_prepare_base(dbs.base_url, plan.offices, now))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{full_name}" TEMPLATE "{base_name}"'))
        started = time.monotonic()
        dsn = dbs.full_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        count = asyncio.run(write_postgres(dsn, generate(snapshot, total=plan.bookings, now=now, first_id=1)))
    assert count == plan.bookings, count
    return dbs, snapshot, time.monotonic() - started


# --- servers -------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Settings a caller may vary from outside (e.g. RATHAUS_DB_POOL_SIZE=10 python -m bench.booking_bench ...).
PASSED_SETTINGS = ("RATHAUS_AVAILABILITY_CACHE_SECONDS", "RATHAUS_DB_POOL_SIZE")


def start_server(
    name: str,
    database_url: str,
    tmp: Path,
    *,
    slot_cache: bool,
    extra: dict[str, str] | None = None,
    app: str = "bench.server:create_bench_app",
    server: str | None = None,
    workers: int = 1,
    code: Path = ROOT,
) -> Server:
    """The bench app (or another ASGI `app`, e.g. a bare hello-world) under `server` (default: $BENCH_SERVER, else
    uvicorn; 1 process unless said otherwise) in a subprocess on a free loopback port, importing rathaus from `code`
    (a checkout). Every script that starts its servers here runs under Granian, as `rathaus serve` does, with
    BENCH_SERVER=granian: the app and its hello-world baseline alike."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RATHAUS_", "BENCH_")) or k in PASSED_SETTINGS},
        "RATHAUS_DATABASE_URL": database_url,
        "RATHAUS_SECRET_KEY": SECRET,
        "RATHAUS_ENVIRONMENT": "production",
        "RATHAUS_SCHEDULER": "0",
        # The load generator is one client, and wrk cannot solve proofs of work: what they cost is measured apart
        # (bench/page_bench.py --rate-limits; a proof costs the server one HMAC and one INSERT).
        "RATHAUS_BOOKING_RATE_LIMIT_PER_MINUTE": "0",
        "RATHAUS_WISH_RATE_LIMIT_PER_MINUTE": "0",
        "RATHAUS_AVAILABILITY_RATE_LIMIT_PER_MINUTE": "0",
        "RATHAUS_LOOKUP_RATE_LIMIT_PER_MINUTE": "0",
        "RATHAUS_ALTCHA": "false",
        "RATHAUS_LOG_LEVEL": "WARNING",
        # No dispatcher runs (the scheduler is off), but production wants the channels named all the same.
        "RATHAUS_EMAIL_CHANNEL": "file",
        "RATHAUS_SMS_CHANNEL": "file",
        "BENCH_SLOT_CACHE": "on" if slot_cache else "off",
        **(extra or {}),
    }
    log = tmp / f"{name}.log"
    command = serve_command(server or DEFAULT_SERVER, app, port=port, workers=workers)
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=code, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, f"http://127.0.0.1:{port}", process, log)


def wait_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-2000:]}")
        try:
            if httpx.get(server.url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not start: {server.log.read_text()[-2000:]}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextmanager
def servers_running(specs: list[tuple[str, str, bool]], tmp: Path) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for name, url, slot_cache in specs:
            started[name] = start_server(name, url, tmp, slot_cache=slot_cache)
        for server in started.values():
            wait_ready(server)
        yield started
    finally:
        for server in started.values():
            stop_server(server)


# --- what is measured ----------------------------------------------------------------------------------------


def measured_day(snapshot: CatalogSnapshot, now: datetime) -> date:
    """The last Monday (else any open day) inside the booking horizon of "mitte", without closures.

    It lies at the front of the bulk fill, which starts at the horizon and goes backwards, so even the quick
    run's few thousand bookings cover it.
    """
    office = snapshot.offices[MEASURED_OFFICE]
    today = office.local_day(now)
    candidates = [today + timedelta(days=d) for d in range(office.horizon.days - 3, 2, -1)]

    def usable(day: date) -> bool:
        intervals = office.open_intervals(day)
        return bool(intervals) and not office.closures_between(intervals[0][0], intervals[-1][1])

    return next((d for d in candidates if d.weekday() == 0 and usable(d)), None) or next(filter(usable, candidates))


def booking_starts(snapshot: CatalogSnapshot, now: datetime) -> list[str]:
    """Every bookable start of the booked service at "mitte" from tomorrow to shortly before the horizon."""
    office = snapshot.offices[MEASURED_OFFICE]
    service = snapshot.services[BOOKED_SERVICE]
    counters = [c.id for c in office.able_counters([service.id], online=True)]
    today = office.local_day(now)
    starts = []
    for d in range(1, office.horizon.days - 1):
        intervals = office.open_intervals(today + timedelta(days=d))
        if not intervals:
            continue
        for slot in free_slots(
            open_intervals=intervals,
            closures=office.closures_between(intervals[0][0], intervals[-1][1]),
            step=office.slot,
            length=service.duration,
            claim_span=service.duration + office.buffer,
            counters=counters,
            busy={},
        ):
            starts.append(slot.start.isoformat())
    return starts


def availability_path(day: date) -> str:
    return f"/api/v1/offices/{MEASURED_OFFICE}/availability?services={AVAILABILITY_SERVICES}&date={day.isoformat()}"


def slot_count(server: Server, path: str) -> int:
    answer = httpx.get(server.url + path, timeout=10)
    if answer.status_code != 200:
        raise RuntimeError(f"{server.name} {path}: {answer.status_code} {answer.text[:300]}")
    return len(answer.json()["slots"])


@dataclass
class Job:
    label: str
    target: Callable[[], loadgen.Target]
    connections: int
    threads: int
    after: Callable[[loadgen.Run], None] = lambda run: None


class ServerCpu:
    """The server process's CPU time per request of each run: on a machine shared with other work, req/s swing
    with the neighbours, while the CPU a request costs the server does not."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._started: tuple[str, float] = ("", 0.0)
        self.per_request_us: dict[str, list[float]] = {}

    def seconds(self) -> float:
        """CPU seconds the server has used so far."""
        return tree_cpu_seconds(self._pid)

    def start(self, label: str, target: loadgen.Target) -> loadgen.Target:
        self._started = (label, self.seconds())
        return target

    def stop(self, run: loadgen.Run) -> None:
        label, began = self._started
        if run.requests:
            self.per_request_us.setdefault(label, []).append((self.seconds() - began) / run.requests * 1e6)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a server's whole process tree (all threads): Granian always, and uvicorn with several workers,
    serve from child processes of a supervisor."""
    total, pending = 0.0, [pid]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except FileNotFoundError:  # a process that ended between two reads
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        for task in tasks:
            pending += [int(child) for child in (task / "children").read_text().split()]
    return total


def run_rounds(
    jobs: list[Job], plan: Plan, runs: dict[str, list[loadgen.Run]], *, engine: str, warmup: bool = True
) -> None:
    """Every job once per round, alternating the order between rounds; warm-up runs are discarded."""

    def once(job: Job, seconds: float) -> loadgen.Run:
        result = loadgen.run(
            job.label, job.target(), duration=seconds, connections=job.connections, threads=job.threads, engine=engine
        )
        job.after(result)
        return result

    if warmup and plan.warmup:
        for job in jobs:
            once(job, plan.warmup)
    for r in range(plan.rounds):
        for job in jobs if r % 2 == 0 else list(reversed(jobs)):
            result = once(job, plan.duration)
            runs.setdefault(job.label, []).append(result)
            print(
                f"  round {r + 1} {job.label:<28} {result.rps:>9.1f} req/s  p50 {result.p50_ms:>8.2f} ms"
                f"  p99 {result.p99_ms:>8.2f} ms  non-2xx {result.non_2xx}  errors {result.errors}",
                flush=True,
            )


def single_office_run(argv: list[str] | None, description: str) -> tuple[argparse.Namespace, Plan]:
    """The command line of the one-office benchmarks (feeds, pages): --quick, --loadgen, --output, and the plan."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="one short round (smoke test)")
    parser.add_argument("--loadgen", choices=["wrk", "python"], default="wrk" if loadgen.have_wrk() else "python")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    plan = (
        Plan(rounds=1, duration=1, connections=16, threads=1, offices=1, bookings=0, warmup=0)
        if args.quick
        else Plan(rounds=3, duration=5, connections=64, threads=2, offices=1, bookings=0, warmup=1)
    )
    return args, plan


def median_of(runs: list[loadgen.Run]) -> dict[str, float]:
    keys = ("rps", "p50_ms", "p90_ms", "p99_ms", "mean_ms")
    summary = {k: round(statistics.median(getattr(r, k) for r in runs), 3) for k in keys}
    summary["created_rps"] = round(statistics.median(r.created / r.duration_s for r in runs), 1)
    for k in ("requests", "errors", "non_2xx", "created", "conflicts", "other"):
        summary[k] = sum(getattr(r, k) for r in runs)
    return summary


def paired(runs: dict[str, list[loadgen.Run]], a: str, b: str, key: str) -> list[float | None]:
    """Per-round ratios a/b of one measure (the two ran back to back in each round); None where b got nothing done
    (on an overloaded machine a 5 s run can end without one answer)."""
    pairs = zip(runs[a], runs[b], strict=True)
    return [round(getattr(x, key) / getattr(y, key), 3) if getattr(y, key) else None for x, y in pairs]


# --- one database kind ---------------------------------------------------------------------------------------


def bench_kind(kind: str, plan: Plan, *, engine: str = "wrk") -> dict[str, Any]:
    now = datetime.now(UTC)
    tmp = Path(tempfile.mkdtemp(prefix=f"rathaus-bench-{kind}-"))
    dbs: Databases | None = None
    clock = time.monotonic()
    try:
        print(f"[{kind}] preparing databases ({plan.offices} offices, {plan.bookings:,} bulk bookings)", flush=True)
        dbs, snapshot, fill_seconds = create_databases(kind, tmp, plan, now)
        print(f"[{kind}] bulk fill took {fill_seconds:.1f} s", flush=True)
        day = measured_day(snapshot, now)
        starts = booking_starts(snapshot, now)
        offices = sorted(snapshot.offices)
        path = availability_path(day)
        specs = [
            ("S1", dbs.base_url, True),
            ("S2", dbs.base_url, False),
            ("S3", dbs.full_url, True),
            ("S4", dbs.full_url, False),
        ]
        runs: dict[str, list[loadgen.Run]] = {}
        with servers_running(specs, tmp) as srv:
            slots = {name: slot_count(srv[name], path) for name in srv}
            print(f"[{kind}] {path}: free slots {slots}", flush=True)
            if slots["S1"] == 0 or slots["S1"] != slots["S2"] or slots["S3"] != slots["S4"]:
                raise RuntimeError(f"unexpected slot counts {slots}")
            if slots["S3"] >= slots["S1"]:
                raise RuntimeError(f"the bulk bookings do not show in availability: {slots}")

            c, t = plan.connections, plan.threads

            def get(name: str, route: str) -> Callable[[], loadgen.Target]:
                return lambda: loadgen.Target(srv[name].url, "get", route)

            print(f"[{kind}] A/C: availability vs hello-world, empty vs 1M, {c} connections", flush=True)
            run_rounds(
                [
                    Job("health", get("S1", "/health"), c, t),
                    Job("availability", get("S1", path), c, t),
                    Job("availability.nocache", get("S2", path), c, t),
                    Job("availability.1M", get("S3", path), c, t),
                    Job("availability.1M.nocache", get("S4", path), c, t),
                ],
                plan,
                runs,
                engine=engine,
            )
            print(f"[{kind}] C: single-client latency (1 connection), empty vs 1M", flush=True)
            run_rounds(
                [
                    Job("lat.availability", get("S1", path), 1, 1),
                    Job("lat.availability.1M", get("S3", path), 1, 1),
                    Job("lat.nocache", get("S2", path), 1, 1),
                    Job("lat.nocache.1M", get("S4", path), 1, 1),
                ],
                plan,
                runs,
                engine=engine,
                warmup=False,
            )
            print(f"[{kind}] B: booking creation vs bare INSERT, {c} connections", flush=True)
            offset = [0]

            def advance(run: loadgen.Run) -> None:
                offset[0] += run.requests + plan.connections * 4

            def bookings() -> loadgen.Target:
                return loadgen.Target(
                    srv["S1"].url,
                    "booking",
                    offices=tuple(offices),
                    starts=tuple(starts),
                    service=BOOKED_SERVICE,
                    offset=offset[0],
                )

            cpu = ServerCpu(srv["S1"].process.pid)

            def after_booking(run: loadgen.Run) -> None:
                cpu.stop(run)
                advance(run)

            run_rounds(
                [
                    Job("booking", lambda: cpu.start("booking", bookings()), c, t, after=after_booking),
                    Job(
                        "insert",
                        lambda: cpu.start("insert", loadgen.Target(srv["S1"].url, "insert")),
                        c,
                        t,
                        after=cpu.stop,
                    ),
                ],
                plan,
                runs,
                engine=engine,
            )
        print(f"[{kind}] B in process: CPU and statements per booking and per bare INSERT", flush=True)
        in_process = asyncio.run(booking_inprocess.measure(kind, 30 if plan.rounds == 1 else 300))
        result = report(
            kind, plan, runs, day=day, slots=slots, fill_seconds=fill_seconds, elapsed=time.monotonic() - clock
        )
        # Warm-up runs are not timed by the CPU meter; it keeps the measured rounds only.
        result["server_cpu_us_per_request"] = {k: v[-plan.rounds :] for k, v in cpu.per_request_us.items()}
        result["in_process"] = in_process
        print(f"server CPU per request, µs: {result['server_cpu_us_per_request']}")
        print(f"in process: {json.dumps(in_process)}\n", flush=True)
        return result
    finally:
        for undo in dbs.cleanup if dbs else []:
            try:
                undo()
            except Exception as error:  # keep cleaning up the rest
                print(f"cleanup failed: {error}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


def report(
    kind: str,
    plan: Plan,
    runs: dict[str, list[loadgen.Run]],
    *,
    day: date,
    slots: dict[str, int],
    fill_seconds: float,
    elapsed: float,
) -> dict[str, Any]:
    med = {label: median_of(rs) for label, rs in runs.items()}

    def ratio(a: str, b: str, key: str) -> float:
        return round(med[a][key] / med[b][key], 3) if med[b][key] else float("nan")

    ratios = {
        "A availability/health req/s (goal >= 0.5)": (ratio("availability", "health", "rps"), 0.5, ">="),
        "A availability/health p99 (goal <= 4)": (ratio("availability", "health", "p99_ms"), 4.0, "<="),
        "A uncached availability/health req/s (info)": (ratio("availability.nocache", "health", "rps"), None, ""),
        "B booking/insert req/s, 201s only (goal >= 0.5)": (ratio("booking", "insert", "created_rps"), 0.5, ">="),
        "B booking/insert req/s, all answers (info)": (ratio("booking", "insert", "rps"), None, ""),
        "C 1M/empty latency, cached, 1 client p50 (goal <= 1.5)": (
            ratio("lat.availability.1M", "lat.availability", "p50_ms"),
            1.5,
            "<=",
        ),
        "C 1M/empty latency, uncached, 1 client p50 (goal <= 1.5)": (
            ratio("lat.nocache.1M", "lat.nocache", "p50_ms"),
            1.5,
            "<=",
        ),
        "C 1M/empty latency, uncached, 1 client p99 (info)": (
            ratio("lat.nocache.1M", "lat.nocache", "p99_ms"),
            None,
            "",
        ),
        "C 1M/empty mean latency, cached, 64 clients (info)": (
            ratio("availability.1M", "availability", "mean_ms"),
            None,
            "",
        ),
        "C 1M/empty mean latency, uncached, 64 clients (info)": (
            ratio("availability.1M.nocache", "availability.nocache", "mean_ms"),
            None,
            "",
        ),
    }
    per_round = {
        "availability/health rps": paired(runs, "availability", "health", "rps"),
        "availability/health p99": paired(runs, "availability", "health", "p99_ms"),
        "booking/insert rps": paired(runs, "booking", "insert", "rps"),
        "1M/empty uncached 1-client p50": paired(runs, "lat.nocache.1M", "lat.nocache", "p50_ms"),
        "1M/empty cached 1-client p50": paired(runs, "lat.availability.1M", "lat.availability", "p50_ms"),
    }

    print(f"\n=== {kind}: medians of {plan.rounds} interleaved rounds of {plan.duration:g} s ===")
    print(f"{'run':<26}{'req/s':>10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'mean ms':>10}  201/409/other  non-2xx")
    for label, m in med.items():
        counts = f"{m['created']}/{m['conflicts']}/{m['other']}" if label in {"booking", "insert"} else "-"
        print(
            f"{label:<26}{m['rps']:>10.1f}{m['p50_ms']:>10.2f}{m['p90_ms']:>10.2f}{m['p99_ms']:>10.2f}"
            f"{m['mean_ms']:>10.2f}  {counts:<14} {m['non_2xx']}"
        )
    print()
    for name, (value, goal, op) in ratios.items():
        verdict = "" if goal is None else ("MET" if (value >= goal if op == ">=" else value <= goal) else "NOT MET")
        print(f"{name:<60} {value:>8.3f}  {verdict}")
    print(f"per-round ratios: {per_round}\n", flush=True)
    return {
        "kind": kind,
        "plan": plan.__dict__,
        "measured_day": day.isoformat(),
        "free_slots": slots,
        "bulk_fill_seconds": round(fill_seconds, 1),
        "elapsed_seconds": round(elapsed, 1),
        "medians": med,
        "ratios": {k: {"value": v, "goal": g, "op": o} for k, (v, g, o) in ratios.items()},
        "per_round_ratios": per_round,
        "runs": {label: [r.as_dict() for r in rs] for label, rs in runs.items()},
    }


def machine() -> dict[str, Any]:
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    wrk = ""
    if loadgen.have_wrk():
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.split("\n")[0]

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "wrk": wrk,
        "git_commit": git("rev-parse", "HEAD"),
        "git_uncommitted_in_rathaus": git("status", "--short", "rathaus").splitlines(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="tiny configuration (< 30 s) proving the scripts work")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--duration", type=float, help="seconds per load run (wrk: whole seconds, at least 1)")
    parser.add_argument("--bookings", type=int, help="bulk bookings in the scale database")
    parser.add_argument("--offices", type=int, help="offices (the demo office and its clones)")
    parser.add_argument(
        "--loadgen", choices=["wrk", "python"], help="load generator (default: wrk if installed, else python)"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default: bench/results/booking-<time>.json)")
    args = parser.parse_args(argv)
    engine = args.loadgen or ("wrk" if loadgen.have_wrk() else "python")
    if engine == "wrk" and not loadgen.have_wrk():
        print("wrk is missing: apt-get install -y wrk (or --loadgen python)", file=sys.stderr)
        return 2
    plan = Plan.quick() if args.quick else Plan.full()
    names = ("rounds", "duration", "bookings", "offices")
    plan = Plan(**{**plan.__dict__, **{k: getattr(args, k) for k in names if getattr(args, k) is not None}})
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    started = datetime.now(UTC)
    results = {
        "started": started.isoformat(),
        "load_generator": engine,
        "machine": machine(),
        "results": [bench_kind(k, plan, engine=engine) for k in kinds],
    }
    suffix = "-quick" if args.quick else ""
    output = args.output or RESULTS / f"booking-{'-'.join(kinds)}-{started:%Y%m%dT%H%M%S}{suffix}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str))
    print(f"written {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
