"""A new booking is written by few statements, issued back to back, and reads as if it had been loaded."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import tokens
from rathaus.booking import service
from rathaus.booking.deps import booking_context
from rathaus.booking.models import Booking, BookingEvent, BookingService, SlotClaim
from rathaus.errors import RathausError
from rathaus.notify.models import OutboxMessage
from tests.conftest import Harness
from tests.factories import make_config

pytestmark = pytest.mark.anyio
NINE = datetime.fromisoformat("2027-01-11T09:00:00+01:00")
TWO_COUNTERS = [{"name": "Counter 1", "services": ["a", "b"]}, {"name": "Counter 2", "services": ["a", "b"]}]


async def book_in(session: AsyncSession, harness: Harness, start: datetime, email: str) -> service.BookingView:
    request = service.BookingRequest(office="amt", services=["b"], start=start, name="Erika", email=email)
    ctx = booking_context(harness.runtime)
    return await service.book(session, ctx=ctx, request=request, idempotency_key=None, now=harness.clock.now())


async def book(harness: Harness, start: datetime, email: str) -> tuple[service.BookingView, list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(harness.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with harness.session() as session:
            view = await book_in(session, harness, start, email)
            await session.commit()
    finally:
        event.remove(harness.engine.sync_engine, "before_cursor_execute", record)
    return view, sent


async def test_booking_rows_are_written_without_reading_claims_first(harness: Harness) -> None:
    await harness.load(make_config(counters=TWO_COUNTERS))
    view, sent = await book(harness, NINE, "erika@example.org")

    writes = [s for s in sent if s.startswith(("WITH", "INSERT"))]
    if harness.engine.dialect.name == "postgresql":
        assert len(writes) == 1 and writes[0].startswith("WITH b AS (INSERT INTO booking")  # one round trip
    else:
        # The booking's INSERTs run in one call on aiosqlite's thread, past SQLAlchemy's cursor (rows below).
        assert writes == []
    assert not any("FROM slot_claim WHERE" in s for s in sent if s.startswith("SELECT"))
    assert not any(s.startswith("SAVEPOINT") for s in sent)  # the operation opened the transaction itself
    # The booking reads as if loaded: its services without a query, and what the statements wrote.
    assert [item.service_id for item in view.booking.items] == [2]
    async with harness.session() as s:
        claims = (await s.execute(select(SlotClaim.counter_id, SlotClaim.booking_id))).all()
        events = (await s.execute(select(BookingEvent.action, BookingEvent.actor, BookingEvent.to_status))).all()
        items = (await s.execute(select(BookingService.service_id, BookingService.position))).all()
    assert claims == [(view.booking.counter_id, view.booking.id)] * 2  # 30 minutes: two cells on one counter
    assert events == [("booking.created", "citizen", "confirmed")]
    assert items == [(2, 0)]


async def test_the_counter_is_chosen_in_the_insert_skipping_a_busy_one(harness: Harness) -> None:
    await harness.load(make_config(counters=TWO_COUNTERS))
    first, _ = await book(harness, NINE, "erika@example.org")
    second, _ = await book(harness, NINE, "max@example.org")
    assert {first.booking.counter_id, second.booking.counter_id} == {1, 2}
    with pytest.raises(RathausError) as full:
        await book(harness, NINE, "third@example.org")
    assert full.value.code == "slot_taken"


async def test_the_booking_begins_its_transaction_with_its_own_statements(harness: Harness) -> None:
    # On SQLite the BEGIN IMMEDIATE goes in the same call on aiosqlite's thread as the INSERTs (not through
    # SQLAlchemy's cursor); asyncpg's BEGIN is never a cursor statement. A booking that fails after it undoes all.
    await harness.load(make_config(counters=TWO_COUNTERS))
    await book(harness, NINE, "erika@example.org")  # the first booking may read the catalogue, which begins it
    _, sent = await book(harness, NINE, "max@example.org")
    assert not any(s.startswith("BEGIN") for s in sent)
    with pytest.raises(RathausError):
        await book(harness, NINE, "third@example.org")
    async with harness.session() as s:
        assert len((await s.scalars(select(BookingEvent.id))).all()) == 2
        assert len((await s.scalars(select(OutboxMessage.id))).all()) == 2


async def test_the_reactions_to_a_new_booking_read_nothing(harness: Harness) -> None:
    # The waiting list's question is asked in the booking's own statement; notify's policy and time zone come
    # with the catalogue; the outbox rows (confirmation and two reminders) are written by the booking's statement.
    await harness.load(make_config(counters=TWO_COUNTERS))
    tomorrow = NINE + timedelta(days=1)  # both reminders (a day and two hours ahead) are still to come
    await book(harness, tomorrow, "erika@example.org")  # the first booking may read the policies
    view, sent = await book(harness, tomorrow, "max@example.org")
    assert [s for s in sent if s.startswith("SELECT")] == []
    assert [s for s in sent if s.startswith("INSERT INTO outbox")] == []
    async with harness.session() as s:
        rows = (
            await s.execute(
                select(OutboxMessage.kind, OutboxMessage.dedupe_key, OutboxMessage.booking_id, OutboxMessage.payload)
                .where(OutboxMessage.booking_id == view.booking.id)
                .order_by(OutboxMessage.id)
            )
        ).all()
    booking_id = view.booking.id
    assert [(kind, key, b) for kind, key, b, _ in rows] == [
        ("confirmation", f"confirmation:{booking_id}:0:email", booking_id),
        ("reminder", f"reminder:{booking_id}:0:email:1440", booking_id),
        ("reminder", f"reminder:{booking_id}:0:email:120", booking_id),
    ]
    assert rows[1].payload["offset_minutes"] == 1440 and "sealed_manage_token" in rows[1].payload


async def test_a_taken_code_writes_no_message_and_the_next_code_writes_them_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # notify's rows go with the booking's statement: a drawn code that is taken writes no booking, so no rows.
    await harness.load(make_config(counters=TWO_COUNTERS))
    first, _ = await book(harness, NINE, "erika@example.org")
    codes = iter([first.booking.code, "NEWCODE2"])
    monkeypatch.setattr(tokens, "new_code", lambda: next(codes))
    second, _ = await book(harness, NINE, "max@example.org")
    assert second.booking.code == "NEWCODE2"
    async with harness.session() as s:
        keys = (await s.scalars(select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id))).all()
    assert keys == [f"confirmation:{first.booking.id}:0:email", f"confirmation:{second.booking.id}:0:email"]


async def test_the_new_booking_is_in_the_session_as_if_loaded(harness: Harness) -> None:
    # Its objects are filled from the values written, without their constructors: the session holds them as loaded,
    # unchanged, with every column as a query reads it back.
    await harness.load(make_config(counters=TWO_COUNTERS))
    async with harness.session() as session:
        booking = (await book_in(session, harness, NINE, "erika@example.org")).booking
        state = inspect(booking)
        assert state.persistent and not state.modified and state.key == (Booking, (booking.id,), None)
        assert [inspect(item).persistent and not inspect(item).modified for item in booking.items] == [True]
        assert not session.new and not session.dirty
        written = {column.key: getattr(booking, column.key) for column in Booking.__table__.columns}
        await session.commit()
    async with harness.session() as s:
        loaded = await s.get_one(Booking, booking.id)
        assert written == {column.key: getattr(loaded, column.key) for column in Booking.__table__.columns}
