"""The OpenAPI document as the API behaves: who may call what, every error answer with our {"detail", "code"}
body, and request shapes with all their constraints.

Litestar derives the document from the handlers but documents only a 400 with its own error body, no security,
and loses constraints of list items and that unknown fields are refused. The document is completed once, on its
first request, from the same sources the app runs on: the handlers' dependencies (staff token, manage token),
their bodies' msgspec types (msgspec writes their JSON Schema exactly as it validates) and the rate limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from litestar import Request, Router
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from rathaus import i18n

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the reader's language (Accept-Language)"},
        "code": {"type": "string", "description": "A stable code to tell errors apart, e.g. slot_taken"},
    },
    "required": ["detail", "code"],
}
DESCRIPTIONS = {
    400: "Malformed request: the code and detail say which part and why",
    401: "No valid bearer token",
    403: "The token's staff member may not do this",
    404: "Not found (an unknown office, booking, ticket, … or a wrong manage token)",
    409: "Conflicts with the current state (e.g. the slot has just been taken)",
    413: "The request body is too large",
    415: "The body was not sent as JSON (Content-Type: application/json)",
    422: "Understood, but refused by a rule; the code says which",
    429: "Too many requests: try again after Retry-After seconds",
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "A staff token from POST /api/v1/auth/token"},
}
# What the boundary refuses (rathaus.web_input), as patterns: no control characters in a body's strings, none
# (not even a line break) in the path and the query.
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
ADDRESS_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"
# Extra error statuses a handler declares in its opt, e.g. opt={"errors": [429]}.
ERRORS_OPT = "errors"


def _statuses(method: str, path: str, handler: HTTPRouteHandler, throttled: Callable[[str, str], bool]) -> set[int]:
    dependencies = handler.resolve_dependencies()
    statuses = {400}
    if "{" in path:
        statuses.add(404)
    if handler.parsed_data_field is not None:
        statuses |= {413, 415, 422}
    if method not in {"GET", "HEAD"}:
        statuses |= {409, 422}
    elif any(p.kwarg_definition is not None for p in handler.parsed_fn_signature.parameters.values()):
        statuses.add(422)
    if "staff" in dependencies:
        statuses |= {401, 403}
    if "manage_token" in dependencies:
        statuses.add(404)
    if throttled(method, path):
        statuses.add(429)
    statuses.update(handler.opt.get(ERRORS_OPT, ()))
    return statuses


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}
    return response


def _as_refused(schema: Any, pattern: str) -> None:
    """State in `schema` (nested schemas included) what the boundary refuses: `pattern` on every string that has
    none, the 64-bit range on every integer."""
    if isinstance(schema, list):
        for item in schema:
            _as_refused(item, pattern)
    elif isinstance(schema, dict):
        if schema.get("type") == "string" and "pattern" not in schema and "format" not in schema:
            schema["pattern"] = pattern
        if schema.get("type") == "integer":
            schema.setdefault("minimum", -(2**63))
            schema.setdefault("maximum", 2**63 - 1)
        for value in schema.values():
            _as_refused(value, pattern)


def _request_schemas(types: Iterable[Any], languages: list[str]) -> dict[str, Any]:
    _, components = msgspec.json.schema_components(list(types), ref_template="#/components/schemas/{name}")
    for schema in components.values():
        language = schema.get("properties", {}).get("language")
        if language is not None:
            language["enum"] = languages
    _as_refused(components, TEXT_PATTERN)
    return components


def complete(document: dict[str, Any], routes: Iterable[Any], throttled: Callable[[str, str], bool]) -> None:
    """Complete Litestar's document in place (see the module's docstring)."""
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    bodies = []
    for route in routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in document.get("paths", {}):
            continue
        item = document["paths"][route.path_format]
        for method, (handler, _) in route.route_handler_map.items():
            operation = item.get(method.lower())
            if operation is None:
                continue
            _as_refused(operation.get("parameters", []), ADDRESS_PATTERN)
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(method, route.path_format, handler, throttled)):
                responses[str(status)] = _error_response(status)
            dependencies = handler.resolve_dependencies()
            if "staff" in dependencies:
                operation["security"] = [{"bearer": []}]
            if handler.parsed_data_field is not None:
                bodies.append(handler.parsed_data_field.annotation)
    components["schemas"].update(_request_schemas(bodies, list(i18n.languages())))


def openapi_router(throttled: Callable[[str, str], bool]) -> Router:
    """The router of /schema, whose first request completes the document Litestar built."""
    done = False

    async def complete_once(request: Request[Any, Any, Any]) -> None:
        nonlocal done
        if not done:
            complete(request.app.plugins.get("OpenAPIPlugin").provide_openapi_schema(), request.app.routes, throttled)
            done = True

    return Router("/schema", route_handlers=[], include_in_schema=False, before_request=complete_once)
