"""The OpenAPI document tells the truth: who may call what, which errors come back in which shape, which input
is refused, and which methods each path answers."""

from __future__ import annotations

from typing import Any

import pytest

from rathaus import i18n
from tests.conftest import Harness

pytestmark = pytest.mark.anyio
METHODS = {"get", "head", "post", "put", "patch", "delete"}


async def _document(harness: Harness) -> dict[str, Any]:
    answer = await harness.client.get("/schema/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def _url(path: str, item: dict[str, Any]) -> str:
    """`path` with its parameters filled in (1 for integers, x for text)."""
    for operation in (op for method, op in item.items() if method in METHODS):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                value = "1" if parameter["schema"].get("type") == "integer" else "x"
                path = path.replace("{" + parameter["name"] + "}", value)
    return path


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_staff_routes_say_they_need_a_bearer_token(sqlite_harness: Harness) -> None:
    document = await _document(sqlite_harness)
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A staff token from POST /api/v1/auth/token",
    }
    secured = {(path, method) for path, method, op in _operations(document) if op.get("security")}
    for path, method, operation in _operations(document):
        unauthenticated = await sqlite_harness.client.request(
            method.upper(), _url(path, document["paths"][path]), json={}
        )
        says_staff = unauthenticated.status_code == 401 and (path, method) != ("/api/v1/auth/token", "post")
        assert says_staff == ((path, method) in secured), (method, path, unauthenticated.text)
        if (path, method) in secured:
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert ("/api/v1/offices/{office}/queue/call-next", "post") in secured


async def test_every_error_is_documented_with_our_body(sqlite_harness: Harness) -> None:
    document = await _document(sqlite_harness)
    assert document["components"]["schemas"]["Error"]["required"] == ["detail", "code"]
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert "400" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    bookings = document["paths"]["/api/v1/bookings"]["post"]["responses"]
    assert {"400", "409", "413", "415", "422"} <= set(bookings)
    confirm = document["paths"]["/api/v1/bookings/{code}/confirm"]["post"]["responses"]
    assert "Retry-After" in confirm["429"]["headers"]


async def test_request_schemas_carry_every_constraint(sqlite_harness: Harness) -> None:
    schemas = (await _document(sqlite_harness))["components"]["schemas"]
    create = schemas["BookingCreate"]
    assert create["additionalProperties"] is False
    assert create["properties"]["services"]["items"]["minLength"] == 1
    assert create["properties"]["language"]["enum"] == list(i18n.languages())
    assert schemas["WalkIn"]["properties"]["language"]["enum"] == list(i18n.languages())
    offsets = schemas["NotifyPolicy"]["properties"]["reminder_offsets_minutes"]["items"]
    assert offsets["minimum"] == 1
    assert schemas["NotifyPolicy"]["additionalProperties"] is False
    assert "\\u0000" in create["properties"]["name"]["pattern"]


async def test_options_answers_every_method_of_every_path(sqlite_harness: Harness) -> None:
    document = await _document(sqlite_harness)
    for path, item in document["paths"].items():
        documented = {method.upper() for method in item if method in METHODS} | {"OPTIONS"}
        answer = await sqlite_harness.client.options(_url(path, item))
        assert answer.status_code == 204, path
        assert set(answer.headers["allow"].split(", ")) == documented, path
