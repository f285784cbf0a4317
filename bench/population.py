"""Bench databases: the demo Bürgeramt cloned into many offices, and bulk bookings written straight into the tables.

The bulk rows are consistent with the booking model: every booking has its booking_service rows, and every
booking that holds its time (not cancelled) claims its grid cells on one able counter in slot_claim, exactly as
`rathaus.booking._bookings._claim` would. Cells never overlap (the primary key would refuse it anyway).
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import msgspec

from rathaus.booking.availability import cells
from rathaus.offices.catalog import CatalogSnapshot
from rathaus.offices.config import Config, read_config
from rathaus.offices.rules import OfficeRules, ServiceRule
from rathaus.tokens import CODE_ALPHABET

DEMO = Path(__file__).resolve().parent.parent / "rathaus" / "demo" / "buergeramt.toml"
MEASURED_OFFICE = "mitte"

BOOKING_COLUMNS = (
    "id",
    "code",
    "office_id",
    "counter_id",
    "start_at",
    "end_at",
    "status",
    "language",
    "name",
    "email",
    "phone",
    "token_hash",
    "verification_code_hash",
    "verification_attempts",
    "hold_expires_at",
    "ical_sequence",
    "cancel_reason",
    "closure_id",
    "created_at",
    "updated_at",
    "purged_at",
)
ITEM_COLUMNS = ("booking_id", "service_id", "position")
CLAIM_COLUMNS = ("counter_id", "cell_start", "booking_id", "expires_at")
RETENTION = timedelta(days=30)


def bench_config(offices: int) -> Config:
    """The demo file's office "mitte" plus `offices - 1` clones (mitte-02 …), all with the same rules; the demo
    city's other offices, and the travel times and life events that name them, are left out."""
    demo = read_config(DEMO)
    base = next(o for o in demo.offices if o.slug == MEASURED_OFFICE)
    base = msgspec.structs.replace(base, travel_minutes={})
    clones = [
        msgspec.structs.replace(
            base,
            slug=f"{MEASURED_OFFICE}-{i:02d}",
            name={language: f"{text} {i}" for language, text in base.name.items()},
        )
        for i in range(2, offices + 1)
    ]
    return msgspec.structs.replace(demo, offices=[base, *clones], life_events=[])


@dataclass
class Batch:
    """Rows for the three tables, as Python values (aware UTC datetimes)."""

    bookings: list[tuple[object, ...]] = field(default_factory=list)
    items: list[tuple[object, ...]] = field(default_factory=list)
    claims: list[tuple[object, ...]] = field(default_factory=list)


def _code(n: int) -> str:
    digits = []
    for _ in range(8):
        n, r = divmod(n, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[r])
    return "".join(reversed(digits))


def generate(
    snapshot: CatalogSnapshot,
    *,
    total: int,
    now: datetime,
    first_id: int,
    batch_size: int = 50_000,
    seed: int = 7,
) -> Iterator[Batch]:
    """`total` bookings over every office, from the end of the booking horizon backwards day by day.

    Days ahead are filled to about half (the future is still being booked), past days to about 80 %;
    ~8 % of bookings are cancelled (rows without claims); past bookings are completed or no-shows, and those
    older than the retention period have their personal data purged, as the purge job would leave them.
    """
    rng = random.Random(seed)
    offices = sorted(snapshot.offices.values(), key=lambda o: o.id)
    online = [s for s in snapshot.services_by_id.values() if s.bookable_online]
    today = offices[0].local_day(now)
    horizon_end = today + offices[0].horizon
    day = horizon_end
    next_id = first_id
    made = 0
    batch = Batch()
    while made < total:
        for office in offices:
            for booking in _office_day(rng, office, online, day, now=now, today=today):
                if made >= total:
                    break
                booking_id = next_id
                next_id += 1
                made += 1
                _add(batch, booking_id, office, booking, now=now)
                if len(batch.bookings) >= batch_size:
                    yield batch
                    batch = Batch()
        day -= timedelta(days=1)
    if batch.bookings:
        yield batch


@dataclass(frozen=True, slots=True)
class _Planned:
    counter_id: int
    start: datetime
    service: ServiceRule
    claimed: tuple[datetime, ...]  # empty for a cancelled booking
    status: str


def _office_day(
    rng: random.Random, office: OfficeRules, online: list[ServiceRule], day: date, *, now: datetime, today: date
) -> Iterator[_Planned]:
    intervals = office.open_intervals(day)
    if not intervals or office.closures_between(intervals[0][0], intervals[-1][1]):
        return
    future = day >= today
    fill = 0.5 if future else 0.8
    for counter in office.counters:
        if counter.walk_in_only:
            continue
        served = [s for s in online if s.id in counter.services]
        for opens, closes in intervals:
            cell = opens
            while cell < closes:
                fitting = [s for s in served if cell + s.duration <= closes]
                if not fitting or rng.random() >= fill:
                    cell += office.slot
                    continue
                service = rng.choice(fitting)
                needed = tuple(cells(cell, service.duration + office.buffer, office.slot))
                roll = rng.random()
                if roll < 0.08:
                    yield _Planned(counter.id, cell, service, (), "cancelled")
                    cell += office.slot
                    continue
                status = "confirmed" if cell + service.duration > now else ("no_show" if roll < 0.13 else "completed")
                yield _Planned(counter.id, cell, service, needed, status)
                cell += office.slot * len(needed)


def _add(batch: Batch, booking_id: int, office: OfficeRules, p: _Planned, *, now: datetime) -> None:
    created = min(now, p.start) - timedelta(days=3)
    end = p.start + p.service.duration
    purged = end + RETENTION if end + RETENTION < now else None
    name, email = (None, None) if purged else (f"Bench Citizen {booking_id}", f"citizen{booking_id}@example.org")
    batch.bookings.append(
        (
            booking_id,
            _code(booking_id),
            office.id,
            p.counter_id,
            p.start,
            end,
            p.status,
            "de",
            name,
            email,
            None,
            hashlib.sha256(b"bench-%d" % booking_id).hexdigest(),
            None,
            0,
            None,
            1 if p.status == "cancelled" else 0,
            "citizen" if p.status == "cancelled" else None,
            None,
            created,
            created,
            purged,
        )
    )
    batch.items.append((booking_id, p.service.id, 0))
    batch.claims.extend((p.counter_id, c, booking_id, None) for c in p.claimed)


# --- writers ---------------------------------------------------------------------------------------------


def _sqlite_value(value: object) -> object:
    # SQLAlchemy's SQLite DATETIME storage format (naive UTC), which the app's queries compare as text.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def write_sqlite(path: Path, batches: Iterator[Batch]) -> int:
    """Insert every batch with executemany in one transaction; returns the number of bookings."""
    conn = sqlite3.connect(path, isolation_level=None)
    count = 0
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN IMMEDIATE")
        for batch in batches:
            for table, columns, rows in (
                ("booking", BOOKING_COLUMNS, batch.bookings),
                ("booking_service", ITEM_COLUMNS, batch.items),
                ("slot_claim", CLAIM_COLUMNS, batch.claims),
            ):
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                conn.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in rows])
            count += len(batch.bookings)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return count


async def write_postgres(dsn: str, batches: Iterator[Batch]) -> int:
    """COPY every batch in one transaction, move the id sequence past the new rows, ANALYZE; returns the count."""
    conn = await asyncpg.connect(dsn)
    count = 0
    try:
        async with conn.transaction():
            for batch in batches:
                await conn.copy_records_to_table("booking", records=batch.bookings, columns=BOOKING_COLUMNS)
                await conn.copy_records_to_table("booking_service", records=batch.items, columns=ITEM_COLUMNS)
                await conn.copy_records_to_table("slot_claim", records=batch.claims, columns=CLAIM_COLUMNS)
                count += len(batch.bookings)
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence('booking', 'id'), (SELECT COALESCE(max(id), 1) FROM booking))"
            )
        # What autovacuum does on its own after a bulk load; without it the planner guesses from an empty table.
        await conn.execute("ANALYZE booking; ANALYZE booking_service; ANALYZE slot_claim")
    finally:
        await conn.close()
    return count
