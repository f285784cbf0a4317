"""Browser sessions of signed-in staff: a random id in a cookie, its hash in the database, an absolute expiry and an
idle timeout."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.staff._staff import Staff, staff_of
from rathaus.staff.models import StaffSession
from rathaus.tokens import hash_secret

# A session's last use is written at most this often: reading a page must not write every time.
TOUCH_EVERY = timedelta(minutes=1)


async def start_session(session: AsyncSession, *, user_id: int, lifetime: timedelta, now: datetime) -> str:
    """A new session for the user (a new id at every sign-in: no fixation); the id for the cookie."""
    session_id = secrets.token_urlsafe(32)
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id, StaffSession.expires_at <= now))
    session.add(
        StaffSession(
            user_id=user_id,
            id_hash=hash_secret(session_id),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    return session_id


async def session_staff(
    session: AsyncSession, *, session_id: str, idle: timedelta, now: datetime
) -> tuple[Staff, datetime] | None:
    """The staff member of a live session and when it was last used, or None (unknown, expired, idle, disabled)."""
    found = (
        await session.execute(
            select(StaffSession.user_id, StaffSession.last_seen_at).where(
                StaffSession.id_hash == hash_secret(session_id),
                StaffSession.expires_at > now,
                StaffSession.last_seen_at > now - idle,
            )
        )
    ).one_or_none()
    if found is None:
        return None
    staff = await staff_of(session, found.user_id)
    return None if staff is None else (staff, found.last_seen_at)


async def touch_session(session: AsyncSession, *, session_id: str, now: datetime) -> None:
    """Record that the session was used now (its idle timeout starts again)."""
    await session.execute(
        update(StaffSession)
        .where(StaffSession.id_hash == hash_secret(session_id))
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


async def end_session(session: AsyncSession, *, session_id: str) -> None:
    """Sign out: the session is gone."""
    await session.execute(delete(StaffSession).where(StaffSession.id_hash == hash_secret(session_id)))


async def end_other_sessions(session: AsyncSession, *, user_id: int, keep: str | None) -> None:
    """End every session of the user but `keep` (after a password change)."""
    statement = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(StaffSession.id_hash != hash_secret(keep))
    await session.execute(statement)
