"""Staff accounts, password sign-in (browser sessions and API bearer tokens) and office-scoped roles."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import keep_on_error, operation
from rathaus.errors import RathausError
from rathaus.staff._sessions import end_other_sessions, end_session, session_staff, start_session, touch_session
from rathaus.staff._sign_in import Attempt, hasher, verify_password
from rathaus.staff._staff import Staff, staff_of
from rathaus.staff.models import StaffToken, StaffUser, staff_user_office
from rathaus.staff.token_cache import access_changed
from rathaus.tokens import hash_secret

__all__ = [
    "ROLES",
    "Attempt",
    "Staff",
    "authenticate",
    "change_password",
    "create_user",
    "end_session",
    "hash_password",
    "login",
    "logout",
    "session_staff",
    "sign_in",
    "staff_of",
    "touch_session",
]

ROLES = ("admin", "desk")
MIN_PASSWORD = 12


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
    await access_changed(session, actor="system", at=now, user_id=user.id)
    await session.execute(delete(staff_user_office).where(staff_user_office.c.user_id == user.id))
    if office_ids:
        await session.execute(
            insert(staff_user_office), [{"user_id": user.id, "office_id": office_id} for office_id in set(office_ids)]
        )
    return user


def hash_password(password: str) -> str:
    """The stored form of a new password; one too short is refused."""
    if len(password) < MIN_PASSWORD:
        raise RathausError("invalid_input", reason="a password needs at least 12 characters")
    return hasher.hash(password)


async def login(
    session: AsyncSession, *, attempt: Attempt, password: str, secret_key: str, lifetime: timedelta, now: datetime
) -> tuple[str, datetime]:
    """A new bearer token for correct credentials, with its expiry (refused while the account is delayed or locked)."""
    user = await verify_password(session, attempt=attempt, password=password, secret_key=secret_key, now=now)
    token = secrets.token_urlsafe(32)
    expires = now + lifetime
    await session.execute(delete(StaffToken).where(StaffToken.user_id == user.id, StaffToken.expires_at <= now))
    session.add(StaffToken(user_id=user.id, token_hash=hash_secret(token), created_at=now, expires_at=expires))
    return token, expires


async def sign_in(
    session: AsyncSession, *, attempt: Attempt, password: str, secret_key: str, lifetime: timedelta, now: datetime
) -> str:
    """A new browser session for correct credentials: its id for the cookie."""
    user = await verify_password(session, attempt=attempt, password=password, secret_key=secret_key, now=now)
    return await start_session(session, user_id=user.id, lifetime=lifetime, now=now)


@operation
async def change_password(
    session: AsyncSession,
    *,
    staff: Staff,
    current: str,
    new: str,
    repeated: str,
    session_id: str,
    secret_key: str,
    client: str,
    now: datetime,
) -> None:
    """Set a new password after checking the current one (which counts as a sign-in attempt); every other session
    and every bearer token of the account ends."""
    if len(new) < MIN_PASSWORD:
        raise RathausError("password_too_short", minimum=MIN_PASSWORD)
    if new != repeated:
        raise RathausError("password_mismatch")
    attempt = Attempt(staff.username, client, "page")
    try:
        user = await verify_password(session, attempt=attempt, password=current, secret_key=secret_key, now=now)
    except RathausError as error:
        if error.code == "bad_credentials":
            keep_on_error(session)
            raise RathausError("wrong_password") from None
        raise
    user.password_hash = hasher.hash(new)
    await end_other_sessions(session, user_id=user.id, keep=session_id)
    await session.execute(delete(StaffToken).where(StaffToken.user_id == user.id))
    await access_changed(session, actor=staff.username, at=now, user_id=user.id)


async def authenticate(session: AsyncSession, *, token_hash: str, now: datetime) -> tuple[Staff, datetime]:
    """The staff member a bearer token (by its hash) belongs to and when the token expires, or 401."""
    # One statement: every staff API request runs it (unless the instance's token cache knows the token).
    rows = (
        await session.execute(
            select(
                StaffUser.id, StaffUser.username, StaffUser.role, StaffToken.expires_at, staff_user_office.c.office_id
            )
            .join(StaffToken, StaffToken.user_id == StaffUser.id)
            .outerjoin(staff_user_office, staff_user_office.c.user_id == StaffUser.id)
            .where(
                StaffToken.token_hash == token_hash,
                StaffToken.expires_at > now,
                StaffUser.active.is_(True),
            )
        )
    ).all()
    if not rows:
        raise RathausError("unauthorized")
    user_id, username, role, expires_at, _ = rows[0]
    return Staff(user_id, username, role, frozenset(office for *_, office in rows if office is not None)), expires_at


async def logout(session: AsyncSession, *, staff: Staff, token: str, now: datetime) -> None:
    """Revoke a bearer token (refused at once on this instance, within the token cache's time on the others)."""
    token_hash = hash_secret(token)
    await session.execute(delete(StaffToken).where(StaffToken.token_hash == token_hash))
    await access_changed(session, actor=staff.username, at=now, token_hash=token_hash)
