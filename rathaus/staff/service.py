"""Staff accounts, password login, bearer tokens and office-scoped roles."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.errors import RathausError
from rathaus.staff.models import StaffToken, StaffUser, staff_user_office
from rathaus.tokens import hash_secret

ROLES = ("admin", "desk")
_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown user as slow as one with a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


@dataclass(frozen=True, slots=True)
class Staff:
    """The authenticated staff member of a request."""

    id: int
    username: str
    role: str
    office_ids: frozenset[int]

    def may(self, office_id: int, *, role: str = "desk") -> bool:
        """True if this member works at the office with at least `role` (admin includes desk)."""
        return office_id in self.office_ids and (role == "desk" or self.role == "admin")

    def require(self, office_id: int, *, role: str = "desk") -> None:
        """Refuse with 403 unless `may`."""
        if not self.may(office_id, role=role):
            raise RathausError("forbidden")


async def create_user(
    session: AsyncSession, *, username: str, password: str, role: str, office_ids: list[int], now: datetime
) -> StaffUser:
    """Create a staff account, or update password, role and offices of an existing one."""
    if role not in ROLES:
        raise RathausError("invalid_input", reason=f"role must be one of {', '.join(ROLES)}")
    password_hash = hash_password(password)
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        user = StaffUser(username=username, created_at=now, active=True, password_hash="", role=role)
        session.add(user)
    user.password_hash = password_hash
    user.role = role
    user.active = True
    await session.flush()
    await session.execute(delete(staff_user_office).where(staff_user_office.c.user_id == user.id))
    if office_ids:
        await session.execute(
            insert(staff_user_office), [{"user_id": user.id, "office_id": office_id} for office_id in set(office_ids)]
        )
    return user


def hash_password(password: str) -> str:
    """The stored form of a new password; one too short is refused."""
    if len(password) < 12:
        raise RathausError("invalid_input", reason="a password needs at least 12 characters")
    return _hasher.hash(password)


async def login(
    session: AsyncSession, *, username: str, password: str, lifetime: timedelta, now: datetime
) -> tuple[str, datetime]:
    """A new bearer token for correct credentials, with its expiry."""
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise RathausError("bad_credentials") from None
    if user is None:
        raise RathausError("bad_credentials")
    token = secrets.token_urlsafe(32)
    expires = now + lifetime
    await session.execute(delete(StaffToken).where(StaffToken.user_id == user.id, StaffToken.expires_at <= now))
    session.add(StaffToken(user_id=user.id, token_hash=hash_secret(token), created_at=now, expires_at=expires))
    return token, expires


async def authenticate(session: AsyncSession, *, token: str, now: datetime) -> Staff:
    """The staff member a bearer token belongs to, or 401."""
    # One statement: every staff API request runs it.
    rows = (
        await session.execute(
            select(StaffUser.id, StaffUser.username, StaffUser.role, staff_user_office.c.office_id)
            .join(StaffToken, StaffToken.user_id == StaffUser.id)
            .outerjoin(staff_user_office, staff_user_office.c.user_id == StaffUser.id)
            .where(
                StaffToken.token_hash == hash_secret(token),
                StaffToken.expires_at > now,
                StaffUser.active.is_(True),
            )
        )
    ).all()
    if not rows:
        raise RathausError("unauthorized")
    user_id, username, role, _ = rows[0]
    return Staff(user_id, username, role, frozenset(office for *_, office in rows if office is not None))


async def logout(session: AsyncSession, *, token: str) -> None:
    """Revoke a bearer token."""
    await session.execute(delete(StaffToken).where(StaffToken.token_hash == hash_secret(token)))
