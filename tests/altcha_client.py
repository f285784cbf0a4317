"""The one test helper for the proof of work: a test client that solves it as the citizen's browser would.

The pages' widget fetches a challenge, solves it and posts the solution with the form; this client does the same
for every booking or wish it posts without an `altcha` field (JSON or form), with the `altcha` library's solver,
against the app's real challenge endpoint. The app's check is not relaxed: a test that sends its own `altcha`
(empty, forged, expired or used) gets exactly what a client would.
"""

from __future__ import annotations

from typing import Any

import altcha
from litestar.testing import AsyncTestClient

# The paths whose POST needs a solved challenge (the booking and wish API and their forms).
PROTECTED = frozenset({"/api/v1/bookings", "/book/contact", "/api/v1/wishes", "/wishes"})


async def solved(client: Any) -> str:
    """A fresh challenge of the app behind `client`, solved: the value of an `altcha` field."""
    answer = await client.get("/api/v1/altcha/challenge")
    assert answer.status_code == 200, answer.text
    challenge = altcha.Challenge.from_dict(answer.json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def _protected(url: Any) -> bool:
    path = str(url).split("?", 1)[0]
    path = path[path.index("/", path.index("//") + 2) :] if "//" in path else path
    return path.rstrip("/") in PROTECTED


class SolvingClient(AsyncTestClient):  # type: ignore[type-arg]
    """Litestar's test client, adding a solved challenge to bookings and wishes posted without one."""

    async def post(self, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if _protected(url):
            for field in ("json", "data"):
                body = kwargs.get(field)
                if isinstance(body, dict) and "altcha" not in body:
                    kwargs[field] = {**body, "altcha": await solved(self)}
        return await super().post(url, **kwargs)
