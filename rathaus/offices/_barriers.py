"""Barrier reports: a citizen tells us what keeps them from using our pages; staff read them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.contact import normalise_email
from rathaus.db import operation
from rathaus.errors import RathausError
from rathaus.offices.models import BarrierReport

TEXT_LIMIT = 2000
PAGE_LIMIT = 2000


@operation
async def report_barrier(session: AsyncSession, *, page: str, text: str, email: str, now: datetime) -> BarrierReport:
    """Store a report; the text is required, the page address and an e-mail address for an answer are not."""
    text = text.strip()
    if not text:
        raise RathausError("invalid_input", reason="text")
    if len(text) > TEXT_LIMIT or len(page) > PAGE_LIMIT:
        raise RathausError("invalid_input", reason="too long")
    report = BarrierReport(
        created_at=now,
        page=page.strip(),
        text=text,
        email=normalise_email(email.strip()) if email.strip() else None,
        status="new",
    )
    session.add(report)
    await session.flush()
    return report


async def list_barrier_reports(session: AsyncSession, *, limit: int = 200) -> list[BarrierReport]:
    """The latest reports, newest first."""
    return list((await session.scalars(select(BarrierReport).order_by(BarrierReport.id.desc()).limit(limit))).all())
