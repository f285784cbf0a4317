"""The API of the proof of work: a fresh challenge for the widget and for scripts."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get

from rathaus.fairness.deps import Proof
from rathaus.web import Now


class AltchaChallenge(msgspec.Struct):
    """A signed ALTCHA challenge (v2): find the counter whose derived key starts with `keyPrefix`, then send
    base64(JSON {"challenge": this, "solution": {"counter", "derivedKey"}}) as `altcha` with the booking or wish."""

    parameters: dict[str, Any]
    signature: str


class AltchaController(Controller):
    path = "/api/v1/altcha"
    tags = ["bookings"]

    @get("/challenge")
    async def challenge(self, proof: Proof, now: Now) -> AltchaChallenge:
        """A new proof-of-work challenge; a solution is accepted once, before it expires (`parameters.expiresAt`).
        Solvers: the `altcha` widget (npm), or `altcha.solve_challenge` (PyPI)."""
        return msgspec.convert(proof.challenge(now), AltchaChallenge)
