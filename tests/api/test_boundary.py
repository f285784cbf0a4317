"""Every malformed request is a 4xx with a code and a reason in the reader's language, and changes nothing, on
both databases: checked per class of input and, where a class spans routes, over every route of the app."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from rathaus.booking import service as booking_service
from rathaus.web_input import refuse_malformed_input
from tests.booking.test_bad_input import count_rows
from tests.conftest import Harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

pytestmark = pytest.mark.anyio
OK = "2027-01-11T09:00:00+01:00"
JSON = {"Content-Type": "application/json"}


async def _staff(harness: Harness) -> dict[str, str]:
    await harness.load(make_config())
    return {"Authorization": f"Bearer {await staff_token(harness, 'chef')}", "Accept-Language": "en"}


def _routes(harness: Harness) -> list[tuple[str, str, HTTPRoute]]:
    """(method, path template, route) of every API route."""
    return [
        (method, route.path_format, route)
        for route in harness.app.routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/")
        for method in route.route_handler_map
        if method not in {"OPTIONS", "HEAD"}
    ]


async def test_json_nested_a_thousand_deep_is_a_400(harness: Harness) -> None:
    deep = b'{"office": ' + b"[" * 1000 + b"]" * 1000 + b"}"

    answer = await harness.client.post("/api/v1/bookings", content=deep, headers={**JSON, "Accept-Language": "en"})

    assert answer.status_code == 400
    assert answer.json() == {"detail": "The request body is nested too deeply", "code": "nested_too_deeply"}
    assert await count_rows(harness) == (0, 0, 0)


@pytest.mark.parametrize(
    ("method", "url", "body", "where"),
    [
        ("POST", "/api/v1/bookings", booking_body(OK, name="Erika\x00"), "name"),
        ("POST", "/api/v1/bookings", booking_body(OK, services=["a\x00"]), "services[0]"),
        ("POST", "/api/v1/bookings", {**booking_body(OK), "x\x00": 1}, "body"),
        ("POST", "/api/v1/auth/token", {"username": "chef\x00", "password": "x"}, "username"),
        ("POST", "/api/v1/tickets/1%00/complete", None, "path"),
        ("GET", "/api/v1/tickets/W%00X", None, "path"),
        ("GET", "/api/v1/offices/amt%00", None, "path"),
        ("GET", "/api/v1/bookings/AB%0Acd", None, "path"),
        ("GET", "/api/v1/offices/amt/availability?services=a%00&date=2027-01-11", None, "query"),
        ("GET", "/feeds/amt/hours.ics?lang=de%00", None, "query"),
    ],
)
async def test_control_characters_anywhere_are_a_400(
    harness: Harness, method: str, url: str, body: Any, where: str
) -> None:
    headers = await _staff(harness)

    answer = await harness.client.request(method, url, json=body, headers=headers)

    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "detail": f"{where} contains control characters (such as NUL), which are not allowed",
        "code": "control_characters",
    }
    assert await count_rows(harness) == (0, 0, 0)


async def test_a_form_post_with_nul_is_a_400(harness: Harness) -> None:
    await harness.load(make_config())
    page = await harness.client.get("/accessibility")
    token = harness.client.cookies.get("rathaus_csrf") or ""
    answer = await harness.client.post(
        "/accessibility",
        content=b"text=Hallo%00&_csrf_token=" + token.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "x-csrftoken": token},
    )
    assert page.status_code == 200
    assert answer.status_code == 400 and answer.json()["code"] == "control_characters"


@pytest.mark.parametrize("ticket", ["%C2%B2", "%D9%A3", str(2**63), str(2**64), "-1", "1e3"])
async def test_ticket_ids_that_no_column_holds_are_not_found(harness: Harness, ticket: str) -> None:
    headers = await _staff(harness)
    for action in ("complete", "no-show", "recall"):
        answer = await harness.client.post(f"/api/v1/tickets/{ticket}/{action}", headers=headers)
        assert answer.status_code == 404 and answer.json()["code"] == "unknown_ticket", answer.text


async def test_every_integer_path_id_past_64_bits_is_a_404(harness: Harness) -> None:
    headers = await _staff(harness)
    routes = [(m, r) for m, _, r in _routes(harness) if ":int}" in r.path]
    assert routes, "the app has integer path ids"
    for method, route in routes:
        url = re.sub(r"\{(\w+):(\w+)\}", lambda m: str(2**64) if m[2] == "int" else "amt", route.path)
        answer = await harness.client.request(method, url, headers=headers)
        assert answer.status_code == 404, (method, url, answer.text)
        assert answer.json()["code"] == "not_found"


async def test_integers_past_64_bits_in_a_body_are_a_400(harness: Harness) -> None:
    headers = await _staff(harness)
    answer = await harness.client.post("/api/v1/offices/amt/queue/call-next", json={"counter": 2**64}, headers=headers)
    assert answer.status_code == 400
    assert answer.json() == {"detail": "The number in counter is too large", "code": "number_too_large"}


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/x-www-form-urlencoded", "application/xml"])
async def test_every_json_body_sent_as_something_else_is_a_415(harness: Harness, content_type: str) -> None:
    headers = await _staff(harness)
    routes = [(m, r) for m, _, r in _routes(harness) if r.route_handler_map[m][0].parsed_data_field is not None]
    assert len(routes) >= 8
    for method, route in routes:
        url = re.sub(r"\{(\w+):(\w+)\}", lambda m: "1" if m[2] == "int" else "amt", route.path)
        answer = await harness.client.request(
            method, url, content=b'{"a": 1}', headers={**headers, "Content-Type": content_type}
        )
        assert answer.status_code == 415, (method, url, answer.text)
        assert answer.json() == {
            "detail": "Send the request body as JSON (Content-Type: application/json)",
            "code": "unsupported_media_type",
        }
    assert await count_rows(harness) == (0, 0, 0)


async def test_a_booking_sent_as_text_books_nothing(harness: Harness) -> None:
    await harness.load(make_config())
    answer = await harness.client.post(
        "/api/v1/bookings", content=b'{"office": "amt"}', headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 415
    assert answer.json()["detail"] == "Den Inhalt bitte als JSON senden (Content-Type: application/json)"
    assert await count_rows(harness) == (0, 0, 0)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("1900-01-01T00:00:00+01:00", "1900-01-02T00:00:00+01:00"),
        ("2027-01-01T00:00:00+01:00", "2027-01-02T00:00:00+01:00"),  # over before it was declared
        ("2999-01-01T00:00:00+01:00", "2999-01-02T00:00:00+01:00"),
    ],
)
async def test_closures_out_of_any_sensible_range_are_a_422(harness: Harness, start: str, end: str) -> None:
    headers = await _staff(harness)
    answer = await harness.client.post(
        "/api/v1/offices/amt/closures", json={"start": start, "end": end, "reason": "Umzug"}, headers=headers
    )
    assert answer.status_code == 422 and answer.json()["code"] == "closure_range", answer.text
    listed = await harness.client.get("/api/v1/offices/amt/closures", headers=headers)
    assert listed.json() == []


async def test_a_closure_reason_of_invisible_characters_is_refused(harness: Harness) -> None:
    headers = await _staff(harness)
    answer = await harness.client.post(
        "/api/v1/offices/amt/closures",
        json={"start": "2027-01-12T00:00:00+01:00", "end": "2027-01-13T00:00:00+01:00", "reason": "\u200b \u2060"},
        headers=headers,
    )
    assert answer.status_code == 422 and answer.json()["code"] == "reason_required"


FRAMEWORK_CASES = [
    ("GET", "/api/v1/nothing-here", None, {}, 404, "not_found", "There is nothing at this address"),
    ("PUT", "/api/v1/bookings", None, {}, 405, "method_not_allowed", "This address does not accept PUT"),
    ("POST", "/api/v1/bookings", b"", JSON, 400, "body_required", "This request needs a JSON body"),
    ("POST", "/api/v1/bookings", b'{"office": ', JSON, 400, "malformed_json", "The request body is not valid JSON"),
    ("POST", "/api/v1/bookings", b"[1," * 4_000_000 + b"1]", JSON, 413, "too_large", "The request is too large"),
    ("POST", "/api/v1/bookings", b"{}", JSON, 400, "invalid_input", "the field office is missing"),
    ("POST", "/api/v1/bookings", b'{"office": 1}', JSON, 400, "invalid_input", "office must be text"),
    ("GET", "/api/v1/offices/amt/availability?services=a", None, {}, 400, "invalid_input", "field date is missing"),
    ("GET", "/api/v1/offices/amt/availability?services=a&date=x", None, {}, 400, "invalid_input", "date is not a"),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "headers", "status", "code", "says"), FRAMEWORK_CASES, ids=[c[5] for c in FRAMEWORK_CASES]
)
async def test_framework_errors_have_our_shape_in_both_languages(
    harness: Harness,
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
    code: str,
    says: str,
) -> None:
    await harness.load(make_config())
    english = await harness.client.request(method, url, content=body, headers={**headers, "Accept-Language": "en"})
    german = await harness.client.request(method, url, content=body, headers=headers)

    assert english.status_code == german.status_code == status, english.text
    assert english.json()["code"] == german.json()["code"] == code
    assert set(english.json()) == {"detail", "code"}
    assert says in english.json()["detail"]
    assert german.json()["detail"] != english.json()["detail"], "the German catalogue translates it"
    assert "data:" not in english.json()["detail"]


async def test_405_names_the_methods_allowed(harness: Harness) -> None:
    answer = await harness.client.put("/api/v1/bookings", headers={"Accept-Language": "en"})
    assert answer.json()["detail"] == "This address does not accept PUT (allowed: OPTIONS, POST)"
    assert answer.headers["allow"] == "OPTIONS, POST"


async def test_an_unexpected_failure_logs_the_route_not_the_path(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.load(make_config())
    booked = await harness.client.post("/api/v1/bookings", json=booking_body(OK))
    code, token = booked.json()["code"], booked.json()["manage_token"]

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"database said something about {code}")

    monkeypatch.setattr(booking_service, "view", broken)
    with caplog.at_level(logging.ERROR, logger="rathaus.web"):
        answer = await harness.client.get(
            f"/api/v1/bookings/{code}?token={token}", headers={"Accept-Language": "en", "X-Forged": "a\nb"}
        )

    assert answer.status_code == 500
    assert answer.json()["code"] == "internal_error"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unhandled RuntimeError on GET '/api/v1/bookings/{code}'" in logged
    assert code not in logged and token not in logged


async def test_every_route_but_the_documentation_crosses_the_boundary(sqlite_harness: Harness) -> None:
    """A layer with a before_request of its own would replace the boundary's for its routes."""
    handlers = [
        (route.path, handler)
        for route in sqlite_harness.app.routes
        if isinstance(route, HTTPRoute) and not route.path.startswith("/schema")
        for handler, _ in route.route_handler_map.values()
    ]
    assert len(handlers) > 50
    for path, handler in handlers:
        assert handler.resolve_before_request() is refuse_malformed_input, path
