"""What every page stands on: the layout in the reader's language, fingerprinted static files, security headers,
CSRF on forms, compression."""

import re

import pytest

from tests.conftest import Harness
from tests.factories import make_config

pytestmark = pytest.mark.anyio


async def test_home_page_speaks_the_reader_language_and_keeps_a_switch(harness: Harness) -> None:
    await harness.load(make_config())
    german = await harness.client.get("/")
    assert german.status_code == 200 and '<html lang="de">' in german.text and "Dienst A" in german.text
    english = await harness.client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "Service A" in english.text
    switch = await harness.client.get("/language?lang=en&back=/", follow_redirects=False)
    assert switch.status_code == 303 and switch.headers["location"] == "/"
    assert "rathaus_lang=en" in switch.headers["set-cookie"]
    assert '<html lang="en">' in (await harness.client.get("/")).text  # the cookie now decides
    away = await harness.client.get("/language?lang=de&back=//evil.example/", follow_redirects=False)
    assert away.headers["location"] == "/"


async def test_pages_send_a_strict_policy_and_no_referrer(harness: Harness) -> None:
    await harness.load(make_config())
    page = await harness.client.get("/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_static_files_have_fingerprinted_names_and_a_long_life(harness: Harness) -> None:
    await harness.load(make_config())
    page = (await harness.client.get("/")).text
    urls = re.findall(r'href="(/static/[^"]+\.css)"', page)
    harness.client.cookies.clear()  # as a shared cache or a first visit asks
    assert any(u.startswith("/static/rathaus.") for u in urls)
    for url in urls:
        answer = await harness.client.get(url, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200 and "immutable" in answer.headers["cache-control"]
        assert re.fullmatch(r"/static/\w+\.[0-9a-f]{12}\.css", url)
        assert answer.headers.get("content-encoding") == "gzip"
        assert "set-cookie" not in answer.headers  # a shared cache would not keep it otherwise
    assert (await harness.client.get("/static/rathaus.000000000000.css")).status_code == 404


async def test_pages_hand_out_a_csrf_cookie_and_the_api_needs_none(harness: Harness) -> None:
    await harness.load(make_config())
    # Only a page with a form to post hands one out: the others stay the same for every reader.
    assert "set-cookie" not in (await harness.client.get("/")).headers
    cookie = (await harness.client.get("/accessibility")).headers.get("set-cookie", "")
    assert "rathaus_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    api = await harness.client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert api.status_code == 401  # reached the handler: no CSRF for the bearer-token API
