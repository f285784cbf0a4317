"""HTTP API of notifications: a booking's message history, the admin outbox view, the reminder policy."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from rathaus.booking.controllers import Code, ManageToken, provide_manage_token
from rathaus.booking.deps import BookingCtx
from rathaus.notify import schemas, service
from rathaus.notify.policy import Policy
from rathaus.offices.deps import CatalogDep
from rathaus.staff.deps import STAFF_ONLY, CurrentStaff
from rathaus.web import DbSession, Now


def _message(history: service.MessageHistory) -> schemas.Message:
    m = history.message
    return schemas.Message(
        id=m.id,
        kind=m.kind,
        channel=m.channel,
        status=m.status,
        created_at=m.created_at,
        due_at=m.due_at,
        sent_at=m.sent_at,
        provider_status=m.provider_status,
        attempts=m.attempts,
        history=[schemas.MessageEvent(e.at, e.status, e.provider_status, e.detail) for e in history.events],
    )


def _policy(policy: Policy) -> schemas.NotifyPolicy:
    return schemas.NotifyPolicy(
        reminder_offsets_minutes=[int(o.total_seconds() // 60) for o in policy.offsets],
        quiet_start=policy.quiet_start.strftime("%H:%M"),
        quiet_end=policy.quiet_end.strftime("%H:%M"),
        turn_near_ahead=policy.turn_near_ahead,
    )


class BookingMessagesController(Controller):
    path = "/api/v1/bookings"
    tags = ["notifications"]
    dependencies = {"manage_token": Provide(provide_manage_token, sync_to_thread=False)}

    @get("/{code:str}/messages")
    async def messages(
        self, code: Code, manage_token: ManageToken, db_session: DbSession, booking_ctx: BookingCtx, now: Now
    ) -> list[schemas.Message]:
        """Every message about the booking with its history (created, sent, delivered, failed)."""
        found = await service.citizen_messages(db_session, ctx=booking_ctx, code=code, token=manage_token, now=now)
        return [_message(h) for h in found]


class OutboxController(Controller):
    path = "/api/v1/offices/{office:str}"
    tags = ["notifications"]
    dependencies = STAFF_ONLY

    @get("/outbox")
    async def outbox(
        self,
        office: FromPath[str],
        staff: CurrentStaff,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
        status: Annotated[str | None, QueryParameter(name="status")] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=1000)] = 100,
    ) -> list[schemas.OutboxRow]:
        """The office's outbox, newest first: status, attempts and last error (admins only; no texts)."""
        rules = await catalog.office(db_session, office, now=now)
        staff.require(rules.id, role="admin")
        rows = await service.office_outbox(db_session, office_id=rules.id, status=status, limit=limit)
        return [
            schemas.OutboxRow(
                id=r.id,
                kind=r.kind,
                channel=r.channel,
                status=r.status,
                attempts=r.attempts,
                due_at=r.due_at,
                created_at=r.created_at,
                sent_at=r.sent_at,
                provider_status=r.provider_status,
                last_error=r.last_error,
                booking_id=r.booking_id,
            )
            for r in rows
        ]

    @get("/notify-policy")
    async def get_policy(
        self, office: FromPath[str], staff: CurrentStaff, db_session: DbSession, now: Now, catalog: CatalogDep
    ) -> schemas.NotifyPolicy:
        """The office's reminder offsets, SMS quiet hours and queue alert threshold."""
        rules = await catalog.office(db_session, office, now=now)
        staff.require(rules.id, role="admin")
        policy, _ = await service.office_policy(db_session, office_id=rules.id)
        return _policy(policy)

    @put("/notify-policy")
    async def put_policy(
        self,
        office: FromPath[str],
        data: JSONBody[schemas.NotifyPolicy],
        staff: CurrentStaff,
        db_session: DbSession,
        now: Now,
        catalog: CatalogDep,
    ) -> schemas.NotifyPolicy:
        """Set the reminder policy (reminders planned from now on follow it)."""
        rules = await catalog.office(db_session, office, now=now)
        staff.require(rules.id, role="admin")
        policy = await service.set_policy(
            db_session,
            office_id=rules.id,
            reminder_offsets_minutes=data.reminder_offsets_minutes,
            quiet_start=data.quiet_start,
            quiet_end=data.quiet_end,
            turn_near_ahead=data.turn_near_ahead,
            catalog=catalog,
            now=now,
        )
        return _policy(policy)


__all__ = ["BookingMessagesController", "OutboxController"]
