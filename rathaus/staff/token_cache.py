"""Bearer tokens checked once per short while, not on every staff request.

Every staff API request names its token; checking it in the database costs a transaction of its own (`BEGIN` and a
`SELECT`), a good part of a busy counter's request. An instance keeps what it found for `ttl` (at most until the
token expires), by the token's hash. A sign-out, a password change, a disabled account or changed offices take
effect at once on the instance that made the change (its entries of the account go at the commit) and within
`ttl` on the others, which learn of it only from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import after_commit
from rathaus.events import DomainEvent, publish
from rathaus.staff._staff import Staff


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffAccessChanged(DomainEvent):
    """An account's sign-ins or rights changed: one token ended (`token_hash`), or all of the account (`user_id`)."""

    user_id: int | None = None
    token_hash: str | None = None


async def access_changed(
    session: AsyncSession, *, actor: str, at: datetime, user_id: int | None = None, token_hash: str | None = None
) -> None:
    """Announce the change inside its transaction (the instance's token cache forgets at the commit)."""
    await publish(session, StaffAccessChanged(actor=actor, at=at, user_id=user_id, token_hash=token_hash))


@dataclass(frozen=True, slots=True)
class _Entry:
    staff: Staff
    until: datetime


class TokenCache:
    """The staff member of each recently checked token on this instance."""

    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        self._entries: dict[str, _Entry] = {}
        # Grows with every change heard: a check that began before one does not keep what it read.
        self.generation = 0

    def get(self, token_hash: str, now: datetime) -> Staff | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if now >= entry.until:
            del self._entries[token_hash]
            return None
        return entry.staff

    def keep(self, token_hash: str, staff: Staff, *, expires_at: datetime, now: datetime, generation: int) -> None:
        """Remember a token just checked in the database (unless a change was heard since the check began)."""
        if self.ttl <= timedelta() or generation != self.generation:
            return
        if len(self._entries) > 10_000:  # tokens of people who stopped working; expired ones are simply dropped
            self._entries = {k: e for k, e in self._entries.items() if e.until > now}
        self._entries[token_hash] = _Entry(staff, min(now + self.ttl, expires_at))

    def forget(self, *, user_id: int | None, token_hash: str | None) -> None:
        self.generation += 1
        if token_hash is not None:
            self._entries.pop(token_hash, None)
        if user_id is not None:
            self._entries = {k: e for k, e in self._entries.items() if e.staff.id != user_id}

    async def on_change(self, session: AsyncSession, event: StaffAccessChanged) -> None:
        """Forget the account's (or the token's) entries once the change has committed."""
        self.generation += 1  # a check running now may have read the old state: it keeps nothing
        after_commit(session, lambda: self.forget(user_id=event.user_id, token_hash=event.token_hash))
