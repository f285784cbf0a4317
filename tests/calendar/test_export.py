"""`rathaus feeds export DIR`: every office's feeds as files, rewritten atomically and only when changed."""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from rathaus.notify.calendar.export import export_feeds
from rathaus.offices.config import read_config
from tests.conftest import Harness
from tests.factories import make_config

pytestmark = pytest.mark.anyio
RATHAUS = str(Path(sys.executable).parent / "rathaus")
FILES = sorted(
    [
        "closures.ics",
        "closures.en.ics",
        "hours.ics",
        "hours.en.ics",
        "hours.jsonld",
        "hours.en.jsonld",
        "embed.html",
        "embed.en.html",
    ]
)


async def test_export_writes_each_feed_once_and_rewrites_what_changed(harness: Harness, tmp_path: Path) -> None:
    await harness.load(make_config())
    first = await export_feeds(harness.runtime, tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in first)
    assert names == [f"amt/{name}" for name in FILES]
    served = await harness.client.get("/feeds/amt/hours.ics")
    assert (tmp_path / "amt" / "hours.ics").read_bytes() == served.content

    assert await export_feeds(harness.runtime, tmp_path) == []  # nothing changed, nothing written

    changed = make_config(closures=[{"date": "2027-01-13", "reason": {"de": "Umzug", "en": "Moving"}}])
    await harness.load(changed)
    rewritten = {p.name for p in await export_feeds(harness.runtime, tmp_path)}
    assert {"closures.ics", "closures.en.ics", "hours.ics", "hours.en.ics"} <= rewritten
    assert "Umzug" in (tmp_path / "amt" / "closures.ics").read_text()
    assert sorted(os.listdir(tmp_path / "amt")) == FILES


def test_export_command(tmp_path: Path, sqlite_url: str) -> None:
    env = {
        **os.environ,
        "RATHAUS_DATABASE_URL": sqlite_url,
        "RATHAUS_ENVIRONMENT": "test",
        "RATHAUS_SECRET_KEY": "k" * 40,
    }
    demo = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"
    assert subprocess.run([RATHAUS, "load", str(demo)], env=env, capture_output=True, check=False).returncode == 0
    result = subprocess.run(
        [RATHAUS, "feeds", "export", str(tmp_path / "public")], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    offices = len(read_config(demo).offices)
    assert f"{offices * len(FILES)} feed file(s)" in result.stdout
    assert (tmp_path / "public" / "mitte" / "closures.ics").read_text().startswith("BEGIN:VCALENDAR")


def test_export_command_names_bad_settings(tmp_path: Path, sqlite_url: str) -> None:
    env = {
        **os.environ,
        "RATHAUS_DATABASE_URL": sqlite_url,
        "RATHAUS_ENVIRONMENT": "test",
        "RATHAUS_SECRET_KEY": "k" * 40,
        "RATHAUS_NOTIFY_BATCH_SIZE": "abc",
    }
    result = subprocess.run(
        [RATHAUS, "feeds", "export", str(tmp_path / "public")], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr == "Error: RATHAUS_NOTIFY_BATCH_SIZE='abc' is not a whole number\n"


async def test_the_export_job_writes_only_when_configured(harness: Harness, tmp_path: Path) -> None:
    from rathaus.notify.calendar.jobs import export_feed_files

    await harness.load(make_config())
    assert await export_feed_files(harness.runtime) == []
    settings = replace(harness.runtime.settings, feeds_export_dir=tmp_path / "www")
    written = await export_feed_files(replace(harness.runtime, settings=settings))
    assert isinstance(written, list) and len(written) == len(FILES)
    assert sorted(os.listdir(tmp_path / "www" / "amt")) == FILES
