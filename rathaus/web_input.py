"""The boundary every request crosses before a handler runs: what no handler can use is refused here, once.

Control characters (NUL above all: PostgreSQL cannot store it) in the path, the query or any string of a JSON
body, integers beyond 64 bits (no database column holds them), JSON nested deeper than any of our shapes, and a
body that is not JSON where JSON is expected, are answered with a 4xx that says why, before they reach the
database, a log line or a calendar file.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.routes import HTTPRoute

from rathaus.errors import RathausError

# C0 controls but tab, line feed and carriage return (free text may have lines), DEL and the C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# In a path or a query even a line break is an attack on whoever logs or echoes it.
_CONTROL_IN_ADDRESS = re.compile(rb"[\x00-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INT64 = range(-(2**63), 2**63)
# Our deepest body (a list of slugs in an object) is two levels deep; anything far deeper is not for us.
MAX_DEPTH = 16


def database_id(text: str) -> int | None:
    """The id a client wrote (ASCII digits only: `str.isdigit` also takes "²"), if a 64-bit column can hold it."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value in _INT64 else None


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _check_address(request: Request[Any, Any, Any]) -> None:
    scope = request.scope
    if _CONTROL_IN_ADDRESS.search(scope["path"].encode("utf-8", "surrogateescape")):
        raise RathausError("control_characters", field="path")
    query = scope["query_string"]
    if query and _CONTROL_IN_ADDRESS.search(unquote_to_bytes(query)):
        raise RathausError("control_characters", field="query")
    for value in scope["path_params"].values():
        # Ids that no 64-bit column holds cannot name anything we have.
        if isinstance(value, int) and value not in _INT64:
            raise RathausError("not_found")


def _walk(document: Any) -> None:
    """Refuse control characters in any string (keys included), integers beyond 64 bits and deep nesting."""
    stack: list[tuple[Any, str, int]] = [(document, "body", 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if _CONTROL.search(value):
                raise RathausError("control_characters", field=where)
        elif isinstance(value, bool | float) or value is None:
            continue
        elif isinstance(value, int):
            if value not in _INT64:
                raise RathausError("number_too_large", field=where)
        elif depth >= MAX_DEPTH:
            raise RathausError("nested_too_deeply")
        elif isinstance(value, dict):
            for key, item in value.items():
                if _CONTROL.search(key):
                    raise RathausError("control_characters", field=where)
                stack.append((item, key if where == "body" else f"{where}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value))


async def _check_json_body(request: Request[Any, Any, Any]) -> None:
    body = await request.body()
    if not body.strip():
        raise RathausError("body_required")
    if not _is_json(request.headers.get("content-type", "")):
        raise RathausError("unsupported_media_type")
    try:
        document = msgspec.json.decode(body)
    except RecursionError:
        raise RathausError("nested_too_deeply") from None
    except msgspec.DecodeError:
        raise RathausError("malformed_json") from None
    _walk(document)


async def _check_form_body(request: Request[Any, Any, Any]) -> None:
    body = await request.body()
    if _CONTROL_BYTES.search(unquote_to_bytes(body)):
        raise RathausError("control_characters", field="form")


def _options(request: Request[Any, Any, Any]) -> Response[None]:
    """The methods of the request's path. Litestar's own OPTIONS answer lists only those of the first handler
    registered for a path when several handlers share it (GET and POST of a collection)."""
    template = request.scope.get("path_template")
    methods = {
        m
        for route in request.app.routes
        if isinstance(route, HTTPRoute) and route.path_format == template
        for m in route.methods
    }
    return Response(None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})


async def refuse_malformed_input(request: Request[Any, Any, Any]) -> Response[None] | None:
    """before_request of the whole app: refuse what no handler can use (see the module's docstring); answer
    OPTIONS with every method of the path."""
    _check_address(request)
    if request.method == "OPTIONS":
        return _options(request)
    data = request.route_handler.parsed_data_field
    if data is None:
        return None
    media_type = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    if media_type == RequestEncodingType.JSON:
        await _check_json_body(request)
    elif media_type == RequestEncodingType.URL_ENCODED:
        await _check_form_body(request)
    return None
