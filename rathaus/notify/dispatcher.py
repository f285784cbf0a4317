"""The outbox dispatcher: claim due rows with a lease, send outside any transaction, record what happened.

1. Claim: one statement (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING`), committed at
   once, so two dispatchers never hold the same row. A dispatcher claims only what it can send in half a lease at
   the pace its provider answers (measured), so a slow provider never leaves claimed rows waiting in a queue.
2. Hold: while a pass runs, a heartbeat renews the lease of every row this dispatcher holds every quarter lease,
   so the lease can be short (seconds): a dispatcher that dies loses its rows to the others within one lease.
3. Prepare (read-only): re-check the booking is still active, expire reminders whose appointment began, skip
   opted-out numbers, render the texts.
4. Send concurrently, without a transaction open. Right before the sends one statement checks that their rows are
   still this dispatcher's and extends their leases past the provider's timeout (sends that start together share
   it): a row lost to another dispatcher is not sent, and a row being sent cannot be taken over during its send,
   even if the heartbeat stalls. E-mails reuse SMTP connections within a pass; a pass closes them when it ends.
5. Record results as they arrive, in short transactions (results that arrive together share one): sent with the
   provider's id, or retried later with exponential backoff and jitter, or dead (permanent), in which case the
   other channel is tried when the citizen gave one. Every write requires the claim to still be this dispatcher's.
6. Stop (SIGTERM, app shutdown): claim nothing more, let the sends already on the wire finish within the grace,
   and hand the rows not yet sent back to the outbox at once, so the other instances send them without waiting.

What stays (and cannot be closed without the provider's help): a provider that accepted a message from a
dispatcher that died before recording it. Another dispatcher sends that message again once the lease runs out.
E-mails keep their Message-ID across attempts, so receiving systems can drop the copy; Twilio has no idempotency
key for messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import i18n
from rathaus.booking import links
from rathaus.booking import service as booking_service
from rathaus.booking.models import Booking
from rathaus.notify import service, together
from rathaus.notify.channels import Channels, OutgoingEmail, OutgoingSms, SendFailure, Sent, channels_from_settings
from rathaus.notify.models import NotifyEvent, OutboxMessage
from rathaus.notify.render import qr_png, render, when
from rathaus.offices.catalog import Catalog, CatalogSnapshot
from rathaus.tokens import unseal
from rathaus.waitlist import links as waitlist_links

if TYPE_CHECKING:
    from rathaus.runtime import Runtime
    from rathaus.settings import Settings

log = logging.getLogger("rathaus.notify")

ACTIVE_BOOKING = ("pending", "confirmed")
MAX_ATTEMPTS = 8
# Weight of the newest send in the measured pace of the providers (a moving average).
PACE_WEIGHT = 0.2
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Delay before attempt `attempts + 1`: exponential, capped, with jitter (half to full length)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(max(attempts - 1, 0), 20)))
    factor: float = (rng or random).uniform(0.5, 1.0)
    return ceiling * factor


@dataclass(frozen=True, slots=True)
class Job:
    """One claimed message, ready to send."""

    id: int
    channel: str
    attempts: int
    payload: OutgoingEmail | OutgoingSms


@dataclass(frozen=True, slots=True)
class Outcome:
    id: int
    status: str  # sent | pending (retry) | dead | withdrawn | expired
    detail: str = ""
    sent: Sent | None = None
    retry_at: datetime | None = None
    code: str = ""
    attempts: int = 0


@dataclass
class DispatchStats:
    claimed: int = 0
    released: int = 0  # claimed but handed back unsent (stopping, or a claim that could not be confirmed)
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, status: str, count: int = 1) -> None:
        """Count an outcome."""
        self.outcomes[status] = self.outcomes.get(status, 0) + count


class Confirmations:
    """Confirms claims right before their sends; the sends that ask while a confirmation runs share the next one.

    One transaction per wave of sends instead of one per send (group commit): on SQLite, whose single writer every
    confirmation queues for, this is most of what the dispatcher spends per message besides building it. A failed
    confirmation confirms nothing: those rows are handed back after the pass, not sent.
    """

    def __init__(self, confirm: Callable[[list[Job]], Awaitable[set[int]]]) -> None:
        self._confirm = confirm
        self._waiting: list[tuple[Job, asyncio.Future[bool]]] = []
        self._running: asyncio.Task[None] | None = None

    async def ask(self, job: Job) -> bool:
        """True once the row of `job` is confirmed this dispatcher's, its lease extended over the send."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((job, answer))
        if self._running is None:
            self._running = asyncio.create_task(self._run())
        return await answer

    def cancel(self) -> None:
        """Stop confirming (the sends that asked were cancelled with their pass)."""
        if self._running is not None:
            self._running.cancel()

    async def _run(self) -> None:
        batch: list[tuple[Job, asyncio.Future[bool]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    mine = await self._confirm([job for job, _ in batch])
                except Exception as error:
                    log.warning("confirming %s outbox claims failed: %s", len(batch), type(error).__name__)
                    mine = set()
                for job, answer in batch:
                    if not answer.done():
                        answer.set_result(job.id in mine)
        finally:
            self._running = None
            for _, answer in batch + self._waiting:  # cancelled with the pass: nobody waits for these any more
                answer.cancel()


class Dispatcher:
    """Sends due outbox rows; any number of these may run, in one process or many."""

    def __init__(
        self,
        runtime: Runtime,
        channels: Channels | None = None,
        *,
        worker_id: str | None = None,
        batch_size: int | None = None,
        concurrency: int | None = None,
        lease: timedelta | None = None,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.channels = channels or channels_from_settings(settings)
        # Random part: a restarted process may get the same host name and pid (pid 1 in a container) and must not
        # take its dead predecessor's claims for its own.
        self.worker_id = worker_id or f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.batch_size = batch_size or settings.notify.batch_size
        self.concurrency = concurrency or settings.notify.concurrency
        self.lease = lease or timedelta(seconds=settings.notify.lease_seconds)
        self.lanes = settings.notify.lanes
        self.lock = asyncio.Lock()
        self._gate = asyncio.Semaphore(self.concurrency)
        # Rows this dispatcher claimed and has not recorded yet.
        self._held: set[int] = set()
        # Rows whose send has begun and whose answer has not arrived: their fate is unknown until it does.
        self._on_the_wire: set[int] = set()
        self._pace: float | None = None  # seconds one send takes, a moving average
        self._stopping = False
        # The task running a pass, and the event set when the pass has ended (the task itself may loop on).
        self._pass: tuple[asyncio.Task[Any], asyncio.Event] | None = None

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called: no more claims."""
        return self._stopping

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between renewals of the held leases (a quarter lease: three may fail before a lease ends)."""
        return self.lease.total_seconds() / 4

    # --- one pass ------------------------------------------------------------------------------------

    async def dispatch(self) -> DispatchStats:
        """Send everything that is due now, batch after batch; returns counts by outcome.

        Two lanes work at once, so one prepares (renders) its next batch while the other's messages are
        on the wire; the shared semaphore bounds the connections to the providers.
        """
        stats = DispatchStats()

        async def lane() -> None:
            while not self._stopping:
                wanted = self._claim_size()
                if wanted == 0 or await self.run_batch(stats, limit=wanted) < wanted:
                    return

        async with self.lock:
            if self._stopping:
                return stats
            self._gate = asyncio.Semaphore(self.concurrency)
            task, ended = asyncio.current_task(), asyncio.Event()
            self._pass = (task, ended) if task is not None else None
            heartbeat = asyncio.create_task(self._heartbeat())
            try:
                await asyncio.gather(*(lane() for _ in range(self.lanes)))
            finally:
                heartbeat.cancel()
                try:
                    stats.released = await self._let_go()
                finally:
                    self._pass = None
                    ended.set()
                    # Nothing is due: the SMTP connections are not kept open idle (the next pass opens new ones).
                    await self._close_email()
        return stats

    async def _close_email(self) -> None:
        try:
            await self.channels.email.close()
        except Exception as error:  # a goodbye that failed leaves nothing behind to clean up
            log.warning("closing the SMTP connections failed: %s", type(error).__name__)

    async def _let_go(self) -> int:
        """After a pass: hand back the rows claimed and not sent (stopping, a lost claim, an error), forget all.

        A row whose send began without an answer stays claimed: the provider may have accepted it.
        """
        unsent = set(self._held) - self._on_the_wire
        self._held.clear()
        self._on_the_wire.clear()
        try:
            return await self.release(unsent)
        except Exception as error:  # the rows come back when their lease ends
            log.error("handing back %s outbox rows failed: %s", len(unsent), type(error).__name__)
            return 0

    def _claim_size(self) -> int:
        """How many more rows to claim: what the providers can take in half a lease at their measured pace.

        A claimed row waits for a free connection; claiming more than can be sent soon would only keep the rows
        from other dispatchers that have connections free. Before the first answer: one wave of sends per lane.
        """
        if self._pace is None:
            budget = self.concurrency * self.lanes
        else:
            waves = self.lease.total_seconds() / 2 / max(self._pace, 1e-3)
            budget = int(self.concurrency * max(waves, 1.0))
        return max(0, min(self.batch_size, budget - len(self._held)))

    async def run_batch(self, stats: DispatchStats, *, limit: int | None = None) -> int:
        """Claim (at most `limit` rows), prepare, send and record one batch; returns how many rows were claimed."""
        now = self.runtime.clock.now()
        rows = await self._claim(now, limit or self.batch_size)
        if not rows:
            return 0
        stats.claimed += len(rows)
        jobs, skipped = await self._prepare(rows, now)
        if skipped:
            await self._record(skipped)
            for outcome in skipped:
                stats.add(outcome.status)
        await self._send_all(jobs, stats)
        return len(rows)

    async def _claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        due = (
            select(OutboxMessage.id)
            .where(
                or_(
                    (OutboxMessage.status == "pending") & (OutboxMessage.due_at <= now),
                    (OutboxMessage.status == "claimed") & (OutboxMessage.lease_until < now),
                )
            )
            .order_by(OutboxMessage.priority.desc(), OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(
                status="claimed",
                claimed_by=self.worker_id,
                lease_until=now + self.lease,
                attempts=OutboxMessage.attempts + 1,
                updated_at=now,
            )
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
        async with self.runtime.session_maker() as session:
            rows = list((await session.scalars(claim)).all())
            await session.commit()
        self._held.update(row.id for row in rows)
        return rows

    # --- holding claims ------------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        """Renew the leases of the held rows every quarter lease while the pass runs."""
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.renew()
            except Exception as error:  # the next beat retries; sends stop once the confirmed lease runs short
                log.warning("renewing the outbox leases failed: %s", type(error).__name__)

    async def renew(self) -> int:
        """Extend the lease of every row this dispatcher still holds (rows lost to another are left alone)."""
        ids = sorted(self._held)
        if not ids:
            return 0
        until = self.runtime.clock.now() + self.lease
        # Rows locked right now are being confirmed or recorded by this dispatcher: skipped, not waited for (a wait
        # could deadlock with a recording transaction that locks the same rows in another order).
        mine = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.status == "claimed",
                OutboxMessage.claimed_by == self.worker_id,
            )
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(mine.scalar_subquery()))
            # Never shorten: a row on the wire holds a lease that covers its whole send.
            .values(lease_until=case((OutboxMessage.lease_until > until, OutboxMessage.lease_until), else_=until))
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        async with self.runtime.session_maker() as session:
            renewed = len((await session.scalars(statement)).all())
            await session.commit()
        return renewed

    async def _confirm(self, jobs: list[Job]) -> set[int]:
        """Right before their sends: which rows are still this dispatcher's, their lease then covering the send.

        Another dispatcher takes a row over only once its lease has ended, in the same statement that makes the row
        its own; so a row still claimed by this one is not being sent by any other, and with a lease that outlasts
        the provider's timeout it cannot be taken over while this send runs, even if heartbeats stall. The sends that
        start together are confirmed in one transaction (see `Confirmations`).
        """
        settings = self.runtime.settings
        now = self.runtime.clock.now()
        mine: set[int] = set()
        async with self.runtime.session_maker() as session:
            for channel, timeout in (("email", settings.smtp.timeout), ("sms", settings.twilio.timeout)):
                ids = sorted(job.id for job in jobs if job.channel == channel)
                if not ids:
                    continue
                statement = (
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(ids),
                        OutboxMessage.status == "claimed",
                        OutboxMessage.claimed_by == self.worker_id,
                    )
                    .values(lease_until=now + self.lease + timedelta(seconds=timeout))
                    .returning(OutboxMessage.id)
                    .execution_options(synchronize_session=False)
                )
                mine.update((await session.scalars(statement)).all())
            await session.commit()
        return mine

    async def next_look(self, *, within: float) -> float:
        """Seconds until a row becomes due or a claim (another dispatcher's) runs out, at most `within`.

        Waiting that long instead of a fixed idle time sends a dead dispatcher's rows as soon as its lease ends.
        """
        now = self.runtime.clock.now()
        statement = select(
            select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == "pending").scalar_subquery(),
            select(func.min(OutboxMessage.lease_until)).where(OutboxMessage.status == "claimed").scalar_subquery(),
        )
        async with self.runtime.read_session_maker() as session:
            moments = (await session.execute(statement)).one()
        upcoming = [float((moment - now).total_seconds()) for moment in moments if moment is not None]
        # A row due already that this pass did not get is another dispatcher's for a moment: do not spin on it.
        return max(min(0.5, within), min([within, *upcoming]))

    # --- stopping ------------------------------------------------------------------------------------

    async def stop(self, *, grace: float) -> None:
        """Claim nothing more, let sends on the wire finish within `grace` seconds, hand back the rest.

        A send still on the wire when the grace ends is cut off: its row stays claimed, since the provider may have
        accepted it, and is sent again once its lease ends (the residual window, see the module's docstring).
        """
        self._stopping = True
        if self._pass is None:
            return
        task, ended = self._pass
        try:
            await asyncio.wait_for(ended.wait(), grace)
        except TimeoutError:
            task.cancel()
            # Handing the rows back is one short statement; do not wait long for a database that does not answer.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), max(1.0, self.lease.total_seconds() / 4))

    async def release(self, ids: Iterable[int]) -> int:
        """Hand claimed rows back to the outbox, due at once, as if they had not been claimed."""
        ids = sorted(ids)
        if not ids:
            return 0
        now = self.runtime.clock.now()
        statement = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.status == "claimed",
                OutboxMessage.claimed_by == self.worker_id,
            )
            .values(
                status="pending",
                claimed_by=None,
                lease_until=None,
                attempts=case((OutboxMessage.attempts > 0, OutboxMessage.attempts - 1), else_=0),
                updated_at=now,
            )
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        async with self.runtime.session_maker() as session:
            released = len((await session.scalars(statement)).all())
            await session.commit()
        return released

    async def _prepare(self, rows: list[OutboxMessage], now: datetime) -> tuple[list[Job], list[Outcome]]:
        jobs: list[Job] = []
        skipped: list[Outcome] = []
        async with self.runtime.read_session_maker() as session:
            booking_ids = {r.booking_id for r in rows if r.booking_id is not None}
            bookings = await booking_service.bookings_by_id(session, booking_ids)
            blocked = await service.opted_out(
                session, phones=[r.recipient for r in rows if r.channel == "sms" and r.recipient]
            )
            snapshot = await self.runtime.get(Catalog).get(session, now=now) if bookings or rows else None
            parts = await booking_service.itinerary_parts(session, filter(None, map(together.itinerary_of, rows)))
        for row in rows:
            booking = bookings.get(row.booking_id) if row.booking_id else None
            reason = self._skip_reason(row, booking, blocked, now)
            group = together.group_of(row, booking, parts, snapshot)
            if reason is not None or group is None:
                status, detail = reason or ("withdrawn", together.MERGED)
                skipped.append(Outcome(row.id, status, detail, attempts=row.attempts))
                continue
            try:
                jobs.append(self._job(row, booking, snapshot, now, group))
            except Exception as error:  # a message that cannot be rendered will never be: record, do not loop
                log.error("message %s cannot be rendered: %s", row.id, type(error).__name__)
                skipped.append(Outcome(row.id, "dead", f"render failed: {type(error).__name__}", attempts=row.attempts))
        return jobs, skipped

    @staticmethod
    def _skip_reason(
        row: OutboxMessage, booking: Booking | None, blocked: set[str], now: datetime
    ) -> tuple[str, str] | None:
        if row.recipient is None:
            return "dead", "no recipient (personal data purged)"
        if row.channel == "sms" and row.recipient in blocked:
            return "dead", "recipient opted out (STOP)"
        if row.booking_id is None or row.kind in {"turn_near", "called", "test", "rating"}:
            return None
        if booking is None or booking.purged_at is not None:
            return "withdrawn", "booking no longer exists"
        if row.kind == "reminder":
            if booking.status != "confirmed":
                return "withdrawn", f"booking is {booking.status}"
            if booking.start_at <= now:
                return "expired", "appointment has begun"
        if row.kind in {"verification", "offer"} and booking.status != "pending":
            return "withdrawn", f"booking is {booking.status}"
        if row.kind in {"confirmation", "change"} and booking.status not in ACTIVE_BOOKING and booking.start_at <= now:
            return "expired", "appointment has passed"
        return None

    def _job(
        self,
        row: OutboxMessage,
        booking: Booking | None,
        snapshot: CatalogSnapshot | None,
        now: datetime,
        group: list[Booking],
    ) -> Job:
        settings = self.runtime.settings
        context, ics = message_context(row, booking, snapshot, settings=settings, group=group)
        rendered = render(row.kind, row.language, context)
        recipient = row.recipient or ""
        if row.channel == "sms":
            return Job(row.id, "sms", row.attempts, OutgoingSms(row.id, recipient, rendered.sms))
        qr = qr_png(booking.code) if context.get("qr_cid") and booking is not None else None
        email = OutgoingEmail(
            outbox_id=row.id,
            dedupe_key=row.dedupe_key,
            to=recipient,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            ics=ics[0] if ics else None,
            ics_method=ics[1] if ics else "REQUEST",
            qr_png=qr,
            qr_cid=str(context.get("qr_cid") or ""),
        )
        return Job(row.id, "email", row.attempts, email)

    async def _send_all(self, jobs: list[Job], stats: DispatchStats) -> None:
        if not jobs:
            return
        results: asyncio.Queue[Outcome | None] = asyncio.Queue()
        gate = self._gate
        confirmations = Confirmations(self._confirm)

        async def send(job: Job) -> None:
            async with gate:
                # Stopping: the row is handed back after the pass. Not confirmed: another dispatcher owns it.
                if self._stopping or not await confirmations.ask(job):
                    results.put_nowait(None)
                    return
                self._on_the_wire.add(job.id)
                started = time.monotonic()
                outcome = await self._send_one(job)
                self._measure(time.monotonic() - started)
            results.put_nowait(outcome)

        tasks = [asyncio.create_task(send(job)) for job in jobs]
        try:
            remaining = len(jobs)
            while remaining:
                arrived = [await results.get()]
                while not results.empty():
                    arrived.append(results.get_nowait())
                remaining -= len(arrived)
                outcomes = [outcome for outcome in arrived if outcome is not None]
                if outcomes:
                    await self._record(outcomes)
                for outcome in outcomes:
                    stats.add(outcome.status)
        finally:
            for task in tasks:
                task.cancel()
            confirmations.cancel()

    def _measure(self, seconds: float) -> None:
        self._pace = seconds if self._pace is None else (1 - PACE_WEIGHT) * self._pace + PACE_WEIGHT * seconds

    async def _send_one(self, job: Job) -> Outcome:
        now = self.runtime.clock.now()
        try:
            if isinstance(job.payload, OutgoingEmail):
                sent = await self.channels.email.send(job.payload, now=now)
            else:
                sent = await self.channels.sms.send(job.payload, now=now)
        except SendFailure as failure:
            if failure.permanent or job.attempts >= MAX_ATTEMPTS:
                detail = (
                    failure.detail if failure.permanent else f"gave up after {job.attempts} attempts: {failure.detail}"
                )
                return Outcome(job.id, "dead", detail, code=failure.code, attempts=job.attempts)
            return Outcome(
                job.id,
                "pending",
                failure.detail,
                retry_at=now + backoff(job.attempts),
                code=failure.code,
                attempts=job.attempts,
            )
        except Exception as error:  # an unexpected failure is retried like a transient one
            log.error("sending message %s failed: %s", job.id, type(error).__name__)
            return Outcome(
                job.id,
                "pending",
                f"unexpected {type(error).__name__}",
                retry_at=now + backoff(job.attempts),
                attempts=job.attempts,
            )
        return Outcome(job.id, "sent", sent=sent, attempts=job.attempts)

    async def _record(self, outcomes: list[Outcome]) -> None:
        now = self.runtime.clock.now()
        # Sent messages (the common case) are recorded with one executemany UPDATE and one INSERT of history.
        sent = [o for o in outcomes if o.status == "sent" and o.sent is not None]
        others = [o for o in outcomes if not (o.status == "sent" and o.sent is not None)]
        async with self.runtime.session_maker() as session:
            if sent:
                await self._record_sent(session, sent, now)
            for outcome in others:
                await self._record_one(session, outcome, now)
            await session.commit()
        for outcome in outcomes:
            self._held.discard(outcome.id)
            self._on_the_wire.discard(outcome.id)

    async def _record_sent(self, session: AsyncSession, outcomes: list[Outcome], now: datetime) -> None:
        table: Table = OutboxMessage.__table__  # type: ignore[assignment]  # Core executemany: no ORM bookkeeping
        await session.execute(
            update(table)
            .where(
                table.c.id == bindparam("b_id"),
                table.c.status == "claimed",
                table.c.claimed_by == self.worker_id,  # after a lost lease another worker owns the row
            )
            .values(
                status="sent",
                provider_id=bindparam("b_provider_id"),
                provider_status=bindparam("b_provider_status"),
                sent_at=now,
                updated_at=now,
                lease_until=None,
                last_error=None,
            ),
            [
                {"b_id": o.id, "b_provider_id": o.sent.provider_id, "b_provider_status": o.sent.provider_status}
                for o in outcomes
                if o.sent is not None
            ],
        )
        await session.execute(
            insert(NotifyEvent),
            [
                {
                    "outbox_id": o.id,
                    "at": now,
                    "status": "sent",
                    "provider_status": o.sent.provider_status,
                    "detail": "",
                }
                for o in outcomes
                if o.sent is not None
            ],
        )

    async def _record_one(self, session: AsyncSession, outcome: Outcome, now: datetime) -> None:
        values: dict[str, Any] = {"status": outcome.status, "updated_at": now, "lease_until": None}
        provider_status = None
        if outcome.sent is not None:
            provider_status = outcome.sent.provider_status
            values.update(
                provider_id=outcome.sent.provider_id, provider_status=provider_status, sent_at=now, last_error=None
            )
        elif outcome.status in {"pending", "dead"}:
            values["last_error"] = outcome.detail[:500]
        if outcome.retry_at is not None:
            values["due_at"] = outcome.retry_at
        # Only while this worker still holds the claim: after a lost lease another worker owns the row.
        row = (
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == outcome.id,
                    OutboxMessage.status == "claimed",
                    OutboxMessage.claimed_by == self.worker_id,
                )
                .values(**values)
                .returning(
                    OutboxMessage.kind,
                    OutboxMessage.channel,
                    OutboxMessage.booking_id,
                    OutboxMessage.dedupe_key,
                    OutboxMessage.recipient,
                    OutboxMessage.language,
                    OutboxMessage.payload,
                    OutboxMessage.office_id,
                )
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
        if row is None:
            return
        event_status = {"pending": "retry"}.get(outcome.status, outcome.status)
        session.add(
            NotifyEvent(
                outbox_id=outcome.id,
                at=now,
                status=event_status,
                provider_status=provider_status,
                detail=(outcome.detail or (outcome.sent.provider_status if outcome.sent else ""))[:300],
            )
        )
        if outcome.status == "dead" and row.channel == "sms" and outcome.code == "21610" and row.recipient:
            await service.opt_out(session, phone=row.recipient, now=now)
        if outcome.status == "dead" and row.booking_id is not None:
            await fall_back(
                session,
                outbox_id=outcome.id,
                channel=row.channel,
                kind=row.kind,
                booking_id=row.booking_id,
                dedupe_key=row.dedupe_key,
                language=row.language,
                payload=row.payload,
                now=now,
            )


async def fall_back(
    session: AsyncSession,
    *,
    outbox_id: int,
    channel: str,
    kind: str,
    booking_id: int,
    dedupe_key: str,
    language: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """After a permanent failure, send the same message on the citizen's other channel (once)."""
    if dedupe_key.endswith(":fallback"):
        return False
    booking = (await booking_service.bookings_by_id(session, [booking_id])).get(booking_id)
    if booking is None:
        return False
    other = dict(service.contacts(booking)).get("sms" if channel == "email" else "email")
    if other is None:
        return False
    statement = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == f"{dedupe_key}:fallback")
    if await session.scalar(statement) is not None:
        return False
    service.enqueue(
        session,
        kind=kind,
        channel="sms" if channel == "email" else "email",
        recipient=other,
        language=language,
        due_at=now,
        dedupe_key=f"{dedupe_key}:fallback",
        now=now,
        booking_id=booking_id,
        office_id=booking.office_id,
        payload={**payload, "fallback_of": outbox_id},
    )
    return True


def message_context(
    row: OutboxMessage,
    booking: Booking | None,
    snapshot: CatalogSnapshot | None,
    *,
    settings: Settings,
    group: Sequence[Booking] = (),
) -> tuple[dict[str, Any], tuple[bytes, str] | None]:
    """What the templates of `row.kind` need, and the calendar attachment (bytes, method) for e-mails.

    `group` holds the bookings the message speaks for, when it covers several parts of an itinerary.
    """
    context, ics = _booking_context(row, booking, snapshot, settings=settings)
    if len(group) > 1 and snapshot is not None:
        context, ics = together.context(row, group, snapshot, context, ics, settings=settings)
    return context, ics


def _booking_context(
    row: OutboxMessage, booking: Booking | None, snapshot: CatalogSnapshot | None, *, settings: Settings
) -> tuple[dict[str, Any], tuple[bytes, str] | None]:
    """What the templates need about one booking, and its calendar attachment (bytes, method) for e-mails."""
    lang = i18n.choose(row.language)
    payload = row.payload or {}
    base = settings.public_base_url.rstrip("/")
    context: dict[str, Any] = {
        "office_name": str(payload.get("office_name", "")),
        "office_address": "",
        "when": "",
        "code": "",
        "services": [],
        "bring": [],
        "manage_url": None,
        "rebook_url": base,
        "verification_code": str(payload.get("code", "")),
        "reason": str(payload.get("reason", "citizen")),
        "closure_reason": str(payload.get(f"closure_reason_{lang}", payload.get("closure_reason_de", ""))),
        "ticket": str(payload.get("ticket_number", payload.get("ticket", ""))),
        "counter": str(payload.get("counter_name", payload.get("counter", ""))),
        "ahead": payload.get("ahead"),
        "qr_cid": None,
        "public_base_url": base,
        "offer_url": None,
        "offer_expires": "",
        "mode": "on_site",
        "meeting_url": None,
        "call_number": None,
        "rating_url": _rating_url(payload, base, settings.secret_key),
    }
    sealed_offer = payload.get("sealed_offer_token")
    if isinstance(sealed_offer, str):
        offer_token = unseal(sealed_offer, settings.secret_key)
        context["offer_url"] = None if offer_token is None else waitlist_links.offer_url(base, token=offer_token)
    if booking is None or snapshot is None:
        return context, None
    office = snapshot.office_by_id(booking.office_id)
    services = [
        snapshot.services_by_id[item.service_id] for item in booking.items if item.service_id in snapshot.services_by_id
    ]
    manage_url = None
    sealed = payload.get("sealed_manage_token")
    if isinstance(sealed, str):
        token = unseal(sealed, settings.secret_key)
        if token is not None:
            manage_url = links.manage_url(base, code=booking.code, token=token)
    context.update(
        office_name=office.name.get(lang),
        office_address=str(office.extra.get("address", "")),
        when=when(booking.start_at, office.tz, lang),
        code=booking.code,
        services=[s.name.get(lang) for s in services],
        bring=[{"service": s.name.get(lang), "text": s.bring.get(lang)} for s in services if (s.bring.get(lang))],
        manage_url=manage_url if row.kind != "cancellation" else None,
        rebook_url=links.rebook_url(base, office_slug=office.slug),
        # A citizen who meets by phone or video shows no code at a desk.
        qr_cid=f"qr.{row.id}@rathaus"
        if row.kind in {"confirmation", "change", "reminder"} and booking.mode == "on_site"
        else None,
        mode=booking.mode,
        meeting_url=booking.meeting_url if row.kind != "cancellation" else None,
        call_number=booking.call_number,
    )
    expires = payload.get("offer_expires_at")
    if isinstance(expires, str):
        context["offer_expires"] = when(datetime.fromisoformat(expires), office.tz, lang)
    ics = None
    if row.channel == "email" and row.kind in {"confirmation", "change", "cancellation"}:
        method = "CANCEL" if row.kind == "cancellation" else "REQUEST"
        ics = (
            calendar_attachment(
                booking=booking,
                office=office,
                services=services,
                method=method,
                manage_url=manage_url,
                language=lang,
                public_base_url=base,
                organizer=settings.smtp.mail_from,
            ),
            method,
        )
    return context, ics


def _rating_url(payload: dict[str, Any], base: str, secret_key: str) -> str | None:
    sealed = payload.get("sealed_rating_token")
    token = unseal(sealed, secret_key) if isinstance(sealed, str) else None
    return None if token is None else f"{base}/rate/{token}"


def calendar_attachment(**kwargs: Any) -> bytes:
    """The appointment as iCalendar, built by the calendar feature (one place to switch it)."""
    from rathaus.notify.calendar.invite import booking_invitation

    return booking_invitation(**kwargs)
