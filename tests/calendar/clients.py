"""Real calendar clients for the tests: Mozilla's ical.js (run with node) and Python's vobject."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import vobject

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
READER = Path(__file__).with_name("read_ics.mjs")


def icaljs(data: bytes, tmp_path: Path, *, between: tuple[datetime, datetime] | None = None) -> list[dict[str, Any]]:
    """What ical.js reads from `data`: one dict per event (or per occurrence inside `between`)."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "ical.js").exists():
        skip_or_fail("CALENDAR", "node and node_modules/ical.js are needed (run `npm ci`)")
    path = tmp_path / f"calendar-{len(list(tmp_path.glob('*.ics')))}.ics"
    path.write_bytes(data)
    args = [str(node), str(READER), str(path)]
    if between:
        args += [between[0].astimezone(UTC).isoformat(), between[1].astimezone(UTC).isoformat()]
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def vobject_events(data: bytes) -> list[Any]:
    """The VEVENTs as vobject parses them (raises on a syntax error)."""
    # vobject keeps the first VTIMEZONE it ever parsed for a TZID, for the whole process: a calendar read after
    # another one with the same TZID but other years' rules would be read with those (order-dependent failures).
    # A client reads each file with its own VTIMEZONEs, so forget the earlier ones.
    registry = vars(vobject.icalendar)["__tzidMap"]
    registry.clear()
    vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)
    calendar = vobject.readOne(data.decode("utf-8"))
    return list(calendar.vevent_list) if hasattr(calendar, "vevent_list") else []


def utc(value: str) -> datetime:
    """An ISO instant from ical.js as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
