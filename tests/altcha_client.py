"""The one test helper for the proof of work: a test client that solves it as the citizen's browser would.

The pages' widget fetches a challenge, solves it and posts the solution with the form; this client does the same
for every booking or wish it posts without an `altcha` field (JSON or form), with the `altcha` library's solver,
against the app's real challenge endpoint. The app's check is not relaxed: a test that sends its own `altcha`
(empty, forged, expired or used) gets exactly what a client would.
"""

from __future__ import annotations

from typing import Any

import altcha
import httpx
from litestar.testing import AsyncTestClient

# The paths whose POST needs a solved challenge (the booking and wish API and their forms).
PROTECTED = frozenset(
    {"/api/v1/bookings", "/book/contact", "/api/v1/itineraries", "/book/itinerary", "/api/v1/wishes", "/wishes"}
)


async def solved(client: Any, base: str = "") -> str:
    """A fresh challenge of the app behind `client` (at `base`, for a client without a base URL), solved: the
    value of an `altcha` field."""
    answer = await client.get(base + "/api/v1/altcha/challenge")
    assert answer.status_code == 200, answer.text
    challenge = altcha.Challenge.from_dict(answer.json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def solved_at(base: str) -> str:
    """A fresh challenge of the server at `base` (a real `rathaus serve`), solved, without an event loop."""
    answer = httpx.get(base + "/api/v1/altcha/challenge", timeout=10)
    assert answer.status_code == 200, answer.text
    challenge = altcha.Challenge.from_dict(answer.json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def _base(url: Any) -> str:
    """The scheme and host of an absolute URL ("" for a path): the challenge comes from the same server."""
    text = str(url)
    if "//" not in text:
        return ""
    return text[: text.index("/", text.index("//") + 2)] if "/" in text[text.index("//") + 2 :] else text


class _Solving:
    """Adds a solved challenge to bookings and wishes posted without one (a mixin of an httpx client)."""

    async def post(self, url: Any, **kwargs: Any) -> Any:
        base = _base(url)
        if str(url)[len(base) :].split("?", 1)[0].rstrip("/") in PROTECTED:
            for field in ("json", "data"):
                body = kwargs.get(field)
                if isinstance(body, dict) and "altcha" not in body:
                    kwargs[field] = {**body, "altcha": await solved(self, base)}
        return await super().post(url, **kwargs)  # type: ignore[misc]


class SolvingClient(_Solving, AsyncTestClient):  # type: ignore[type-arg]
    """Litestar's test client that solves the proof of work like the pages' widget."""


class SolvingHttpClient(_Solving, httpx.AsyncClient):
    """An httpx client for live servers that solves the proof of work like the pages' widget."""
