"""The demo city and life events across offices in the configuration file: loading, checks, export."""

from pathlib import Path

import msgspec
import pytest

from rathaus.offices import service as offices
from rathaus.offices.catalog import Catalog
from rathaus.offices.config import Config, ConfigError, check, parse_config, read_config
from tests.conftest import Harness

pytestmark = pytest.mark.anyio
DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"


async def test_the_city_loads_with_travel_times_and_life_events(harness: Harness) -> None:
    await harness.load(read_config(DEMO))
    async with harness.session() as s:
        snapshot = await harness.runtime.get(Catalog).get(s, now=harness.clock.now())
        mitte_id = snapshot.offices["mitte"].id
        exported = await offices.office_config(s, office_id=mitte_id)
    mitte, pankow, kfz = (snapshot.offices[slug] for slug in ("mitte", "pankow", "kfz"))
    assert snapshot.travel(mitte, kfz).total_seconds() == 30 * 60
    assert snapshot.travel(kfz, pankow).total_seconds() == 40 * 60
    assert snapshot.travel(mitte, mitte) == mitte.buffer
    moving = snapshot.life_events["nach-berlin-ziehen"]
    assert [step.key for step in moving.steps] == ["adresse", "fahrzeug"]
    assert [o.slug for o in moving.steps[0].offices] == ["mitte", "pankow"]
    assert moving.steps[1].after == {"adresse"} and moving.max_days == 3
    assert {item.url.split("/")[2] for item in moving.checklist} >= {"www.deutschepost.de", "www.rundfunkbeitrag.de"}
    assert len(snapshot.life_events["neu-mit-familie"].steps) == 3
    assert exported.offices[0].travel_minutes == {"kfz": 30, "pankow": 20, "standesamt": 10}
    reread = parse_config(offices.dump_toml(exported), source="export")
    assert reread.offices[0].travel_minutes == exported.offices[0].travel_minutes


def _with_event(**step: object) -> Config:
    base = read_config(DEMO)
    raw = msgspec.to_builtins(base)
    raw["life_events"] = [{"slug": "x", "name": {"de": "X"}, "steps": [step]}]
    return msgspec.convert(raw, Config)


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (
            {"key": "a", "services": ["anmeldung"], "offices": ["mitte"], "after": ["b"]},
            "is not a step declared before",
        ),
        (
            {"key": "a", "services": ["kfz-zulassung"], "offices": ["mitte"]},
            "no counter of 'mitte' serves kfz-zulassung",
        ),
        ({"key": "a", "services": ["nope"], "offices": ["mitte"]}, "unknown service 'nope'"),
        ({"key": "a", "services": ["anmeldung"], "offices": []}, "list at least one office"),
    ],
)
def test_bad_life_events_are_named_with_their_place(step: dict[str, object], problem: str) -> None:
    problems = check(_with_event(**step))
    assert any(p.startswith("life_events[0].steps[0]") and problem in p for p in problems), problems


def test_travel_to_the_office_itself_is_refused() -> None:
    text = DEMO.read_text(encoding="utf-8").replace("pankow = 20\n", "mitte = 20\n", 1)
    with pytest.raises(ConfigError, match=r"offices\[0\]\.travel_minutes\.mitte: travel from an office to itself"):
        parse_config(text, source="demo")


async def test_unknown_offices_are_refused_on_load_and_nothing_is_written(harness: Harness) -> None:
    config = read_config(DEMO)
    broken = msgspec.structs.replace(
        config,
        offices=[msgspec.structs.replace(config.offices[0], travel_minutes={"atlantis": 5}), *config.offices[1:]],
    )
    with pytest.raises(ConfigError, match=r"offices\[0\]\.travel_minutes\.atlantis: unknown office 'atlantis'"):
        await harness.load(broken)
    assert (await harness.client.get("/api/v1/offices")).json() == []
