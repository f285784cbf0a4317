"""What a city website embeds: schema.org JSON-LD and an accessible HTML snippet."""

import json
from datetime import UTC, datetime

import pytest

from rathaus.clock import ManualClock
from tests.browser import axe_violations, chromium_browser, chromium_or_skip
from tests.conftest import Harness
from tests.factories import make_config

pytestmark = pytest.mark.anyio


def config() -> object:
    return make_config(
        hours={"mon": ["08:00-12:00"], "thu": ["11:00-19:00"]},
        special_hours=[{"date": "2027-03-13", "hours": ["10:00-14:00"], "note": {"de": "Samstag", "en": "Saturday"}}],
        closures=[
            {"date": "2027-03-08", "reason": {"de": "Frauentag", "en": "Women's Day"}},
            {
                "start": "2027-03-11T11:00:00",
                "end": "2027-03-11T13:00:00",
                "reason": {"de": "Versammlung", "en": "Meeting"},
            },
            {"date": "2027-06-24", "reason": {"de": "Betriebsausflug", "en": "Staff outing"}},
        ],
        horizon_days=120,
        address="Musterstraße 1, 10115 Berlin",
    )


async def test_json_ld_has_weekly_hours_and_dated_exceptions(harness: Harness, clock: ManualClock) -> None:
    clock.set(datetime(2027, 3, 1, tzinfo=UTC))
    await harness.load(config())
    answer = await harness.client.get("/feeds/amt/hours.jsonld?lang=en")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/ld+json")
    document = json.loads(answer.content)
    assert document["@type"] == "GovernmentOffice" and document["name"] == "Test office"
    specs = document["openingHoursSpecification"]
    weekly = [(s["dayOfWeek"], s["opens"], s["closes"]) for s in specs if "dayOfWeek" in s]
    assert weekly == [
        ("https://schema.org/Monday", "08:00", "12:00"),
        ("https://schema.org/Thursday", "11:00", "19:00"),
    ]
    assert all("validFrom" not in s for s in specs)  # dated exceptions are special opening hours
    special = document["specialOpeningHoursSpecification"]
    dated = {(s["validFrom"], s.get("opens"), s.get("closes")) for s in special}
    assert ("2027-03-08", None, None) in dated  # closed all day: no opening times at all
    assert all(s.get("opens") != "00:00" for s in special)
    assert {("2027-03-11", "11:00", "11:00")} & dated == set()
    assert {("2027-03-11", "13:00", "19:00"), ("2027-03-13", "10:00", "14:00")} <= dated
    assert all(s["validFrom"] == s["validThrough"] for s in special)
    # Far ahead, inside the booking horizon (120 days) but past the 90 days listed before.
    assert ("2027-06-24", None, None) in dated
    assert document["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Musterstraße 1",
        "postalCode": "10115",
        "addressLocality": "Berlin",
    }


async def test_embed_snippet_escapes_and_speaks_both_languages(harness: Harness, clock: ManualClock) -> None:
    clock.set(datetime(2027, 3, 1, tzinfo=UTC))
    await harness.load(config())
    german = (await harness.client.get("/feeds/amt/embed.html")).text
    english = (await harness.client.get("/feeds/amt/embed.html?lang=en")).text
    assert 'lang="de"' in german and "Öffnungszeiten" in german and "geschlossen" in german and "Frauentag" in german
    assert 'lang="en"' in english and "Walk-ins until" in english and "Women&#39;s Day" in english  # escaped
    assert "<time>18:45</time>" in german  # Thursday 19:00 minus the 15-minute cut-off of the shortest service
    assert '<script type="application/ld+json">' in german


@pytest.mark.browser
async def test_embed_snippet_has_no_accessibility_violations(harness: Harness, clock: ManualClock) -> None:
    chromium = chromium_or_skip()

    clock.set(datetime(2027, 3, 1, tzinfo=UTC))
    await harness.load(config())
    for language in ("de", "en"):
        snippet = (await harness.client.get(f"/feeds/amt/embed.html?lang={language}")).text
        page_html = (
            f'<!doctype html><html lang="{language}"><head><title>Stadt</title></head>'
            f"<body><main>{snippet}</main></body></html>"
        )
        async with chromium_browser(chromium) as browser:
            page = await browser.new_page()
            await page.set_content(page_html)
            violations = await axe_violations(page)
        assert violations == []
