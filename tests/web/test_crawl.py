"""A bounded crawl from the home page over GET links and GET forms, booking path included: every page answers 200
and every kind of page is reached. Then the same from a booking's manage page."""

from __future__ import annotations

from collections import Counter, deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest

from rathaus.offices.config import read_config
from tests.conftest import Harness

pytestmark = pytest.mark.anyio

DEMO = Path(__file__).resolve().parents[2] / "rathaus" / "demo" / "buergeramt.toml"
MAX_PAGES = 300
# Per choice of office and services: how many months and days of the booking path are followed.
MONTHS_PER_CHOICE = 2
DAYS_PER_CHOICE = 2
SEARCH_WORD = "pass"


class Page(HTMLParser):
    """The GET targets on a page: links, and GET forms filled as a citizen would (first choice, a search word)."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self._form: list[tuple[str, str]] | None = None
        self._action = ""
        self._picked: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "a" and values.get("href"):
            self.targets.append(values["href"])
        elif tag == "form" and values.get("method", "get").lower() == "get":
            self._form, self._action, self._picked = [], values.get("action", ""), set()
        elif tag == "input" and self._form is not None and values.get("name"):
            name, kind = values["name"], values.get("type", "text")
            if kind in {"radio", "checkbox"}:
                if name in self._picked:
                    return
                self._picked.add(name)
                self._form.append((name, values.get("value", "")))
            elif kind in {"text", "search"}:
                self._form.append((name, values.get("value") or SEARCH_WORD))
            elif kind == "hidden":
                self._form.append((name, values.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.targets.append(f"{self._action}?{urlencode(self._form)}")
            self._form = None


def kind_of(path: str, query: dict[str, list[str]]) -> str:
    if path == "/":
        return "search" if query.get("q") else "office choice" if query.get("office") else "home"
    for prefix, kind in (
        ("/services/", "service"),
        ("/life-events/", "life event"),
        ("/offices/", "office"),
        ("/bookings/", "manage"),
        ("/feeds/", "feed"),
    ):
        if path.startswith(prefix):
            return kind
    return {"/book": "booking start", "/book/day": "day", "/book/time": "time", "/book/contact": "contact"}.get(
        path, "calendar" if path.endswith(".ics") else path
    )


async def crawl(h: Harness, start: str) -> Counter[str]:
    """Visit what `start` leads to, breadth first, within the bounds; the kinds of page seen, counted."""
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    followed: dict[tuple[str, ...], set[str]] = {}
    queue = deque([start])
    while queue:
        target = queue.popleft()
        if target in seen:
            continue
        url = urlsplit(target)
        query = parse_qs(url.query)
        bound = {"/book/day": ("month", MONTHS_PER_CHOICE), "/book/time": ("date", DAYS_PER_CHOICE)}.get(url.path)
        if bound is not None:
            choice = (url.path, *(str(query.get(k)) for k in ("office", "services", "code")))
            values = followed.setdefault(choice, set())
            value = query.get(bound[0], [""])[0]
            if value not in values and len(values) >= bound[1]:
                continue
            values.add(value)
        seen.add(target)
        assert len(seen) <= MAX_PAGES, "the crawl did not end within its bounds"
        answer = await h.client.get(target)
        assert answer.status_code == 200, (target, answer.status_code)
        final = urlsplit(str(answer.url))
        kinds[kind_of(final.path, parse_qs(final.query))] += 1
        if not answer.headers["content-type"].startswith("text/html"):
            continue
        page = Page()
        page.feed(answer.text)
        for href in page.targets:
            link = urlsplit(urljoin(f"http://testserver{target}", href))
            # Only this site's pages; the language switch stores a choice rather than showing a page.
            if link.scheme in {"http", "https"} and link.netloc == "testserver" and link.path != "/language":
                queue.append(link.path + (f"?{link.query}" if link.query else ""))
    return kinds


async def test_a_crawl_from_home_reaches_every_kind_of_page_and_no_broken_link(harness: Harness) -> None:
    await harness.load(read_config(DEMO))
    kinds = await crawl(harness, "/")
    expected = {"home", "search", "service", "life event", "office", "feed"}
    assert expected | {"booking start", "day", "time", "contact"} <= set(kinds), kinds


async def test_a_crawl_from_the_manage_page_finds_no_broken_link(harness: Harness) -> None:
    await harness.load(read_config(DEMO))
    contact = await harness.client.get(
        "/book/contact", params={"office": "mitte", "services": "anmeldung", "start": "2027-01-11T08:00:00+01:00"}
    )
    assert contact.status_code == 200, contact.text
    form = Page()
    form.feed(contact.text.replace('method="post"', 'method="get"'))  # the form's hidden fields, as the page has them
    fields = parse_qs(urlsplit(next(t for t in form.targets if t.startswith("/book/contact?"))).query)
    data = {name: values[0] for name, values in fields.items()}
    data.update(name="Erika Mustermann", email="erika@example.org", phone="", language="de")
    booked = await harness.client.post("/book/contact", data=data, follow_redirects=False)
    assert booked.status_code == 303, booked.text
    kinds = await crawl(harness, booked.headers["location"])
    assert {"manage", "calendar", "day", "time"} <= set(kinds), kinds
