"""Staff accounts as an office's admins manage them: create, role and offices, password reset, disable.

An admin acts only within the offices they administer: they see the accounts that work at one of them, grant
and withdraw only those offices, and leave a colleague's other offices as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db import operation
from rathaus.errors import RathausError
from rathaus.staff._sessions import end_other_sessions
from rathaus.staff.models import StaffToken, StaffUser, staff_user_office
from rathaus.staff.service import ROLES, Staff, create_user, hash_password
from rathaus.staff.token_cache import access_changed


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    role: str
    active: bool
    office_ids: frozenset[int]


async def accounts_at(session: AsyncSession, *, office_id: int) -> list[Account]:
    """Every staff account that works at the office, by username."""
    members = select(staff_user_office.c.user_id).where(staff_user_office.c.office_id == office_id)
    users = (
        await session.scalars(select(StaffUser).where(StaffUser.id.in_(members)).order_by(StaffUser.username))
    ).all()
    offices = await _offices_of(session, [u.id for u in users])
    return [Account(u.id, u.username, u.role, u.active, frozenset(offices.get(u.id, ()))) for u in users]


async def _offices_of(session: AsyncSession, user_ids: list[int]) -> dict[int, set[int]]:
    rows = await session.execute(
        select(staff_user_office.c.user_id, staff_user_office.c.office_id).where(
            staff_user_office.c.user_id.in_(user_ids)
        )
    )
    offices: dict[int, set[int]] = {}
    for user_id, office_id in rows:
        offices.setdefault(user_id, set()).add(office_id)
    return offices


def _administered(actor: Staff, office_ids: list[int]) -> set[int]:
    wanted = set(office_ids)
    if not wanted or not all(actor.may(o, role="admin") for o in wanted):
        raise RathausError("forbidden")
    return wanted


@operation
async def create_account(
    session: AsyncSession,
    *,
    actor: Staff,
    username: str,
    password: str,
    role: str,
    office_ids: list[int],
    now: datetime,
) -> StaffUser:
    """A new account at offices the actor administers; a taken username is refused (not overwritten)."""
    offices = _administered(actor, office_ids)
    username = username.strip()
    if not username or len(username) > 100:
        raise RathausError("invalid_input", reason="username")
    if await session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise RathausError("username_taken", username=username)
    return await create_user(
        session, username=username, password=password, role=role, office_ids=sorted(offices), now=now
    )


async def _managed(session: AsyncSession, actor: Staff, user_id: int) -> tuple[StaffUser, set[int]]:
    """The account, if it works at an office the actor administers."""
    user = await session.get(StaffUser, user_id)
    offices = (await _offices_of(session, [user_id])).get(user_id, set())
    if user is None or not any(actor.may(o, role="admin") for o in offices):
        raise RathausError("unknown_staff")
    return user, offices


@operation
async def set_access(
    session: AsyncSession, *, actor: Staff, user_id: int, role: str, office_ids: list[int], now: datetime
) -> None:
    """Set an account's role and which of the actor's offices it works at (its other offices stay)."""
    if role not in ROLES:
        raise RathausError("invalid_input", reason=f"role must be one of {', '.join(ROLES)}")
    user, current = await _managed(session, actor, user_id)
    granted = _administered(actor, office_ids) if office_ids else set()
    kept = {o for o in current if not actor.may(o, role="admin")}
    if not granted | kept:
        raise RathausError("invalid_input", reason="an account needs at least one office")
    user.role = role
    await session.execute(delete(staff_user_office).where(staff_user_office.c.user_id == user_id))
    await session.execute(
        insert(staff_user_office), [{"user_id": user_id, "office_id": o} for o in sorted(granted | kept)]
    )
    await access_changed(session, actor=actor.username, at=now, user_id=user_id)


@operation
async def reset_password(session: AsyncSession, *, actor: Staff, user_id: int, password: str, now: datetime) -> None:
    """Give an account a new password and end its sign-ins."""
    user, _ = await _managed(session, actor, user_id)
    user.password_hash = hash_password(password)
    await _end_sign_ins(session, actor, user_id, now)


@operation
async def set_active(session: AsyncSession, *, actor: Staff, user_id: int, active: bool, now: datetime) -> None:
    """Disable an account (its sign-ins end at once) or enable it again."""
    if user_id == actor.id and not active:
        raise RathausError("not_yourself")
    user, _ = await _managed(session, actor, user_id)
    user.active = active
    if not active:
        await _end_sign_ins(session, actor, user_id, now)


async def _end_sign_ins(session: AsyncSession, actor: Staff, user_id: int, now: datetime) -> None:
    """The account's browser sessions and API tokens end."""
    await end_other_sessions(session, user_id=user_id, keep=None)
    await session.execute(delete(StaffToken).where(StaffToken.user_id == user_id))
    await access_changed(session, actor=actor.username, at=now, user_id=user_id)
