"""`rathaus load`: idempotent, all-or-nothing, with errors that name the place in the file."""

import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from rathaus.booking.models import Booking
from rathaus.cli import DEMO
from rathaus.offices.config import ConfigError, read_config
from rathaus.offices.models import Closure, Counter, LifeEvent, Office, OpeningHours, Service, TravelTime
from tests.conftest import Harness
from tests.factories import booking_body, make_config

pytestmark = pytest.mark.anyio
RATHAUS = str(Path(sys.executable).parent / "rathaus")


async def counts(harness: Harness) -> dict[str, int]:
    async with harness.session() as s:
        return {
            model.__name__: await s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Office, Service, Counter, OpeningHours, Closure, TravelTime, LifeEvent)
        }


async def test_demo_loads_idempotently_with_the_holidays_of_berlin(harness: Harness) -> None:
    config = read_config(DEMO)
    await harness.load(config)
    first = await counts(harness)
    await harness.load(config)
    assert await counts(harness) == first
    # The demo city: two Bürgerämter, a vehicle registration office and a registry office, with the travel
    # times between each pair in both directions and life events across them.
    assert first["Office"] == 4 and first["Service"] >= 6 and first["Counter"] == 12
    assert first["TravelTime"] == 12 and first["LifeEvent"] == 3
    async with harness.session() as s:
        holidays = (
            await s.scalars(select(Closure).where(Closure.source == "holidays").order_by(Closure.start_at))
        ).all()
    names = {c.reason.get("de") for c in holidays}
    # The clock stands in January 2027: this year's and next year's Berlin holidays, from the holidays package.
    assert {"Neujahr", "Frauentag", "Tag der Deutschen Einheit", "Erster Weihnachtstag"} <= names
    assert {c.start_at.astimezone(ZoneInfo("Europe/Berlin")).year for c in holidays} == {2027, 2028}
    office = (await harness.client.get("/api/v1/offices/mitte?lang=en")).json()
    assert office["walk_in_cutoff_minutes"] == 30
    assert office["weekly_hours"]["thu"] == ["11:00-19:00"]


async def test_reload_applies_changes_and_keeps_staff_closures(harness: Harness) -> None:
    await harness.load(make_config())
    token_free = await harness.client.post("/api/v1/bookings", json=booking_body("2027-01-13T09:00:00+01:00"))
    assert token_free.status_code == 201
    changed = make_config(
        hours={"mon": ["08:00-12:00"], "wed": ["08:00-12:00", "14:00-18:00"]},
        closures=[{"date": "2027-01-13", "reason": {"de": "Umzug", "en": "Moving"}}],
    )
    await harness.load(changed)
    office = (await harness.client.get("/api/v1/offices/amt")).json()
    assert office["weekly_hours"] == {"mon": ["08:00-12:00"], "wed": ["08:00-12:00", "14:00-18:00"]}
    async with harness.session() as s:
        booking = await s.scalar(select(Booking))
        assert booking is not None and booking.status == "cancelled" and booking.cancel_reason == "closure"
    await harness.load(make_config())  # the closure leaves with the file
    async with harness.session() as s:
        assert await s.scalar(select(func.count()).select_from(Closure)) == 0


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "offices.toml"
    path.write_text(text, encoding="utf-8")
    return path


BROKEN = """
[[services]]
slug = "a"
name = { de = "A", en = "A" }
duration_minutes = 15

[[offices]]
slug = "x"
name = { de = "X", en = "X" }
timezone = "Mars/Olympus"
slot_minutes = 7
hours = { mon = ["14:00-12:00"], funday = ["08:00-09:00"], tue = ["08:10-12:00"] }
counters = [{ name = "1", services = ["a", "nope"] }]
closures = [{ reason = { de = "r", en = "r" } }]
"""


def test_an_invalid_file_names_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_config(write(tmp_path, BROKEN))
    problems = "\n".join(caught.value.problems)
    for expected in (
        "offices[0].timezone: unknown time zone 'Mars/Olympus'",
        "offices[0].slot_minutes: must divide an hour",
        "offices[0].counters[0].services[1]: unknown service 'nope'",
        "offices[0].hours.mon[0]: '14:00-12:00' closes before it opens",
        "offices[0].hours.funday: not a weekday",
        "offices[0].closures[0]: needs a date, or a start and an end",
    ):
        assert expected in problems


def test_type_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_config(
            write(tmp_path, '[[services]]\nslug = "a"\nname = { de = "A", en = "A" }\nduration_minutes = "long"\n')
        )
    assert "$.services[0].duration_minutes" in str(caught.value)


def test_cli_load_refuses_a_bad_file_and_changes_nothing(tmp_path: Path, sqlite_url: str) -> None:
    env = {
        **os.environ,
        "RATHAUS_DATABASE_URL": sqlite_url,
        "RATHAUS_ENVIRONMENT": "test",
        "RATHAUS_SECRET_KEY": "k" * 40,
    }
    bad = subprocess.run(
        [RATHAUS, "load", str(write(tmp_path, BROKEN))], env=env, capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert "unknown time zone" in bad.stderr and "nothing was changed" in bad.stderr
    good = subprocess.run([RATHAUS, "load", str(DEMO)], env=env, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    assert "created" in good.stdout
    again = subprocess.run([RATHAUS, "load", str(DEMO)], env=env, capture_output=True, text=True, check=False)
    assert again.stdout.startswith("0 created, 0 updated")
