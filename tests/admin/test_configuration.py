"""An office's configuration exported as TOML, imported again (also into a fresh database), and edited."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from rathaus.clock import ManualClock
from rathaus.offices.config import parse_config
from rathaus.offices.models import Closure
from tests.admin.helpers import csrf, rich_config, sign_in_admin
from tests.conftest import Harness, open_harness

pytestmark = pytest.mark.anyio
ADMIN = "/staff/amt/admin"


async def export(harness: Harness) -> str:
    answer = await harness.client.get(f"{ADMIN}/configuration.toml")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == 'attachment; filename="amt.toml"'
    return answer.text


async def public_office(harness: Harness) -> dict[str, Any]:
    """The office as the API shows it, without the database's row ids."""
    office: dict[str, Any] = (await harness.client.get("/api/v1/offices/amt")).json()
    for closure in office["upcoming_closures"]:
        closure.pop("id")
    return office


async def import_text(harness: Harness, text: str) -> tuple[int, str]:
    page = await harness.client.get(f"{ADMIN}/configuration")
    answer = await harness.client.post(
        f"{ADMIN}/configuration", data={"text": text, "_csrf_token": csrf(page)}, follow_redirects=False
    )
    return answer.status_code, answer.text


async def test_export_import_into_a_fresh_database_gives_the_same_office(
    harness: Harness, tmp_path: Path, sqlite_template: Path, clock: ManualClock
) -> None:
    await harness.load(rich_config())
    await sign_in_admin(harness)
    text = await export(harness)
    assert parse_config(text, source="export").offices[0].slug == "amt"  # what `rathaus load` reads
    office = await public_office(harness)

    fresh = tmp_path / "fresh.db"
    shutil.copy(sqlite_template, fresh)
    async with open_harness(f"sqlite+aiosqlite:///{fresh}", clock) as other:
        # An empty database has no office to administer: the file is applied as `rathaus load` applies it.
        await other.load(parse_config(text, source="export"))
        await sign_in_admin(other)
        assert await export(other) == text
        assert await public_office(other) == office
        status, _ = await import_text(other, text)
        assert status == 303
        assert await export(other) == text


async def test_a_bad_import_changes_nothing_and_says_where(harness: Harness) -> None:
    await harness.load(rich_config())
    await sign_in_admin(harness)
    before = await export(harness)
    async with harness.session() as s:
        closures = await s.scalar(select(func.count()).select_from(Closure))
    broken = before.replace("walk_in_cutoff_minutes = 30", "walk_in_cutoff_minutes = 30\nslot_minutes = 7").replace(
        'services = ["a"]', 'services = ["nope"]'
    )

    status, page = await import_text(harness, broken)

    assert status == 422
    assert "offices[0].counters[1].services[0]: unknown service &#39;nope&#39;" in page
    assert "offices[0].slot_minutes" in page
    assert await export(harness) == before
    async with harness.session() as s:
        assert await s.scalar(select(func.count()).select_from(Closure)) == closures

    status, page = await import_text(harness, before.replace("[[offices]]", "[[offices]\n"))
    assert status == 422 and "line" in page
    status, page = await import_text(harness, before.replace('slug = "amt"', 'slug = "elsewhere"'))
    assert status == 422 and "declare exactly this office" in page
    assert await export(harness) == before


async def test_weekly_hours_are_edited_through_the_loader(harness: Harness) -> None:
    await harness.load(rich_config())
    await sign_in_admin(harness)
    page = await harness.client.get(f"{ADMIN}/hours")
    form = {day: "08:00-12:00" for day in ("mon", "tue", "wed", "thu", "fri")}

    bad = await harness.client.post(f"{ADMIN}/hours", data={**form, "sat": "09:00-25:00", "_csrf_token": csrf(page)})
    assert bad.status_code == 422 and "offices[0].hours.sat[0]" in bad.text
    good = await harness.client.post(
        f"{ADMIN}/hours", data={**form, "sat": "09:00-13:00", "_csrf_token": csrf(page)}, follow_redirects=False
    )
    assert good.status_code == 303
    text = await export(harness)
    assert 'sat = ["09:00-13:00"]' in text
    # The holidays and the closures from the file survived the edit.
    assert "[offices.holidays]" in text and 'reason = { de = "Umzug", en = "Moving" }' in text


async def test_services_counters_and_life_events_are_edited_through_the_loader(harness: Harness) -> None:
    await harness.load(rich_config())
    await sign_in_admin(harness)
    page = await harness.client.get(f"{ADMIN}/services")
    token = csrf(page)
    service = {
        "name_de": "Dienst A",
        "name_en": "Service A",
        "duration_minutes": "20",
        "bring_de": "Ausweis und Foto",
        "fee_eur": "12,50",
        "walk_in_cutoff_minutes": "",
        "bookable_online": "on",
        "_csrf_token": token,
    }

    bad = await harness.client.post(f"{ADMIN}/services/a", data={**service, "duration_minutes": "0"})
    assert bad.status_code == 422 and "services[0].duration_minutes" in bad.text
    good = await harness.client.post(f"{ADMIN}/services/a", data=service, follow_redirects=False)
    assert good.status_code == 303
    text = await export(harness)
    assert 'duration_minutes = 20\nbring = { de = "Ausweis und Foto" }\nfee_eur = 12.5\nwalk_ins = false' in text

    counter = {"name": "Counter 3", "services": ["b"], "walk_in_only": "on", "_csrf_token": token}
    unknown = await harness.client.post(f"{ADMIN}/counters", data={**counter, "services": ["zz"]})
    assert unknown.status_code == 422 and "unknown service &#39;zz&#39;" in unknown.text
    assert (await harness.client.post(f"{ADMIN}/counters", data=counter, follow_redirects=False)).status_code == 303
    retire = {"name": "Counter 2", "services": ["a"], "remove": "on", "_csrf_token": token}
    answer = await harness.client.post(f"{ADMIN}/counters/Counter%202", data=retire, follow_redirects=False)
    assert answer.status_code == 303
    text = await export(harness)
    assert 'name = "Counter 3"\nservices = ["b"]\nwalk_in_only = true' in text and "Counter 2" not in text

    bundle = {"slug": "ausweis", "name_de": "Neuer Ausweis", "services": ["a"], "_csrf_token": token}
    assert (await harness.client.post(f"{ADMIN}/bundles", data=bundle, follow_redirects=False)).status_code == 303
    clash = await harness.client.post(f"{ADMIN}/bundles", data=bundle)
    assert clash.status_code == 422 and "bundles[2]: &#39;ausweis&#39; appears more than once" in clash.text
    assert 'slug = "ausweis"\nname = { de = "Neuer Ausweis" }\nservices = ["a"]' in await export(harness)
