"""Checking a password with a growing delay and a temporary lock after repeated failures, every attempt recorded.

The delay is not a sleep: an attempt that comes before the delay has passed is refused unchecked (even with the
right password), so that guessing gets slower without holding a worker. Attempts are counted per account and
per client address; an account that does not exist is counted like any other, so the answers never tell which
names exist.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from rathaus.db import keep_on_error, operation
from rathaus.errors import RathausError
from rathaus.staff.models import SignInAttempt, StaffUser

# Failures count while they are this recent (and since the account's last success).
WINDOW = timedelta(minutes=15)
# From this many failures on, each further attempt waits 1, 2, 4, … seconds after the last failure.
DELAY_AFTER = 3
# This many failures lock the account for the window after the last one (a client address: CLIENT_LOCK_AFTER).
LOCK_AFTER = 10
CLIENT_LOCK_AFTER = 50

hasher = PasswordHasher()


@cache
def dummy_hash() -> str:
    """Verifying against this keeps a sign-in with an unknown name as slow as one with a wrong password.

    Made once per process, when the app starts (staff wiring) rather than at import: hashing costs about 0.2 s of
    CPU that CLI commands, which sign no one in, need not pay."""
    return hasher.hash("not a password anyone has")


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who tries to sign in, as far as the record needs it."""

    username: str
    client: str
    channel: str  # "page" or "api"


def keyed(secret_key: str, kind: str, value: str) -> str:
    """A keyed hash of a name or address: attempts can be counted by it, but it cannot be read back."""
    return hmac.new(secret_key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def _failures(rows: list[tuple[datetime, str]]) -> list[datetime]:
    """The failures (newest first) since the last success."""
    found = []
    for at, outcome in rows:
        if outcome == "success":
            break
        if outcome == "failure":
            found.append(at)
    return found


def _wait(failures: list[datetime], now: datetime, *, lock_after: int, delay: bool) -> timedelta | None:
    """How long an attempt must still wait, or None if it may be checked now."""
    if not failures:
        return None
    if len(failures) >= lock_after:
        until = failures[0] + WINDOW
    elif delay and len(failures) >= DELAY_AFTER:
        until = failures[0] + timedelta(seconds=2 ** (len(failures) - DELAY_AFTER))
    else:
        return None
    return until - now if until > now else None


async def _recent(
    session: AsyncSession, column: InstrumentedAttribute[str], key: str, now: datetime
) -> list[tuple[datetime, str]]:
    rows = await session.execute(
        select(SignInAttempt.at, SignInAttempt.outcome)
        .where(column == key, SignInAttempt.at > now - WINDOW)
        .order_by(SignInAttempt.at.desc(), SignInAttempt.id.desc())
        .limit(LOCK_AFTER + CLIENT_LOCK_AFTER)
    )
    return [(at, outcome) for at, outcome in rows]


def _refusal(wait: timedelta) -> RathausError:
    if wait > timedelta(minutes=1):
        return RathausError("sign_in_locked", minutes=math.ceil(wait.total_seconds() / 60))
    return RathausError("sign_in_delayed", seconds=math.ceil(wait.total_seconds()))


@operation
async def verify_password(
    session: AsyncSession, *, attempt: Attempt, password: str, secret_key: str, now: datetime
) -> StaffUser:
    """The active account with this name and password; else bad_credentials, sign_in_delayed or sign_in_locked.

    The attempt is recorded even when it is refused (the error keeps the record).
    """
    account_key = keyed(secret_key, "account", attempt.username.strip().casefold())
    client_key = keyed(secret_key, "client", attempt.client)
    user = await session.scalar(
        select(StaffUser).where(StaffUser.username == attempt.username.strip(), StaffUser.active.is_(True))
    )

    def record(outcome: str) -> None:
        session.add(
            SignInAttempt(
                at=now,
                account_key=account_key,
                client_key=client_key,
                user_id=user.id if user else None,
                outcome=outcome,
                channel=attempt.channel,
            )
        )

    waits = [
        _wait(
            _failures(await _recent(session, SignInAttempt.account_key, account_key, now)),
            now,
            lock_after=LOCK_AFTER,
            delay=True,
        ),
        _wait(
            [
                at
                for at, outcome in await _recent(session, SignInAttempt.client_key, client_key, now)
                if outcome == "failure"
            ],
            now,
            lock_after=CLIENT_LOCK_AFTER,
            # Colleagues share an address: their typos must not slow each other down, only a flood locks it.
            delay=False,
        ),
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        record("refused")
        keep_on_error(session)
        raise _refusal(wait)
    try:
        hasher.verify(user.password_hash if user else dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        user_ok = False
    else:
        user_ok = user is not None
    if not user_ok or user is None:
        record("failure")
        keep_on_error(session)
        raise RathausError("bad_credentials")
    record("success")
    return user
