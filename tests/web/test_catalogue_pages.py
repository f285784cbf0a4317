"""The citizens' catalogue pages over HTTP: search, services, life events, offices (their links: test_crawl.py)."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rathaus.offices.config import read_config
from tests.conftest import Harness

pytestmark = pytest.mark.anyio

DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"
ENGLISH = {"Accept-Language": "en"}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.json_ld: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        self._in_ld = tag == "script" and values.get("type") == "application/ld+json"

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_ld = False


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
async def demo(harness: Harness) -> Harness:
    await harness.load(read_config(DEMO))
    return harness


@pytest.mark.parametrize("headers", [{}, ENGLISH])
async def test_search_tolerates_synonyms_and_typos_in_every_language(demo: Harness, headers: dict[str, str]) -> None:
    name = "Register your address" if headers else "Wohnsitz anmelden"
    for query in ("ummelden", "Wohnsitz anmeldn", "register adress"):
        page = await demo.client.get("/", params={"q": query}, headers=headers)
        assert page.status_code == 200
        results = page.text.split('id="results"', 1)[1]
        first = parse(results).hrefs[0]
        assert first in {"/services/anmeldung", "/life-events/umzug"}, (query, first)
        assert name in results
    nothing = await demo.client.get("/", params={"q": "qqqxxx"}, headers=headers)
    assert "/services/" not in nothing.text.split('id="results"', 1)[1].split("</section>", 1)[0]


async def test_home_lists_everything_and_the_rebook_link_leads_to_the_office(demo: Harness) -> None:
    page = await demo.client.get("/")
    hrefs = parse(page.text).hrefs
    assert "/life-events/umzug" in hrefs and "/services/reisepass" in hrefs and "/offices/mitte" in hrefs
    rebook = await demo.client.get("/?office=mitte")
    assert rebook.status_code == 200
    assert "/book?services=anmeldung&office=mitte" in parse(rebook.text).hrefs
    assert (await demo.client.get("/?office=nowhere")).status_code == 200


async def test_service_page_shows_facts_and_the_next_free_slot(demo: Harness) -> None:
    german = await demo.client.get("/services/personalausweis")
    text = text_of(german.text)
    assert german.status_code == 200
    assert "Personalausweis beantragen" in text and "biometrisches Passfoto" in text and "46,00" in text
    assert "Bürgeramt Mitte" in text and "Nächster freier Termin: Montag, 11. Januar 2027, 08:00" in text
    assert "/book?services=personalausweis&office=mitte" in parse(german.text).hrefs
    english = text_of((await demo.client.get("/services/personalausweis", headers=ENGLISH)).text)
    assert "Apply for an ID card" in english and "€46.00" in english and "Monday, January 11, 2027, 08:00" in english
    walk_in = text_of((await demo.client.get("/services/beglaubigung", headers=ENGLISH)).text)
    assert "Without an appointment only" in walk_in and "/book?" not in walk_in


async def test_life_event_page_books_all_services_at_once(demo: Harness) -> None:
    page = await demo.client.get("/life-events/umzug")
    assert "Umzug nach Berlin" in page.text and "/book?services=anmeldung,personalausweis" in parse(page.text).hrefs
    assert "/services/anmeldung" in parse(page.text).hrefs
    english = await demo.client.get("/life-events/umzug", headers=ENGLISH)
    assert "Moving to Berlin" in english.text and "Book all as one appointment" in english.text


async def test_office_page_shows_hours_cut_off_wait_facilities_feeds_and_json_ld(demo: Harness) -> None:
    demo.clock.set(demo.clock.now().replace(hour=9))  # Monday 10:00 in Berlin: open
    page = await demo.client.get("/offices/mitte")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Karl-Marx-Allee 31" in text and 'href="tel:+4930115"' in page.text
    assert "openstreetmap.org/?mlat=52.51860&amp;mlon=13.41720" in page.text
    assert "Geöffnet 08:00\N{EN DASH}13:00; ohne Termin bis 12:30" in text
    assert "Wartezeit ohne Termin gerade: etwa 0 Minuten." in text
    assert "Samstagsöffnung" in text and "Personalversammlung" in text and "Stufenloser Zugang" in text
    assert "Donnerstag" in text and "11:00\N{EN DASH}19:00" in text
    (document,) = (json.loads(block) for block in parse(page.text).json_ld)
    assert document["@type"] == "GovernmentOffice" and document["name"] == "Bürgeramt Mitte"
    hrefs = parse(page.text).hrefs
    assert "webcal://testserver/feeds/mitte/closures.ics" in hrefs
    for feed in ("/feeds/mitte/closures.ics", "/feeds/mitte/hours.ics"):
        assert f"http://testserver{feed}" in hrefs
        assert (await demo.client.get(feed)).status_code == 200
    english = text_of((await demo.client.get("/offices/mitte", headers=ENGLISH)).text)
    assert "Open 08:00\N{EN DASH}13:00; walk-ins until 12:30" in english and "Step-free access" in english
    assert "Thursday" in english and "Staff meeting" in english


@pytest.mark.parametrize("path", ["/services/nope", "/life-events/nope", "/offices/nope"])
async def test_unknown_slugs_answer_a_404_page(demo: Harness, path: str) -> None:
    page = await demo.client.get(path, headers=ENGLISH)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and 'class="skip-link"' in page.text
