"""A proof of work (ALTCHA) before a booking or a wish: cheap for one citizen, costly for a bot that books by the
thousand, and no third party involved.

The challenge is signed with a key derived from RATHAUS_SECRET_KEY, so every instance verifies what any instance
issued; the server pre-computes the answer (a random counter up to the difficulty), which the browser must find
by trying counters, while the server checks a solution with one HMAC. A solution is accepted once: spending it
writes its row in the request's transaction (an API request that fails is rolled back whole and leaves it
unspent), and every instance sees it spent. Rows are kept until the challenge expires, then pruned.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import altcha
import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import dialect_insert
from rathaus.errors import RathausError
from rathaus.fairness.models import SpentProof
from rathaus.settings import Settings

# Plain iterated SHA-256, one round per try: the widget's built-in `sha` worker solves it with the browser's
# native crypto, and the difficulty is the number of tries alone.
ALGORITHM = "SHA-256"
# A payload is a base64 JSON of a few hundred bytes; anything far larger is not one.
MAX_PAYLOAD = 4000
# The field of a booking's or wish's request that carries the solution (the widget's hidden input has its name).
PayloadField = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_PAYLOAD,
        description="The solved proof of work (ALTCHA) of a challenge from GET /api/v1/altcha/challenge: "
        'base64 of JSON {"challenge": …, "solution": {"counter", "derivedKey"}}; required unless RATHAUS_ALTCHA is off',
    ),
]


def _derived(secret_key: str, purpose: str) -> str:
    return hmac.new(secret_key.encode(), f"rathaus.altcha.{purpose}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ProofOfWork:
    """Issues challenges and spends their solutions."""

    enabled: bool
    difficulty: int
    expiry: timedelta
    hmac_key: str
    key_signature_key: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ProofOfWork:
        """The proof of work as RATHAUS_ALTCHA* configure it."""
        return cls(
            enabled=settings.altcha,
            difficulty=settings.altcha_difficulty,
            expiry=timedelta(minutes=settings.altcha_expiry_minutes),
            hmac_key=_derived(settings.secret_key, "challenge"),
            key_signature_key=_derived(settings.secret_key, "key"),
        )

    def challenge(self, now: datetime) -> dict[str, Any]:
        """A new signed challenge, as the widget and the API's clients fetch it."""
        issued = altcha.create_challenge(
            ALGORITHM,
            1,
            counter=secrets.randbelow(self.difficulty + 1),
            expires_at=now + self.expiry,
            hmac_secret=self.hmac_key,
            hmac_key_secret=self.key_signature_key,
        )
        return issued.to_dict()

    async def spend_from_form(self, session: AsyncSession, *, payload: str, now: datetime) -> bool:
        """For a page's form: spend a sent solution as `spend` does, and say whether the request is proven.

        A form sent without any solution comes from a browser without JavaScript (the widget never ran): it is
        let through unproven (False), and the caller must have the citizen confirm their contact with a code, so
        that a script gains nothing it could not get by controlling a real e-mail address or phone per booking.
        A solution that was sent but is wrong, expired or used is refused as from the API."""
        if self.enabled and not payload:
            return False
        await self.spend(session, payload=payload, now=now)
        return True

    async def spend(
        self, session: AsyncSession, *, payload: str, now: datetime, idempotency_key: str | None = None
    ) -> None:
        """Accept a solved challenge once (a request replayed under its first Idempotency-Key may show it
        again: it can only get the first answer back); refuse a missing, wrong, expired or used one."""
        if not self.enabled:
            return
        if not payload:
            raise RathausError("altcha_missing")
        parsed = _parsed(payload)
        result = altcha.verify_solution(parsed, self.hmac_key, hmac_key_secret=self.key_signature_key)
        expires = parsed.challenge.parameters.expires_at
        if not result.verified and not result.expired:
            raise RathausError("altcha_invalid")
        # The library compares with the system's time; the app's clock (injectable) decides.
        if result.expired or not isinstance(expires, int) or expires <= now.timestamp():
            raise RathausError("altcha_expired")
        proof = hashlib.sha256(str(parsed.challenge.signature).encode()).hexdigest()
        statement = dialect_insert(session, SpentProof).values(
            proof=proof, expires_at=datetime.fromtimestamp(expires, now.tzinfo), idempotency_key=idempotency_key
        )
        spent = await session.scalar(
            statement.on_conflict_do_nothing(index_elements=[SpentProof.proof]).returning(SpentProof.proof)
        )
        if spent is None:
            first_key = await session.scalar(select(SpentProof.idempotency_key).where(SpentProof.proof == proof))
            if idempotency_key is None or first_key != idempotency_key:
                raise RathausError("altcha_used")


def _parsed(payload: str) -> altcha.Payload:
    if len(payload) > MAX_PAYLOAD:
        raise RathausError("altcha_invalid")
    try:
        return altcha.Payload.from_base64(payload)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise RathausError("altcha_invalid") from None


async def prune_spent(session: AsyncSession, *, now: datetime) -> int:
    """Forget spent proofs whose challenges have expired (they are refused as expired anyway)."""
    result = await session.execute(delete(SpentProof).where(SpentProof.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
