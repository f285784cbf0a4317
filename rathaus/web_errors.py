"""Framework errors in the shape and languages of the domain's: {"detail", "code"}, a reason a person understands."""

from __future__ import annotations

import re
from typing import Any

from rathaus.errors import KINDS, REASONS, Phrase, RathausError

# The status of an error the framework raised, and the code of its message in the catalogue.
FRAMEWORK_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}

_AT = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Object missing required field `(?P<field>[^`]+)`"), "missing"),
    (re.compile(r"^Missing required [a-z]+ parameter '(?P<field>[^']+)'"), "missing"),
    (re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`"), "unknown"),
    (re.compile(r"^Expected `[^`]+` of length <= (?P<limit>\d+)"), "max_length"),
    (re.compile(r"^Expected `[^`]+` of length >= (?P<limit>\d+)"), "min_length"),
    (re.compile(r"^Expected `[^`]+` <= (?P<limit>-?[\d.]+)"), "maximum"),
    (re.compile(r"^Expected `[^`]+` >= (?P<limit>-?[\d.]+)"), "minimum"),
    (re.compile(r"^Expected `[^`]+` < (?P<limit>-?[\d.]+)"), "maximum"),
    (re.compile(r"^Expected `[^`]+` > (?P<limit>-?[\d.]+)"), "minimum"),
    (re.compile(r"^Expected `datetime` with a timezone"), "timezone"),
    (re.compile(r"^Invalid RFC3339 encoded datetime"), "datetime"),
    (re.compile(r"^Invalid RFC3339 encoded date"), "date"),
    (re.compile(r"^Invalid enum value"), "invalid"),
    (re.compile(r"^Expected `(?P<kind>[a-z]+)[^`]*`"), "type"),
]


def reason(key: str | None, message: str) -> Phrase:
    """What a validator's message (msgspec's or Litestar's, in English) means, as a translatable phrase."""
    field = "" if key in (None, "data") else str(key)
    if at := _AT.search(message):
        message = message[: at.start()]
        field = at["path"] or field
    for pattern, kind in _PATTERNS:
        if found := pattern.search(message):
            values = found.groupdict()
            if "field" in values:
                field = f"{field}.{values.pop('field')}" if field else values.pop("field")
            if "kind" in values:
                values["kind"] = Phrase(KINDS.get(values["kind"], KINDS["str"]))
            return Phrase(REASONS[kind], field=field or "body", **values)
    return Phrase(REASONS["invalid"], field=field or "body")


def public_names(handler: Any) -> dict[str, str]:
    """The names clients use for a handler's parameters (?date= for the argument `day`), by argument name."""
    names = {}
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        public = getattr(kwarg, "query", None) or getattr(kwarg, "header", None) or getattr(kwarg, "name", None)
        if public:
            names[name] = public
    return names


def validation_error(problems: list[Any], detail: str, names: dict[str, str]) -> RathausError:
    """A ValidationException's problems as one "invalid_input" error naming each field as clients name it, and
    why."""
    reasons = [
        reason(names.get(str(item.get("key")), item.get("key")), str(item.get("message", "")))
        for item in problems
        if isinstance(item, dict)
    ]
    if not reasons:
        reasons = [reason(None, detail)]
    return RathausError("invalid_input", reason=Joined(reasons))


def framework_error(status: int, method: str, headers: dict[str, str] | None) -> RathausError:
    """An HTTPException of the framework (unknown address, wrong method, too large, …) as a catalogue error."""
    allowed = next((value for name, value in (headers or {}).items() if name.lower() == "allow"), "")
    return RathausError(FRAMEWORK_CODES.get(status, "http_error"), status=status, method=method, allowed=allowed)


class Joined(Phrase):
    """Several phrases, joined with "; "."""

    def __init__(self, parts: list[Phrase]) -> None:
        super().__init__("")
        self.parts = parts

    def in_language(self, language: str, translations: Any) -> str:
        """Each phrase in `language`."""
        return "; ".join(part.in_language(language, translations) for part in self.parts)
