"""Load one endpoint for a bounded time with Debian's `wrk` (or a small Python generator) and return its numbers.

Every run uses a generated Lua script whose `done()` prints one JSON line (requests, duration, errors, latency
percentiles, and the 201/409/other counts when the script counts responses). POST bodies are generated in Lua,
one distinct body per request (see `booking_script`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

MARKER = "BENCHJSON "

_COMMON = """
local threads = {}
local thread_count = 0
function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local s201, s409, sother = 0, 0, 0
  for _, t in ipairs(threads) do
    s201 = s201 + (t:get("c201") or 0)
    s409 = s409 + (t:get("c409") or 0)
    sother = sother + (t:get("cother") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,"errors_write":%d,' ..
    '"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
    '"max_us":%d,"s201":%d,"s409":%d,"sother":%d}\\n',
    "MARKER", summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    s201, s409, sother))
end
""".replace("MARKER", MARKER)

_COUNTING = """
function response(status, headers, body)
  if status == 201 then c201 = c201 + 1 elseif status == 409 then c409 = c409 + 1 else cother = cother + 1 end
end
"""


@dataclass(frozen=True, slots=True)
class Target:
    """What to load: a GET of `path`, the bare INSERT, or booking creation with distinct bodies."""

    base_url: str
    kind: str  # "get" | "insert" | "booking" | "posts"
    path: str = "/"
    offices: tuple[str, ...] = ()
    starts: tuple[str, ...] = ()
    service: str = ""
    offset: int = 0
    headers: tuple[tuple[str, str], ...] = ()  # e.g. If-None-Match for GETs, a cookie for posts
    paths: tuple[str, ...] = ()  # "posts": request n goes to paths[n mod P] (e.g. one-time links)
    form: str = ""  # "posts": the url-encoded body of every request

    def body(self, n: int) -> str:
        """Request number n books office n mod K at start (n div K) mod S (the Lua scripts do the same)."""
        office = self.offices[n % len(self.offices)]
        start = self.starts[(n // len(self.offices)) % len(self.starts)]
        return (
            f'{{"office":"{office}","services":["{self.service}"],"start":"{start}",'
            '"name":"Erika Mustermann","email":"erika@example.org","language":"de"}'
        )


def script(target: Target, *, threads: int) -> str:
    """The wrk Lua script for a target."""
    if target.kind == "get":
        # A plain GET of the URL given to wrk, no per-response Lua work.
        return _COMMON + "".join(f'wrk.headers["{name}"] = {json.dumps(value)}\n' for name, value in target.headers)
    if target.kind == "posts":
        return posts_script(target, threads=threads)
    if target.kind == "insert":
        return (
            _COMMON
            + _COUNTING
            + """
function init(args) c201 = 0; c409 = 0; cother = 0 end
function request()
  return wrk.format("POST", "/bench/insert", {["Content-Type"] = "application/json"}, "{}")
end
"""
        )
    return booking_script(
        offices=list(target.offices),
        starts=list(target.starts),
        service=target.service,
        offset=target.offset,
        threads=threads,
    )


def booking_script(*, offices: list[str], starts: list[str], service: str, offset: int, threads: int) -> str:
    """POST /api/v1/bookings with a distinct (office, start) per request.

    Request number n (n = offset + thread id + k * threads) books office n mod K at start (n div K) mod S;
    once every start of every office is used once, the next pass books the same starts again, which the
    office serves on its next able counter (until all are taken, then 409).
    """
    lua_offices = ", ".join(json.dumps(o) for o in offices)
    lua_starts = ", ".join(json.dumps(s) for s in starts)
    return (
        _COMMON
        + _COUNTING
        + f"""
local offices = {{{lua_offices}}}
local starts = {{{lua_starts}}}
function init(args)
  c201 = 0; c409 = 0; cother = 0
  n = {offset} + tid
end
function request()
  local k = #offices
  local office = offices[(n % k) + 1]
  local start = starts[(math.floor(n / k) % #starts) + 1]
  n = n + {threads}
  local body = '{{"office":"' .. office .. '","services":["{service}"],"start":"' .. start ..
    '","name":"Erika Mustermann","email":"erika@example.org","language":"de"}}'
  return wrk.format("POST", "/api/v1/bookings", {{["Content-Type"] = "application/json"}}, body)
end
"""
    )


def posts_script(target: Target, *, threads: int) -> str:
    """POST the same form to a distinct path per request: request n (offset + thread id + k * threads) goes to
    paths[n mod P]. Answers other than 201 and 409 (e.g. a 303 redirect) are counted as `other`."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", **dict(target.headers)}
    lua_headers = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    lua_paths = ", ".join(json.dumps(p) for p in target.paths)
    return (
        _COMMON
        + _COUNTING
        + f"""
local paths = {{{lua_paths}}}
local headers = {{{lua_headers}}}
local form = {json.dumps(target.form)}
function init(args)
  c201 = 0; c409 = 0; cother = 0
  n = {target.offset} + tid
end
function request()
  local path = paths[(n % #paths) + 1]
  n = n + {threads}
  return wrk.format("POST", path, headers, form)
end
"""
    )


@dataclass(frozen=True, slots=True)
class Run:
    """One wrk run's numbers."""

    label: str
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int  # socket errors and timeouts
    non_2xx: int
    created: int  # 201 answers (only counted by POST scripts)
    conflicts: int  # 409 answers (only counted by POST scripts)
    other: int  # other answers (only counted by POST scripts)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def have_wrk() -> bool:
    """True if the `wrk` binary is on PATH."""
    return shutil.which("wrk") is not None


def run(
    label: str,
    target: Target,
    *,
    duration: float,
    connections: int,
    threads: int,
    engine: str = "wrk",
    timeout: float = 10.0,
) -> Run:
    """Load `target` for `duration` seconds with wrk or, where wrk is missing, the Python generator."""
    if engine == "wrk":
        return _run_wrk(label, target, duration=duration, connections=connections, threads=threads, timeout=timeout)
    return asyncio.run(_run_python(label, target, duration=duration, connections=connections, request_timeout=timeout))


def _run_wrk(label: str, target: Target, *, duration: float, connections: int, threads: int, timeout: float) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script(target, threads=threads))
        path = Path(f.name)
    url = target.base_url + (target.path if target.kind == "get" else "/")
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={timeout:g}s",
            "-s",
            str(path),
            url,
        ]
        out = subprocess.run(command, capture_output=True, text=True, timeout=duration + timeout + 30, check=True)
    finally:
        path.unlink(missing_ok=True)
    line = next((x for x in out.stdout.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result for {label}: {out.stdout[-500:]} {out.stderr[-500:]}")
    data = json.loads(line.removeprefix(MARKER))
    seconds = data["duration_us"] / 1e6
    return Run(
        label=label,
        requests=data["requests"],
        duration_s=round(seconds, 3),
        rps=round(data["requests"] / seconds, 1),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=round(data["mean_us"] / 1000, 3),
        max_ms=data["max_us"] / 1000,
        errors=data["errors_connect"] + data["errors_read"] + data["errors_write"] + data["errors_timeout"],
        non_2xx=data["errors_status"],
        created=data["s201"],
        conflicts=data["s409"],
        other=data["sother"],
    )


async def _run_python(label: str, target: Target, *, duration: float, connections: int, request_timeout: float) -> Run:
    """`connections` workers on one event loop, each sending its next request when the last one answered.

    A much weaker generator than wrk (the client's own Python CPU competes with the server's): use it only where
    wrk is missing, and compare only ratios measured with it.
    """
    loop = asyncio.get_running_loop()
    numbers = itertools.count(target.offset)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=target.base_url, limits=limits, timeout=request_timeout) as client:

        async def worker(deadline: float) -> None:
            nonlocal errors
            while loop.time() < deadline:
                started = time.perf_counter()
                try:
                    if target.kind == "get":
                        answer = await client.get(target.path, headers=dict(target.headers))
                    elif target.kind == "posts":
                        n = next(numbers)
                        answer = await client.post(
                            target.paths[n % len(target.paths)],
                            content=target.form,
                            headers={"Content-Type": "application/x-www-form-urlencoded", **dict(target.headers)},
                        )
                    elif target.kind == "insert":
                        answer = await client.post("/bench/insert", json={})
                    else:
                        body = target.body(next(numbers))
                        answer = await client.post(
                            "/api/v1/bookings", content=body, headers={"Content-Type": "application/json"}
                        )
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[answer.status_code] += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(loop.time() + duration) for _ in range(connections)))
        seconds = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    counting = target.kind != "get"
    return Run(
        label=label,
        requests=len(latencies),
        duration_s=round(seconds, 3),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=pct(0.50),
        p90_ms=pct(0.90),
        p99_ms=pct(0.99),
        mean_ms=round(sum(ordered) / len(ordered) * 1000, 3),
        max_ms=round(ordered[-1] * 1000, 3),
        errors=errors,
        non_2xx=sum(n for status, n in statuses.items() if not 200 <= status < 400),
        created=statuses[201] if counting else 0,
        conflicts=statuses[409] if counting else 0,
        other=sum(n for status, n in statuses.items() if status not in {201, 409}) if counting else 0,
    )
