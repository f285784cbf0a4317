"""rathaus against a peer (issue 15, item 9): a day's availability against django-appointment's slots endpoint.

    .venv/bin/python -m bench.peer_bench [--quick] [--peer-venv DIR] [--output FILE]

The peer is set up from PyPI in a venv of its own (a temporary folder, or `--peer-venv DIR` to keep and reuse one),
so it never enters rathaus's dependencies: `django-appointment` 3.x and gunicorn, a minimal Django project on SQLite
(DEBUG off) with one 15-minute service and one staff member working Monday to Friday 08:00-16:00 in 15-minute
slots: the demo Bürgeramt Mitte's Anmeldung (15 minutes, 15-minute slots, Monday 08:00-16:00 with a lunch break).
The peer runs under gunicorn with one sync worker per CPU, as its documentation deploys it, loaded through two
connections per worker; rathaus runs under uvicorn in one process (as `rathaus serve` did when this was measured)
on the demo data, loaded through wrk's 64. Measured in the same interleaved rounds:

    peer-slots     GET /appointment/ajax/available_slots/?selected_date=<Monday>&staff_member=..&service_id=..
    rathaus-avail  GET /api/v1/offices/mitte/availability?services=anmeldung&date=<the same Monday>
    peer-hello     a Django view answering {"status": "ok"} under the same gunicorn
    rathaus-hello  the bare Litestar hello-world (bench/hello.py) under uvicorn

Reported: medians, rathaus ÷ peer (goal: at least 50 times) with per-round ratios, each against its own
hello-world, and the server CPU per request (whole process trees), which the machine's load moves far less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bench import loadgen
from bench.booking_bench import (
    RESULTS,
    Job,
    Server,
    ServerCpu,
    _free_port,
    machine,
    median_of,
    paired,
    run_rounds,
    start_server,
    stop_server,
    wait_ready,
)
from bench.feed_bench import DEMO, prepare
from bench.server_bench import plan_of

PEER_PACKAGES = ("django-appointment>=3,<4", "gunicorn")
# gunicorn's sync workers answer one request at a time each: two connections per worker keep every worker busy,
# where wrk's 64 would queue seconds of requests that the peer still answers during the next measurement.
PEER_WORKERS = os.cpu_count() or 1
PEER_CONNECTIONS = 2 * PEER_WORKERS
AJAX = (("X-Requested-With", "XMLHttpRequest"),)  # the peer answers its slots only to what looks like its own page

SETTINGS = """
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "peer-bench-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "phonenumber_field", "appointment",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware", "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware", "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "peer.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "peer.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "peer.sqlite3"}}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "auth.User"
APPOINTMENT_WEBSITE_NAME = "Peer"
"""

URLS = """
from django.http import JsonResponse
from django.urls import include, path

def health(request):
    return JsonResponse({"status": "ok"})

urlpatterns = [path("health", health), path("appointment/", include("appointment.urls"))]
"""

WSGI = """
import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
application = get_wsgi_application()
"""

# One service and one staff member like Mitte's Anmeldung; prints "<staff id> <service id>".
SEED = """
import datetime, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
import django
django.setup()
from django.contrib.auth.models import User
from appointment.models import Service, StaffMember, WorkingHours
service = Service.objects.create(name="Anmeldung", duration=datetime.timedelta(minutes=15), price=0)
user = User.objects.create_user(username="staff", email="staff@example.org", first_name="Erika", password="x" * 20)
staff = StaffMember.objects.create(
    user=user, slot_duration=15, lead_time=datetime.time(8), finish_time=datetime.time(16)
)
staff.services_offered.add(service)
for weekday in range(1, 6):  # the peer counts 0 = Sunday
    WorkingHours.objects.create(
        staff_member=staff, day_of_week=weekday, start_time=datetime.time(8), end_time=datetime.time(16)
    )
print(staff.id, service.id)
"""


def next_monday() -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


def set_up_peer(folder: Path) -> tuple[Path, str]:
    """The peer's venv and project in `folder` (installed once, seeded on a fresh database); its slots query."""
    python = folder / "venv" / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    project = folder / "project"
    (project / "peer").mkdir(parents=True, exist_ok=True)
    for name, text in {"__init__.py": "", "settings.py": SETTINGS, "urls.py": URLS, "wsgi.py": WSGI}.items():
        (project / "peer" / name).write_text(textwrap.dedent(text))
    (project / "peer" / "peer.sqlite3").unlink(missing_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "peer.settings"}
    # The package ships its models without migrations: its documentation has the project make them.
    for step in (["makemigrations", "appointment"], ["migrate"]):
        subprocess.run(
            [str(python), "-m", "django", *step, "-v0"], cwd=project, env=env, check=True, capture_output=True
        )
    seeded = subprocess.run(
        [str(python), "-c", SEED], cwd=project, env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    staff, service = seeded[-2:]
    return project, f"selected_date={next_monday()}&staff_member={staff}&service_id={service}"


@contextmanager
def peer_server(folder: Path, project: Path) -> Iterator[Server]:
    """The peer under gunicorn, one sync worker per CPU."""
    port = _free_port()
    log = folder / "gunicorn.log"
    gunicorn = folder / "venv" / "bin" / "gunicorn"
    command = [str(gunicorn), "--workers", str(PEER_WORKERS), "--bind", f"127.0.0.1:{port}", "peer.wsgi"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=project, stdout=out, stderr=subprocess.STDOUT)
    server = Server("peer", f"http://127.0.0.1:{port}", process, log)
    try:
        wait_ready(server)
        yield server
    finally:
        stop_server(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round (smoke test)")
    parser.add_argument("--peer-venv", type=Path, help="folder for the peer's venv and project (kept and reused)")
    parser.add_argument("--loadgen", choices=["wrk", "python"], default="wrk" if loadgen.have_wrk() else "python")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    plan = plan_of(args)
    began = machine()
    runs: dict[str, list[loadgen.Run]] = {}
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        tmp = Path(directory)
        folder = args.peer_venv.resolve() if args.peer_venv else tmp / "peer"
        folder.mkdir(parents=True, exist_ok=True)
        print(f"setting up django-appointment in {folder}", flush=True)
        project, query = set_up_peer(folder)
        url = f"sqlite+aiosqlite:///{tmp / 'rathaus.db'}"
        asyncio.run(prepare(url, DEMO))
        peer = stack.enter_context(peer_server(folder, project))
        rathaus = start_server("rathaus", url, tmp, slot_cache=True)
        hello = start_server("hello", "", tmp, slot_cache=True, app="bench.hello:app")
        for server in (rathaus, hello):
            stack.callback(stop_server, server)
            wait_ready(server)
        day = next_monday()
        targets = {
            "peer-slots": (peer, f"/appointment/ajax/available_slots/?{query}", AJAX),
            "rathaus-avail": (rathaus, f"/api/v1/offices/mitte/availability?services=anmeldung&date={day}", ()),
            "peer-hello": (peer, "/health", ()),
            "rathaus-hello": (hello, "/health", ()),
        }
        slots = {}
        for label, (server, path, headers) in targets.items():
            answer = httpx.get(server.url + path, headers=dict(headers), timeout=30)
            assert answer.status_code == 200, (label, answer.status_code, answer.text[:300])
            if label == "peer-slots":
                slots[label] = len(answer.json()["available_slots"])
            elif label == "rathaus-avail":
                slots[label] = len(answer.json()["slots"])
        print(f"slots on {day}: {slots}", flush=True)
        meters = {server.name: ServerCpu(server.process.pid) for server in (peer, rathaus, hello)}
        jobs = []
        for label, (server, path, headers) in targets.items():
            meter, target = meters[server.name], loadgen.Target(server.url, "get", path, headers=headers)
            start = lambda m=meter, t=target, label=label: m.start(label, t)  # noqa: E731
            connections = min(plan.connections, PEER_CONNECTIONS) if server is peer else plan.connections
            jobs.append(Job(label, start, connections, plan.threads, after=meter.stop))
        run_rounds(jobs, plan, runs, engine=args.loadgen)
    medians = {label: median_of(r) for label, r in runs.items()}
    cpu_us = {
        label: round(statistics.median(values[-plan.rounds :]), 1)
        for meter in meters.values()
        for label, values in meter.per_request_us.items()
    }
    ratios = {
        "rathaus-avail / peer-slots req/s": round(medians["rathaus-avail"]["rps"] / medians["peer-slots"]["rps"], 2),
        "peer-slots / peer-hello req/s": round(medians["peer-slots"]["rps"] / medians["peer-hello"]["rps"], 3),
        "rathaus-avail / rathaus-hello req/s": round(
            medians["rathaus-avail"]["rps"] / medians["rathaus-hello"]["rps"], 3
        ),
        "rathaus-hello / peer-hello req/s": round(medians["rathaus-hello"]["rps"] / medians["peer-hello"]["rps"], 2),
        "peer-slots / rathaus-avail CPU per request": round(cpu_us["peer-slots"] / cpu_us["rathaus-avail"], 2),
    }
    per_round = {"rathaus-avail / peer-slots": paired(runs, "rathaus-avail", "peer-slots", "rps")}
    print(f"\nmedians over {plan.rounds} round(s):")
    for label, numbers in medians.items():
        print(
            f"  {label:<14} {numbers['rps']:>9.1f} req/s  p50 {numbers['p50_ms']:>8.2f} ms"
            f"  p99 {numbers['p99_ms']:>8.2f} ms  CPU {cpu_us[label]:>8.0f} µs/request"
        )
    for name, value in ratios.items():
        print(f"  {name:<44} {value}")
    print(f"  per round rathaus-avail / peer-slots: {per_round['rathaus-avail / peer-slots']}")
    result = {
        **began,
        "load_average_at_end": os.getloadavg(),
        "day": str(day),
        "slots": slots,
        "plan": plan.__dict__,
        "medians": medians,
        "cpu_us_per_request": cpu_us,
        "ratios": ratios,
        "per_round": per_round,
        "runs": {label: [r.as_dict() for r in rs] for label, rs in runs.items()},
    }
    output = args.output or RESULTS / f"peer-{datetime.now(UTC):%Y%m%dT%H%M%S}{'-quick' if args.quick else ''}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    print(f"written {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
