"""Who a request's staff member is: the offices they work at and their role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.errors import RathausError
from rathaus.staff.models import StaffUser, staff_user_office


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


async def staff_of(session: AsyncSession, user_id: int) -> Staff | None:
    """The active staff member with this id and their offices, or None."""
    rows = (
        await session.execute(
            select(StaffUser.username, StaffUser.role, staff_user_office.c.office_id)
            .outerjoin(staff_user_office, staff_user_office.c.user_id == StaffUser.id)
            .where(StaffUser.id == user_id, StaffUser.active.is_(True))
        )
    ).all()
    if not rows:
        return None
    username, role, _ = rows[0]
    return Staff(user_id, username, role, frozenset(office for *_, office in rows if office is not None))
